#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/run_on.hpp"
#include "http/chunked_socket_writer.hpp"
#include "http/deadline_watchdog.hpp"
#include "http/stream_body.hpp"

namespace agentd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
/// Most bytes of a refused upload read (and dropped) so that its client sees the 413.
constexpr std::size_t kDiscardCap = 128 * 1024 * 1024;

namespace {

// One open connection, as seen by shutdown. Touched only on the connection's io thread.
struct Connection {
    tcp::socket* socket = nullptr;
    bool idle = true;  ///< reading a request (or waiting for one): safe to cut off at shutdown
};

using RequestParser = bhttp::request_parser<bhttp::string_body>;

/// Reads into `buffer` and feeds `parser` until its header (`header_only`) or
/// its whole message is in, with Beast's errors (`end_of_stream` for a close
/// before any byte, `partial_message` for one mid-request, the parser's limits).
/// What http::async_read does, without its composed operations: a request
/// already buffered completes without a trip through the scheduler.
awaitable<beast::error_code> read_request(tcp::socket& socket, beast::flat_buffer& buffer, RequestParser& parser,
                                          bool header_only) {
    for (;;) {
        if (header_only ? parser.is_header_done() : parser.is_done()) co_return beast::error_code{};
        if (buffer.size() != 0) {
            beast::error_code ec;
            buffer.consume(parser.put(buffer.data(), ec));
            if (!ec) continue;
            if (ec != bhttp::error::need_more) co_return ec;
        }
        const std::size_t size = beast::read_size(buffer, 65536);
        if (size == 0) co_return beast::error_code(bhttp::error::buffer_overflow);
        auto [ec, n] = co_await socket.async_read_some(buffer.prepare(size), kTuple);
        buffer.commit(n);
        if (ec == asio::error::eof) {
            if (!parser.got_some()) co_return beast::error_code(bhttp::error::end_of_stream);
            beast::error_code eof;
            parser.put_eof(eof);  // a request never ends at a close: this names what is missing
            if (!eof && !parser.is_done()) eof = bhttp::error::partial_message;
            co_return eof;
        }
        if (ec) co_return ec;
    }
}

/// What a connection waits for when its deadline passes decides how it ends.
enum class Waiting {
    kRequest,   ///< a request (or the rest of its headers): closed
    kBody,      ///< the rest of a request's body: a 408, then closed
    kResponse,  ///< the client to take the response: reset, so the kernel drops what it still holds
};

/// Writes `buffers` whole: first straight to the socket, which takes a small
/// response at once (no completion to wait for, no deadline to set), and only
/// what it did not take through an asynchronous write under `deadline`.
template <class Buffers>
awaitable<beast::error_code> write_all(tcp::socket& socket, const Buffers& buffers, DeadlineWatchdog& deadline,
                                       std::chrono::seconds timeout, Waiting& waiting) {
    beast::error_code ec;
    const std::size_t sent = socket.write_some(buffers, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
    beast::buffers_suffix<Buffers> rest(buffers);
    rest.consume(ec ? 0 : sent);
    if (beast::buffer_bytes(rest) == 0) co_return beast::error_code{};
    deadline.expires_after(timeout);
    waiting = Waiting::kResponse;
    auto [wec, wn] = co_await asio::async_write(socket, rest, kTuple);
    waiting = Waiting::kRequest;
    deadline.expires_never();
    co_return wec;
}

/// Shared by a streamed response and its close-watching read.
struct CloseWatch {
    bool closed = false;               ///< the client closed, reset, or shutdown cancelled the read
    bool done = false;                 ///< the response ended: the socket may be gone, never read again
    std::shared_ptr<StreamBody> body;  ///< cancelled on close; released when the response ends
    char buffer[512];
};

/// Marks the response ended on every way out of write_stream; after it no
/// direct write touches the socket, which the connection is about to close.
struct EndWatch {
    CloseWatch& watch;
    ChunkedSocketWriter* writer;
    ~EndWatch() {
        if (writer) writer->close();
        watch.done = true;
        watch.body.reset();
    }
};

/// Waits until the socket has taken everything the writer holds. False when the
/// connection failed or the wait was cancelled (the client left, shutdown).
awaitable<bool> drain(tcp::socket& socket, ChunkedSocketWriter& writer) {
    while (writer.pending()) {
        auto [ec] = co_await socket.async_wait(tcp::socket::wait_write, kTuple);
        if (ec) co_return false;
        writer.flush();
    }
    co_return !writer.failed();
}

/// Reads (and drops) whatever a streaming client sends until its end closes or
/// the read is cancelled, then cancels the body so a waiting next() returns.
awaitable<void> watch_close(tcp::socket& socket, std::shared_ptr<CloseWatch> watch) {
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(watch->buffer), kTuple);
        if (watch->done) co_return;
        if (!ec) continue;  // a client writing on an event stream: ignore it
        watch->closed = true;
        if (watch->body) watch->body->cancel();
        co_return;
    }
}

std::string reason_json(int status) {
    switch (status) {
        case 413: return R"({"detail":"Request body too large"})";
        case 431: return R"({"detail":"Request header fields too large"})";
        case 408: return R"({"detail":"Request timeout"})";
        default: return R"({"detail":"Bad Request"})";
    }
}

}  // namespace

/// One io_context per io thread, each run by its own thread alone. A context
/// shared by several threads hands every ready socket from the thread that
/// polled it to an idle one through a futex: on a small VM that cost /health a
/// quarter of its throughput and gave it a 77 ms p99. Here a connection stays on
/// the thread that accepted it into its context, and only work that crosses
/// threads on purpose (the blocking pool, a run publishing to another
/// connection's stream) pays for a wake-up.
std::vector<std::unique_ptr<asio::io_context>> make_contexts(std::size_t n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (std::size_t i = 0; i < std::max<std::size_t>(1, n); ++i)
        out.push_back(std::make_unique<asio::io_context>(1));  // hint: one thread runs it
    return out;
}

struct Server::Impl {
    ServerOptions opts;
    const Router& router;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    // The first context also runs the acceptor, signals and shutdown timers.
    asio::io_context& ioc;
    // Keep the other contexts running while they have no connection.
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards;
    std::atomic<std::size_t> next_context{0};
    asio::thread_pool blocking;
    // The acceptor lives on a strand: shutdown closes it from the signal handler,
    // which may run on another io thread than the accept loop.
    asio::strand<asio::io_context::executor_type> accept_strand{ioc.get_executor()};
    tcp::acceptor acceptor{accept_strand};
    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> next_request{0};
    std::atomic<std::uint64_t> next_conn{0};
    std::mutex conns_mutex;  // guards conns
    std::unordered_map<std::uint64_t, std::pair<asio::any_io_executor, std::shared_ptr<Connection>>> conns;
    unsigned short port = 0;

    Impl(ServerOptions o, const Router& r)
        : opts(std::move(o)),
          router(r),
          contexts(make_contexts(opts.io_threads)),
          ioc(*contexts.front()),
          blocking(opts.blocking_threads) {
        for (std::size_t i = 1; i < contexts.size(); ++i) idle_guards.push_back(asio::make_work_guard(*contexts[i]));
    }

    /// The contexts in turn: where the next connection (or run) goes.
    asio::io_context& pick_context() {
        return *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
    }

    void stop_all() {
        for (auto& c : contexts) c->stop();
    }

    Request to_request(bhttp::request<bhttp::string_body>& req) {
        Request out;
        out.method = std::string(req.method_string());
        out.target = std::string(req.target());
        auto q = out.target.find('?');
        std::string raw_path = out.target.substr(0, q);
        if (q != std::string::npos) out.raw_query = out.target.substr(q + 1);
        auto decoded = decode_path(raw_path);
        out.path = decoded ? *decoded : raw_path;
        out.query = parse_query(out.raw_query);
        for (const auto& f : req) {
            std::string name(f.name_string());
            for (auto& c : name)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // field names are ASCII tokens
            out.headers.emplace(name, std::string(f.value()));  // a repeat keeps the first
        }
        out.body = std::move(req.body());
        // 16 hex digits of the request counter.
        out.request_id.assign(16, '0');
        for (std::uint64_t n = ++next_request, i = 16; n != 0 && i > 0; n >>= 4)
            out.request_id[--i] = "0123456789abcdef"[n & 0xf];
        return out;
    }

    /// The status line and header block of `r`, the bytes Beast's serializer
    /// wrote for it with keep_alive(keep): `Server`, `Content-Type`,
    /// the route's headers (a later one replacing an earlier one of the same
    /// name), `Content-Length` of the whole body (also for HEAD, 204 and 304),
    /// then `Connection` as the version needs it. Built as one string and sent
    /// with the body in one gather write: the serializer's buffer sequences cost
    /// more than the rest of a small response's handling.
    static std::string response_head(const Response& r, unsigned version, bool keep, std::size_t body_size) {
        std::vector<std::pair<std::string_view, std::string_view>> fields;
        fields.reserve(r.headers.size() + 3);
        auto set = [&fields](std::string_view name, std::string_view value) {
            std::erase_if(fields, [name](const auto& f) { return beast::iequals(f.first, name); });
            fields.emplace_back(name, value);
        };
        set("Server", "agentd");
        if (!r.content_type.empty()) set("Content-Type", r.content_type);
        for (const auto& [k, v] : r.headers) set(k, v);
        const std::string length = std::to_string(body_size);
        set("Content-Length", length);
        std::erase_if(fields, [](const auto& f) { return beast::iequals(f.first, "connection"); });
        if (version >= 11 && !keep) fields.emplace_back("Connection", "close");
        if (version < 11 && keep) fields.emplace_back("Connection", "keep-alive");

        std::string head;
        head.reserve(128 + 64 * fields.size());
        head += version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ";
        head += std::to_string(r.status);
        head += ' ';
        head += bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
        head += "\r\n";
        for (const auto& [name, value] : fields) {
            head += name;
            head += ": ";
            head += value;
            head += "\r\n";
        }
        head += "\r\n";
        return head;
    }

    /// The bytes of an error answer after which the connection closes. It
    /// carries the CORS headers a route's answer would: without them a browser
    /// reports a refused upload as an unreachable server instead of the 413.
    std::string error_response(int status, const std::string* origin = nullptr) const {
        Response r = Response::json_text(status, reason_json(status));
        router.apply_cors(origin, r);
        const std::string_view body = r.body_view();
        return response_head(r, 11, /*keep=*/false, body.size()) + std::string(body);
    }

    /// An answer before any route saw the request.
    awaitable<void> write_error(tcp::socket& socket, DeadlineWatchdog& deadline, Waiting& waiting, int status,
                                const std::string* origin = nullptr) {
        const std::string out = error_response(status, origin);
        const asio::const_buffer bytes = asio::buffer(out);
        co_await write_all(socket, bytes, deadline, std::chrono::seconds(5), waiting);
    }

    /// After refusing a body as too large: reads and drops what the client is
    /// still sending, up to `cap` bytes and for at most 10 s, so that it finishes
    /// its upload and reads the answer. Closing at once would reset the
    /// connection under it, and a browser then shows no answer at all.
    static awaitable<void> discard_upload(tcp::socket& socket, DeadlineWatchdog& deadline, std::size_t cap) {
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        deadline.expires_after(std::chrono::seconds(10));  // then the watchdog closes the socket
        std::array<char, 16384> sink;
        for (std::size_t total = 0; total < cap;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), kTuple);
            if (ec) break;
            total += n;
        }
        deadline.expires_never();
    }

    /// The request's Origin, from what was parsed of it (Beast refuses a too
    /// large Content-Length before it calls the header done).
    static const std::string* origin_of(const RequestParser& parser, std::string& holder) {
        auto it = parser.get().find(bhttp::field::origin);
        if (it == parser.get().end()) return nullptr;
        holder = std::string(it->value());
        return &holder;
    }

    awaitable<Response> dispatch(const Request& req) {
        auto resolution = router.resolve(req);
        if (!resolution.route || !resolution.route->blocking) co_return router.invoke(resolution, req);
        if (auto fast = router.try_fast(resolution, req)) co_return std::move(*fast);
        // Storage and other blocking work runs on the pool, never on an io thread.
        auto call = [this, &resolution, &req] { return router.invoke(resolution, req); };
        co_return co_await run_on(blocking, call);
    }

    /// Sends a streamed response: headers, then each piece as a chunk. Returns
    /// when the source ends, the client disconnects, or the server stops.
    awaitable<void> write_stream(tcp::socket& socket, const Response& resp, unsigned version,
                                 const std::shared_ptr<Connection>& conn) {
        std::string head = "HTTP/1." + std::to_string(version % 10) + " " + std::to_string(resp.status) + " " +
                           std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(resp.status))) +
                           "\r\nServer: agentd\r\n";
        if (!resp.content_type.empty()) head += "Content-Type: " + resp.content_type + "\r\n";
        // A body of known length (a file download) goes out raw after its
        // Content-Length; everything else is chunked.
        bool sized = false;
        for (const auto& [k, v] : resp.headers) {
            head += k + ": " + v + "\r\n";
            if (beast::iequals(k, "content-length")) sized = true;
        }
        head += sized ? "Connection: close\r\n\r\n" : "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(head), kTuple);
        if (ec) co_return;
        conn->idle = true;  // a stream is cut off at shutdown like an idle connection
        // One read stays pending for the whole response and notices the client
        // closing (or shutdown cancelling it); re-arming a read per piece cost
        // more than the write itself on a stream with many subscribers.
        auto watch = std::make_shared<CloseWatch>();
        watch->body = resp.stream;
        asio::co_spawn(socket.get_executor(), watch_close(socket, watch), asio::detached);
        // Chunks go through one writer, which the body may also use directly
        // from a publisher's thread; a sized body (a download) is written here.
        std::shared_ptr<ChunkedSocketWriter> writer;
        if (!sized) {
            writer = std::make_shared<ChunkedSocketWriter>(socket.native_handle());
            resp.stream->attach_direct_writer(writer);
        }
        EndWatch end_watch{*watch, writer.get()};
        for (;;) {
            auto piece = co_await resp.stream->next();
            if (!piece || watch->closed) break;
            if (sized) {
                if (piece->empty()) continue;
                auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(*piece), kTuple);
                if (wec || stopping) break;
                continue;
            }
            // Most frames fit the socket buffer: one non-blocking send, no
            // completion round trip through the scheduler. The rest (a slow
            // reader) waits until the socket is writable. An empty piece only
            // finishes what a direct write left.
            if (!piece->empty()) writer->send(*piece);
            if (!co_await drain(socket, *writer) || stopping) break;
        }
        // A short sized body shows as truncated; a stream ended by shutdown still gets its last chunk.
        if (sized || (watch->closed && !stopping) || writer->failed()) co_return;
        writer->close();
        auto [fec, fn] = co_await asio::async_write(socket, asio::buffer("0\r\n\r\n", 5), kTuple);
        (void)fec;
    }

    awaitable<void> serve(tcp::socket socket) {
        // Responses are first written straight to the socket (write_all), and a
        // stream's chunks from other threads too (ChunkedSocketWriter): a connection
        // that cannot be non-blocking is not served.
        beast::error_code nb;
        socket.non_blocking(true, nb);
        if (nb) co_return;
        auto conn = std::make_shared<Connection>();
        conn->socket = &socket;
        auto id = ++next_conn;
        {
            std::lock_guard lock(conns_mutex);
            conns.emplace(id, std::make_pair(socket.get_executor(), conn));
        }
        // A client too slow with its request or with taking its response is cut off.
        Waiting waiting = Waiting::kRequest;
        DeadlineWatchdog deadline(socket.get_executor(), [this, &socket, &waiting] {
            beast::error_code ignored;
            if (waiting == Waiting::kBody) {
                const std::string out = error_response(408);
                socket.write_some(asio::buffer(out), ignored);
                socket.shutdown(tcp::socket::shutdown_send, ignored);
            } else if (waiting == Waiting::kResponse) {
                socket.set_option(asio::socket_base::linger(true, 0), ignored);
            }
            socket.close(ignored);
        });
        beast::flat_buffer buffer;
        bool first = true;
        while (!stopping) {
            conn->idle = true;
            RequestParser parser;
            parser.header_limit(static_cast<std::uint32_t>(opts.header_limit));
            parser.body_limit(opts.body_limit);
            deadline.expires_after(first ? opts.request_timeout : opts.idle_timeout);
            first = false;
            auto ec = co_await read_request(socket, buffer, parser, /*header_only=*/true);
            if (deadline.expired()) break;
            if (ec == bhttp::error::header_limit) {
                co_await write_error(socket, deadline, waiting, 431);
                break;
            }
            std::string origin;
            if (ec == bhttp::error::body_limit) {  // Content-Length alone is over the limit
                co_await write_error(socket, deadline, waiting, 413, origin_of(parser, origin));
                co_await discard_upload(socket, deadline, kDiscardCap);
                break;
            }
            if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
                ec == asio::error::connection_reset || ec == asio::error::eof)
                break;
            if (ec) {
                co_await write_error(socket, deadline, waiting, 400, origin_of(parser, origin));
                break;
            }
            auto& header = parser.get();
            if (auto len = parser.content_length(); len && *len > opts.body_limit) {
                co_await write_error(socket, deadline, waiting, 413, origin_of(parser, origin));
                co_await discard_upload(socket, deadline, kDiscardCap);
                break;
            }
            if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
                const asio::const_buffer interim = asio::buffer(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"));
                const auto cec = co_await write_all(socket, interim, deadline, opts.request_timeout, waiting);
                if (cec) break;
            }
            if (!parser.is_done()) {
                deadline.expires_after(opts.request_timeout);
                waiting = Waiting::kBody;
                auto ec2 = co_await read_request(socket, buffer, parser, /*header_only=*/false);
                waiting = Waiting::kRequest;
                if (deadline.expired()) break;
                if (ec2 == bhttp::error::body_limit) {
                    co_await write_error(socket, deadline, waiting, 413, origin_of(parser, origin));
                    co_await discard_upload(socket, deadline, kDiscardCap);
                    break;
                }
                if (ec2) break;
            }
            deadline.expires_never();  // a route takes the time it takes
            conn->idle = false;        // from here on the request is in flight and may finish

            auto started = std::chrono::steady_clock::now();
            auto beast_req = parser.release();
            const bool beast_keep_alive = beast_req.keep_alive();
            const unsigned version = beast_req.version();
            Request req = to_request(beast_req);
            Response resp = co_await dispatch(req);
            resp.headers.emplace_back("x-request-id", req.request_id);
            if (resp.stream && req.method != "HEAD") {
                if (opts.access_log)
                    spdlog::info("{} {} {} {} stream opened", req.request_id, req.method, req.target, resp.status);
                co_await write_stream(socket, resp, version, conn);
                break;
            }
            const bool keep = beast_keep_alive && !stopping;
            const std::string_view body = resp.body_view();
            const std::string head = response_head(resp, version, keep, body.size());
            const std::array<asio::const_buffer, 2> out{
                asio::buffer(head), asio::buffer(req.method == "HEAD" ? std::string_view() : body)};
            auto wec = co_await write_all(socket, out, deadline, opts.request_timeout, waiting);
            if (opts.access_log) {
                auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
                spdlog::info("{} {} {} {} {}B {:.3f}ms", req.request_id, req.method, req.target, resp.status,
                             resp.body_view().size(), static_cast<double>(us) / 1000.0);
            }
            if (wec || !keep) break;
        }
        deadline.stop();
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
        // A shutdown cut-off posted to this strand may still be queued: it must
        // find no socket rather than this frame's, which is about to be freed.
        conn->socket = nullptr;
        std::lock_guard lock(conns_mutex);
        conns.erase(id);
    }

    awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(pick_context(), kTuple);
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
                spdlog::warn("accept failed: {}", ec.message());
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            auto ex = socket.get_executor();
            asio::co_spawn(ex, serve(std::move(socket)), [](std::exception_ptr e) {
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("connection failed: {}", ex.what());
                }
            });
        }
    }

    void begin_shutdown() {
        if (stopping.exchange(true)) return;
        spdlog::info("shutting down: no new connections, finishing in-flight requests");
        asio::post(accept_strand, [this] {
            beast::error_code ec;
            acceptor.close(ec);
        });
        if (opts.on_shutdown) opts.on_shutdown();
        cut_idle_connections();
        // Whatever is still busy after the grace period is cut off.
        auto timer = std::make_shared<asio::steady_timer>(ioc, opts.shutdown_grace);
        timer->async_wait([this, timer](const boost::system::error_code&) { stop_all(); });
        asio::post(ioc, [this] { maybe_finish(); });
    }

    /// Cancels what idle connections wait for (a request, or the next event of a
    /// stream). Repeated until they are gone: a connection between two reads
    /// when the cancel arrives has nothing to cancel yet.
    void cut_idle_connections() {
        std::lock_guard lock(conns_mutex);
        for (auto& [id, entry] : conns) {
            auto conn = entry.second;
            asio::post(entry.first, [conn] {
                beast::error_code ignored;
                if (conn->idle && conn->socket) conn->socket->cancel(ignored);
            });
        }
    }

    void maybe_finish() {
        cut_idle_connections();
        bool empty;
        {
            std::lock_guard lock(conns_mutex);
            empty = conns.empty();
        }
        if (empty && opts.background_idle) empty = opts.background_idle();
        if (empty) {
            stop_all();
            return;
        }
        auto t = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(20));
        t->async_wait([this, t](const boost::system::error_code&) { maybe_finish(); });
    }

    void write_port_file() {
        if (opts.port_file.empty()) return;
        std::string tmp = opts.port_file + ".tmp";
        {
            std::ofstream f(tmp);
            f << port;
        }
        std::filesystem::rename(tmp, opts.port_file);
    }
};

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() = default;

unsigned short Server::bound_port() const { return impl_->port; }
asio::any_io_executor Server::io_executor() { return impl_->ioc.get_executor(); }
asio::any_io_executor Server::next_io_executor() { return impl_->pick_context().get_executor(); }
asio::thread_pool& Server::blocking_pool() { return impl_->blocking; }

void Server::stop() {
    asio::post(impl_->ioc, [this] { impl_->begin_shutdown(); });
}

void Server::run() {
    auto& d = *impl_;
    tcp::endpoint ep(asio::ip::make_address(d.opts.host), d.opts.port);
    d.acceptor.open(ep.protocol());
    d.acceptor.set_option(asio::socket_base::reuse_address(true));
    d.acceptor.bind(ep);
    d.acceptor.listen(asio::socket_base::max_listen_connections);
    d.port = d.acceptor.local_endpoint().port();
    d.signals.async_wait([&d](const boost::system::error_code& ec, int) {
        if (!ec) d.begin_shutdown();
    });
    asio::co_spawn(d.accept_strand, d.accept_loop(), asio::detached);
    spdlog::info("agentd listening on http://{}:{}", d.opts.host, d.port);
    d.write_port_file();

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < d.contexts.size(); ++i)
        threads.emplace_back([&c = *d.contexts[i]] { c.run(); });
    d.ioc.run();
    for (auto& t : threads) t.join();
    d.blocking.join();
    spdlog::info("agentd stopped");
}

}  // namespace agentd::http
