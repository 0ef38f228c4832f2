#include "net/http_client.hpp"

#include <map>
#include <mutex>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <unordered_map>

namespace agentd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Kind = TransportError::Kind;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::string_view kUserAgent = "agentd";
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_ip_literal(const std::string& host) {
    beast::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

/// host[:port] as it appears in Host, CONNECT and absolute-form targets.
std::string authority(const std::string& host, std::uint16_t port, bool with_port) {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (with_port) out += ":" + std::to_string(port);
    return out;
}

/// Where a request goes: the parts of its http(s) URL that matter on the wire.
struct Target {
    bool tls = false;
    std::string scheme;  ///< "http" or "https"
    std::string host;    ///< IPv6 without brackets
    std::uint16_t port = 0;
    std::string path_and_query;  ///< origin-form request target, "/" at least

    bool default_port() const { return port == (tls ? 443 : 80); }
    std::string host_header() const { return authority(host, port, !default_port()); }
    std::string absolute_form() const { return scheme + "://" + host_header() + path_and_query; }
};

/// An HTTP proxy from HTTP(S)_PROXY: plain HTTP to the proxy itself.
struct Proxy {
    std::string host;
    std::uint16_t port = 80;
    std::string authorization;  ///< "Basic ..." when the URL had userinfo
};

/// 1..65535; url_view::port_number() would wrap larger numbers silently.
std::optional<std::uint16_t> parse_port(std::string_view digits) {
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

std::optional<Target> parse_target(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return std::nullopt;
    const boost::urls::url_view& u = *parsed;
    Target t;
    t.scheme = lower(u.scheme());
    if (t.scheme != "http" && t.scheme != "https") return std::nullopt;
    t.tls = t.scheme == "https";
    if (!u.has_authority()) return std::nullopt;
    t.host = lower(u.host_address());
    if (t.host.empty()) return std::nullopt;
    t.port = t.tls ? 443 : 80;
    if (u.has_port() && !u.port().empty()) {
        auto port = parse_port(u.port());
        if (!port) return std::nullopt;
        t.port = *port;
    }
    t.path_and_query = std::string(u.encoded_path());
    if (t.path_and_query.empty()) t.path_and_query = "/";
    if (u.has_query()) t.path_and_query += "?" + std::string(u.encoded_query());
    return t;
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

/// Parses HTTP(S)_PROXY's value: "http://[user:pass@]host[:port]" or a bare "host:port".
Proxy parse_proxy(const std::string& value) {
    std::string url = value.find("://") == std::string::npos ? "http://" + value : value;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || lower(parsed->scheme()) != "http" || parsed->host_address().empty())
        throw TransportError(
            Kind::kConnect,
            "unsupported proxy setting (only http:// proxies are supported): " +
                std::string(parsed && parsed->has_userinfo() ? "<with credentials>" : value));
    const auto& u = *parsed;
    Proxy p;
    p.host = lower(u.host_address());
    if (u.has_port() && !u.port().empty()) {
        auto port = parse_port(u.port());
        if (!port) throw TransportError(Kind::kConnect, "invalid proxy port");
        p.port = *port;
    }
    if (u.has_userinfo()) p.authorization = "Basic " + base64(u.user() + ":" + u.password());
    return p;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (c <= 32 || c >= 127 ||
            std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) !=
                std::string_view::npos)
            return false;
    return true;
}

bool is_field_value(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

/// Headers the client owns: a caller's value would contradict the framing or the hop.
bool reserved_header(const std::string& lower_name) {
    return lower_name == "host" || lower_name == "content-length" ||
           lower_name == "transfer-encoding" || lower_name == "connection" ||
           lower_name == "accept-encoding" || lower_name == "te" || lower_name == "upgrade" ||
           lower_name == "proxy-authorization" || lower_name == "proxy-connection";
}

std::string getenv_any(const char* a, const char* b) {
    for (const char* name : {a, b})
        if (const char* v = std::getenv(name); v && *v) return v;
    return {};
}

bool is_loopback(std::string_view host) {
    if (host == "localhost" || host.ends_with(".localhost")) return true;
    beast::error_code ec;
    auto addr = asio::ip::make_address(std::string(host), ec);
    return !ec && addr.is_loopback();
}

/// Strips brackets and one trailing dot, lower-cases.
std::string normal_host(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    return lower(host);
}

/// What step of the exchange failed decides the Kind of a plain I/O error.
enum class Phase { kConnect, kProxy, kHandshake, kIo };

/// One exchange's I/O objects, shared with the cancellation callback, which may run on
/// any thread: it posts to `strand`, and finds the exchange gone or still there.
/// Touched only on `strand`.
struct Exchange {
    explicit Exchange(const asio::any_io_executor& strand)
        : strand(strand), resolver(strand), transport(strand) {}

    /// Makes the pending operation, whatever it is, complete with an error now.
    void abort() {
        resolver.cancel();
        transport.close();
    }

    /// An idle kept-alive connection the server has not closed, and that holds no
    /// unread bytes. Called only while no operation is pending on it.
    bool still_open() {
        char byte;
        const ssize_t n = ::recv(transport.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    asio::any_io_executor strand;
    tcp::resolver resolver;
    beast::tcp_stream transport;
    std::optional<beast::ssl_stream<beast::tcp_stream&>> tls;
    bool resolve_timed_out = false;
    std::string peer;  ///< host:port for messages; never the URL, whose query may hold a key
};

/// A kept-alive connection that turned out closed when it was used again, before
/// any byte of the response: the request goes out once more on a new connection.
struct StaleConnection {};

class ExchangeRunner {
public:
    ExchangeRunner(ssl::context& tls_context, const HttpRequest& req, const Target& target,
                   const std::optional<Proxy>& proxy,
                   const std::function<void(const HttpResponseHead&)>& on_head,
                   const std::function<void(std::string_view)>& on_data,
                   const CancellationPtr& cancel, std::shared_ptr<Exchange> reused)
        : tls_context_(tls_context),
          req_(req),
          target_(target),
          proxy_(proxy),
          on_head_(on_head),
          on_data_(on_data),
          cancel_(cancel),
          x_(std::move(reused)),
          reused_(x_ != nullptr) {}

    /// The connection, when the exchange ended cleanly and it may carry another.
    std::shared_ptr<Exchange> reusable() const { return keep_alive_ ? x_ : nullptr; }

    awaitable<void> run() {
        auto strand = co_await asio::this_coro::executor;
        if (!x_) {
            x_ = std::make_shared<Exchange>(strand);
            x_->peer = authority(target_.host, target_.port, true);
        }
        auto registration =
            Cancellation::on_cancel(cancel_, [weak = std::weak_ptr<Exchange>(x_), strand] {
                asio::post(strand, [weak] {
                    if (auto x = weak.lock()) x->abort();
                });
            });
        throw_if_cancelled();
        if (reused_) {
            if (x_->tls) co_await exchange(*x_->tls);
            else co_await exchange(x_->transport);
            co_return;
        }

        const auto deadline = std::chrono::steady_clock::now() + req_.connect_timeout;
        const std::string& host = proxy_ ? proxy_->host : target_.host;
        const std::uint16_t port = proxy_ ? proxy_->port : target_.port;
        auto endpoints = co_await resolve(host, port, deadline);
        x_->transport.expires_at(deadline);
        auto [ec, endpoint] = co_await x_->transport.async_connect(endpoints, kTuple);
        if (ec)
            fail(Phase::kConnect, ec,
                 proxy_ ? "connect to proxy " + authority(host, port, true) : "connect");
        beast::error_code ignored;
        x_->transport.socket().set_option(tcp::no_delay(true), ignored);

        if (!target_.tls) {
            co_await exchange(x_->transport);
            co_return;
        }
        if (proxy_) co_await open_tunnel(deadline);
        auto& tls = x_->tls.emplace(x_->transport, tls_context_);
        // SNI carries host names only (RFC 6066); certificates are checked against IPs too.
        if (!is_ip_literal(target_.host))
            SSL_set_tlsext_host_name(tls.native_handle(), target_.host.c_str());
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_verify_callback(ssl::host_name_verification(target_.host));
        x_->transport.expires_at(deadline);
        auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kTuple);
        if (hec) {
            std::string what = "TLS handshake";
            if (long vr = SSL_get_verify_result(tls.native_handle()); vr != X509_V_OK)
                what += std::string(" (") + X509_verify_cert_error_string(vr) + ")";
            fail(Phase::kHandshake, hec, what);
        }
        co_await exchange(tls);
    }

private:
    void throw_if_cancelled() const {
        if (cancel_ && cancel_->requested())
            throw TransportError(Kind::kCancelled, x_->peer + ": cancelled");
    }

    [[noreturn]] void fail(Phase phase, const beast::error_code& ec,
                           const std::string& what) const {
        throw_if_cancelled();
        const std::string msg = x_->peer + ": " + what + ": " + ec.message();
        if (ec == beast::error::timeout)
            throw TransportError(Kind::kTimeout, x_->peer + ": " + what + ": timed out");
        // Aborted without our Cancellation: the caller's coroutine was cancelled (asio
        // per-operation cancellation, e.g. `stream(...) || timer`).
        if (ec == asio::error::operation_aborted) throw TransportError(Kind::kCancelled, msg);
        switch (phase) {
            case Phase::kConnect:
            case Phase::kProxy:
                throw TransportError(Kind::kConnect, msg);
            case Phase::kHandshake:
                throw TransportError(Kind::kTls, msg);
            case Phase::kIo:
                break;
        }
        if (ec == asio::error::eof || ec == asio::error::connection_reset ||
            ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
            ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
            ec == ssl::error::stream_truncated)
            throw TransportError(Kind::kReset, msg);
        if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category())
            throw TransportError(Kind::kProtocol, msg);
        if (ec.category() == asio::error::get_ssl_category()) throw TransportError(Kind::kTls, msg);
        throw TransportError(Kind::kReset, msg);
    }

    awaitable<tcp::resolver::results_type> resolve(const std::string& host, std::uint16_t port,
                                                   std::chrono::steady_clock::time_point deadline) {
        const std::string service = std::to_string(port);
        beast::error_code ec;
        auto addr = asio::ip::make_address(host, ec);
        if (!ec)
            co_return tcp::resolver::results_type::create(tcp::endpoint(addr, port), host, service);

        // getaddrinfo cannot be interrupted; cancelling the resolver abandons it instead.
        asio::steady_timer timer(x_->strand, deadline);
        timer.async_wait([x = x_](const beast::error_code& e) {
            if (e) return;
            x->resolve_timed_out = true;
            x->resolver.cancel();
        });
        auto [rec, results] = co_await x_->resolver.async_resolve(
            host, service, tcp::resolver::numeric_service, kTuple);
        timer.cancel();
        if (rec && x_->resolve_timed_out)
            fail(Phase::kConnect, beast::error::timeout, "resolve " + host);
        if (rec) fail(Phase::kConnect, rec, "resolve " + host);
        if (results.empty()) fail(Phase::kConnect, asio::error::host_not_found, "resolve " + host);
        co_return results;
    }

    /// CONNECT host:port through the proxy; afterwards x_->transport is a raw pipe to the origin.
    awaitable<void> open_tunnel(std::chrono::steady_clock::time_point deadline) {
        const std::string target = authority(target_.host, target_.port, true);
        bhttp::request<bhttp::empty_body> msg{bhttp::verb::connect, target, 11};
        msg.set(bhttp::field::host, target);
        msg.set(bhttp::field::user_agent, kUserAgent);
        if (!proxy_->authorization.empty())
            msg.set(bhttp::field::proxy_authorization, proxy_->authorization);
        x_->transport.expires_at(deadline);
        auto [wec, wn] = co_await bhttp::async_write(x_->transport, msg, kTuple);
        if (wec) fail(Phase::kProxy, wec, "proxy CONNECT");

        beast::flat_buffer buffer;
        bhttp::response_parser<bhttp::empty_body> parser;
        parser.header_limit(kHeaderLimit);
        auto [rec, rn] = co_await bhttp::async_read_header(x_->transport, buffer, parser, kTuple);
        if (rec) fail(Phase::kProxy, rec, "proxy CONNECT");
        const auto& res = parser.get();
        if (res.result_int() < 200 || res.result_int() > 299)
            throw TransportError(Kind::kConnect, x_->peer + ": proxy refused CONNECT: " +
                                                     std::to_string(res.result_int()) + " " +
                                                     std::string(res.reason()));
        // The origin speaks only after our ClientHello, so nothing may follow the head.
        if (buffer.size() != 0)
            throw TransportError(Kind::kProtocol,
                                 x_->peer + ": proxy sent data after its CONNECT response");
    }

    template <class Stream>
    awaitable<void> exchange(Stream& stream) {
        co_await write_request(stream);

        beast::flat_buffer buffer;
        std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
        bool first_head = true;
        for (;;) {
            parser.emplace();
            parser->header_limit(kHeaderLimit);
            parser->body_limit(boost::none);  // fetch() applies its own limit
            if (beast::iequals(req_.method, "HEAD")) parser->skip(true);
            x_->transport.expires_after(req_.idle_timeout);
            auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, *parser, kTuple);
            // A reused connection the server closed meanwhile: nothing of a response came.
            if (ec && reused_ && first_head && buffer.size() == 0 && n == 0 && closed_by_peer(ec))
                throw StaleConnection{};
            if (ec) fail(Phase::kIo, ec, "reading response head");
            first_head = false;
            const int status = parser->get().result_int();
            if (status < 100 || status > 199 || status == 101) break;
            // An interim response (100 Continue, 103 Early Hints): the real one follows.
        }

        HttpResponseHead head;
        head.status = parser->get().result_int();
        for (const auto& f : parser->get())
            head.headers.emplace_back(lower(f.name_string()), std::string(f.value()));
        if (on_head_) on_head_(head);
        throw_if_cancelled();

        // Beast's read_some returns once it has parsed what one socket read brought, so
        // each piece reaches on_data as soon as it arrives; buffer_body hands it over
        // de-chunked.
        std::unique_ptr<char[]> chunk(new char[kReadChunk]);
        while (!parser->is_done()) {
            auto& body = parser->get().body();
            body.data = chunk.get();
            body.size = kReadChunk;
            x_->transport.expires_after(req_.idle_timeout);
            auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, *parser, kTuple);
            if (ec == bhttp::error::need_buffer) ec = {};  // chunk is full: hand it over
            if (ec) fail(Phase::kIo, ec, "reading response body");
            const std::size_t got = kReadChunk - parser->get().body().size;
            if (got != 0 && on_data_) on_data_(std::string_view(chunk.get(), got));
            throw_if_cancelled();
        }
        // The response ended by its own framing, the server keeps the connection
        // open, and nothing more was sent after it: the connection can be reused.
        keep_alive_ = parser->get().keep_alive() && !parser->get().need_eof() && buffer.size() == 0;
        if (keep_alive_) x_->transport.expires_never();
    }

    static bool closed_by_peer(const beast::error_code& ec) {
        return ec == asio::error::eof || ec == asio::error::connection_reset ||
               ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream ||
               ec == ssl::error::stream_truncated;
    }

    template <class Stream>
    awaitable<void> write_request(Stream& stream) {
        bhttp::request<bhttp::empty_body> msg;
        msg.version(11);
        if (auto verb = bhttp::string_to_verb(req_.method); verb != bhttp::verb::unknown)
            msg.method(verb);
        else
            msg.method_string(req_.method);
        const bool absolute = proxy_ && !target_.tls;  // plain http through a proxy
        msg.target(absolute ? target_.absolute_form() : target_.path_and_query);
        msg.set(bhttp::field::host, target_.host_header());
        bool has_user_agent = false;
        for (const auto& [name, value] : req_.headers) {
            const std::string lname = lower(name);
            if (reserved_header(lname)) continue;
            if (lname == "user-agent") has_user_agent = true;
            msg.insert(name, value);
        }
        if (!has_user_agent) msg.set(bhttp::field::user_agent, kUserAgent);
        // Bodies are passed on undecoded, so ask for none of gzip & co.
        msg.set(bhttp::field::accept_encoding, "identity");
        if (absolute && !proxy_->authorization.empty())
            msg.set(bhttp::field::proxy_authorization, proxy_->authorization);
        std::size_t length = req_.body.size();
        for (const auto& piece : req_.body_tail) length += piece->size();
        const auto verb = msg.method();
        if (length != 0 || (verb != bhttp::verb::get && verb != bhttp::verb::head &&
                            verb != bhttp::verb::delete_ && verb != bhttp::verb::options))
            msg.content_length(length);

        x_->transport.expires_after(req_.idle_timeout);
        // The head as the serializer formats it, then the body and its tail: one
        // gather write, no copy of the (shared) pieces.
        bhttp::request_serializer<bhttp::empty_body> serializer{msg};
        serializer.split(true);
        beast::error_code head_ec;
        std::vector<asio::const_buffer> buffers;
        serializer.next(head_ec, [&buffers](beast::error_code&, const auto& head) {
            for (const auto b : beast::buffers_range_ref(head)) buffers.push_back(b);
        });
        if (head_ec) fail(Phase::kIo, head_ec, "formatting request");
        buffers.push_back(asio::buffer(req_.body));
        for (const auto& piece : req_.body_tail) buffers.push_back(asio::buffer(*piece));
        auto [ec, written] = co_await asio::async_write(stream, buffers, kTuple);
        if (ec && reused_ && closed_by_peer(ec)) throw StaleConnection{};
        if (ec) fail(Phase::kIo, ec, "sending request");
    }

    ssl::context& tls_context_;
    const HttpRequest& req_;
    const Target& target_;
    const std::optional<Proxy>& proxy_;
    const std::function<void(const HttpResponseHead&)>& on_head_;
    const std::function<void(std::string_view)>& on_data_;
    const CancellationPtr& cancel_;
    std::shared_ptr<Exchange> x_;  // owned by the exchange's strand
    const bool reused_;            // x_ came from the pool: connected, maybe closed since
    bool keep_alive_ = false;
};

}  // namespace

namespace {

/// TLS client contexts are costly to build (loading the system CA store takes tens of
/// milliseconds), so there is one per process and extra-CA file, built on first use
/// and read-only afterwards; every exchange of every client shares it.
std::shared_ptr<ssl::context> shared_tls_context(const std::string& extra_ca_file) {
    static std::mutex mutex;  // guards cache
    static std::map<std::string, std::shared_ptr<ssl::context>> cache;
    std::lock_guard lock(mutex);
    auto& slot = cache[extra_ca_file];
    if (slot) return slot;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    // The system store (OpenSSL also honours SSL_CERT_FILE / SSL_CERT_DIR here).
    beast::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (!extra_ca_file.empty()) {
        ctx->load_verify_file(extra_ca_file, ec);
        if (ec)
            throw TransportError(Kind::kTls, "cannot load extra CA file " + extra_ca_file + ": " + ec.message());
    }
    ctx->set_verify_mode(ssl::verify_peer);
    slot = ctx;
    return slot;
}

/// The context plain-http exchanges carry but never use.
ssl::context& unused_tls_context() {
    static ssl::context ctx(ssl::context::tls_client);
    return ctx;
}

}  // namespace

/// Idle kept-alive connections, per origin and proxy. A connection is taken by one
/// exchange at a time and comes back only after a response that ended cleanly.
struct HttpClient::Impl {
    std::string extra_ca_file;

    /// Longest an idle connection is kept (servers close idle ones after a while).
    static constexpr auto kIdleKeep = std::chrono::seconds(30);
    /// Most idle connections kept per origin: enough for the bursts of many sessions
    /// calling one provider at once (each extra one is a socket and, for TLS, its
    /// session state), so that the next burst does not handshake again.
    static constexpr std::size_t kIdlePerOrigin = 64;
    struct Idle {
        std::shared_ptr<Exchange> exchange;
        std::chrono::steady_clock::time_point since;
    };
    std::mutex mutex;  // guards idle
    std::unordered_map<std::string, std::vector<Idle>> idle;

    /// The newest live idle connection to `key`, or null.
    std::shared_ptr<Exchange> take(const std::string& key) {
        std::vector<Idle> dropped;  // closed outside the lock
        std::shared_ptr<Exchange> out;
        {
            std::lock_guard lock(mutex);
            auto it = idle.find(key);
            if (it == idle.end()) return nullptr;
            const auto now = std::chrono::steady_clock::now();
            auto& list = it->second;
            while (!list.empty() && !out) {
                Idle candidate = std::move(list.back());
                list.pop_back();
                if (now - candidate.since < kIdleKeep && candidate.exchange->still_open())
                    out = std::move(candidate.exchange);
                else
                    dropped.push_back(std::move(candidate));
            }
            if (list.empty()) idle.erase(it);
        }
        return out;
    }

    void give_back(const std::string& key, std::shared_ptr<Exchange> exchange) {
        std::vector<Idle> dropped;  // closed outside the lock
        std::lock_guard lock(mutex);
        const auto now = std::chrono::steady_clock::now();
        // Connections to origins nobody calls any more are closed here, not kept
        // (half-closed by their servers) for the life of the process.
        if (now >= next_sweep) {
            next_sweep = now + std::chrono::seconds(1);
            for (auto it = idle.begin(); it != idle.end();) {
                auto& list = it->second;
                for (auto& c : list)
                    if (now - c.since >= kIdleKeep) dropped.push_back(std::move(c));
                std::erase_if(list, [](const Idle& c) { return !c.exchange; });
                it = list.empty() ? idle.erase(it) : std::next(it);
            }
        }
        auto& list = idle[key];
        if (list.size() >= kIdlePerOrigin) {  // the oldest goes
            dropped.push_back(std::move(list.front()));
            list.erase(list.begin());
        }
        list.push_back(Idle{std::move(exchange), now});
    }
    std::chrono::steady_clock::time_point next_sweep{};
};

HttpClientOptions HttpClientOptions::from_env() {
    HttpClientOptions o;
    if (const char* v = std::getenv("AGENTD_EXTRA_CA_FILE")) o.extra_ca_file = v;
    return o;
}

HttpClient::HttpClient() : HttpClient(HttpClientOptions::from_env()) {}

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->extra_ca_file = options.extra_ca_file;
    // A bad extra CA file is reported now, not at the first https call.
    if (!options.extra_ca_file.empty()) shared_tls_context(options.extra_ca_file);
}

HttpClient::~HttpClient() = default;

awaitable<void> HttpClient::stream(const HttpRequest& req,
                                   std::function<void(const HttpResponseHead&)> on_head,
                                   std::function<void(std::string_view)> on_data,
                                   CancellationPtr cancel) {
    auto target = parse_target(req.url);
    if (!target)
        throw TransportError(Kind::kProtocol,
                             "unsupported or malformed URL (http:// or https:// expected)");
    if (!is_token(req.method)) throw TransportError(Kind::kProtocol, "invalid HTTP method");
    for (const auto& [name, value] : req.headers)
        if (!is_token(name) || !is_field_value(value))
            throw TransportError(Kind::kProtocol,
                                 "invalid request header " + (is_token(name) ? name : "name"));
    if (cancel && cancel->requested()) throw TransportError(Kind::kCancelled, "cancelled");
    std::optional<Proxy> proxy;
    if (auto p = proxy_for(target->scheme, target->host); !p.empty()) proxy = parse_proxy(p);

    // Every I/O object of the exchange lives on one strand, which the cancellation
    // callback posts to: a close never races a completion on another io thread.
    std::shared_ptr<ssl::context> tls;
    if (target->scheme == "https") tls = shared_tls_context(impl_->extra_ca_file);
    // Connections are kept alive per origin and route: a turn's model calls share one.
    const std::string key = target->scheme + "://" + authority(target->host, target->port, true) +
                            (proxy ? " via " + authority(proxy->host, proxy->port, true) + " " +
                                         proxy->authorization
                                   : std::string());
    // A new connection lives where the caller runs: its reads complete on the
    // caller's io thread instead of waking another one for every piece.
    const asio::any_io_executor caller = co_await asio::this_coro::executor;
    for (bool first_try = true;; first_try = false) {
        auto pooled = first_try ? impl_->take(key) : nullptr;
        const bool reused = pooled != nullptr;
        // A reused connection keeps its strand: its I/O objects belong to it.
        auto strand = reused ? pooled->strand : asio::any_io_executor(asio::make_strand(caller));
        ExchangeRunner runner(tls ? *tls : unused_tls_context(), req, *target, proxy, on_head, on_data, cancel,
                              std::move(pooled));
        try {
            co_await asio::co_spawn(strand, runner.run(), asio::use_awaitable);
        } catch (const StaleConnection&) {
            if (reused) continue;  // never thrown for a new connection; once more, on a new one
            throw TransportError(Kind::kReset, authority(target->host, target->port, true) + ": closed");
        } catch (const boost::system::system_error& e) {
            // Asio throws this itself when the caller's coroutine was cancelled through asio
            // (per-operation cancellation) before an operation could start.
            throw TransportError(
                e.code() == asio::error::operation_aborted ? Kind::kCancelled : Kind::kReset,
                authority(target->host, target->port, true) + ": " + e.code().message());
        }
        if (auto keep = runner.reusable()) impl_->give_back(key, std::move(keep));
        co_return;
    }
}

awaitable<HttpResponse> HttpClient::fetch(const HttpRequest& req, CancellationPtr cancel,
                                          std::size_t max_body) {
    HttpResponse out;
    auto too_big = [&] {
        return TransportError(Kind::kProtocol,
                              "response body exceeds " + std::to_string(max_body) + " bytes");
    };
    co_await stream(
        req,
        [&](const HttpResponseHead& head) {
            out.head = head;
            // Beast has validated Content-Length; more digits than fit is too big too.
            if (auto* len = head.header("content-length");
                len && (len->size() > 19 || std::stoull(*len) > max_body))
                throw too_big();
        },
        [&](std::string_view data) {
            if (data.size() > max_body - out.body.size()) throw too_big();
            out.body.append(data);
        },
        std::move(cancel));
    co_return out;
}

bool no_proxy_matches(std::string_view host_in, std::string_view no_proxy) {
    const std::string host = normal_host(host_in);
    std::size_t pos = 0;
    while (pos <= no_proxy.size()) {
        auto comma = no_proxy.find(',', pos);
        if (comma == std::string_view::npos) comma = no_proxy.size();
        std::string_view entry = trim(no_proxy.substr(pos, comma - pos));
        pos = comma + 1;
        if (entry.empty()) continue;
        if (entry == "*") return true;
        // Drop ":port": "[v6]:port", "name:port"; a bare IPv6 address has several colons.
        if (entry.front() == '[') {
            auto close = entry.find(']');
            entry = close == std::string_view::npos ? entry.substr(1) : entry.substr(1, close - 1);
        } else if (auto colon = entry.find(':');
                   colon != std::string_view::npos &&
                   entry.find(':', colon + 1) == std::string_view::npos) {
            entry = entry.substr(0, colon);
        }
        if (entry.starts_with("*")) entry.remove_prefix(1);
        if (entry.starts_with(".")) entry.remove_prefix(1);
        const std::string e = normal_host(entry);
        if (e.empty()) continue;
        if (host == e) return true;
        if (host.size() > e.size() && host.ends_with(e) && host[host.size() - e.size() - 1] == '.')
            return true;
    }
    return false;
}

std::string proxy_for(std::string_view scheme, std::string_view host) {
    const std::string s = lower(scheme);
    std::string proxy;
    if (s == "https")
        proxy = getenv_any("HTTPS_PROXY", "https_proxy");
    else if (s == "http")
        proxy = getenv_any("HTTP_PROXY", "http_proxy");
    if (proxy.empty()) return {};
    if (is_loopback(normal_host(host))) return {};
    if (no_proxy_matches(host, getenv_any("NO_PROXY", "no_proxy"))) return {};
    return proxy;
}

}  // namespace agentd::net
