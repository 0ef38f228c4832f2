#include "net/http_client.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <thread>

// Everything here talks to servers on 127.0.0.1 inside this process; nothing leaves
// the machine. TLS tests create their certificates with the `openssl` CLI.

namespace agentd::net {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
using Kind = TransportError::Kind;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---- test servers ------------------------------------------------------------------

/// Accepts on 127.0.0.1:<ephemeral> on its own thread and runs `handler` per connection.
class LoopbackServer {
public:
    using Handler = std::function<awaitable<void>(tcp::socket)>;

    explicit LoopbackServer(Handler handler)
        : handler_(std::move(handler)),
          acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~LoopbackServer() {
        ioc_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url(std::string_view path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
    }
    int connections() const { return connections_; }

private:
    awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
            if (ec) co_return;
            ++connections_;
            asio::co_spawn(ioc_, handler_(std::move(socket)), asio::detached);
        }
    }

    Handler handler_;
    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    std::atomic<int> connections_{0};
    std::thread thread_;
};

awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(kTuple);
}

/// Reads one request (head and Content-Length body); returns it raw, empty on error.
template <class Stream>
awaitable<std::string> read_request(Stream& s) {
    std::string buf;
    auto [ec, n] =
        co_await asio::async_read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", kTuple);
    if (ec) co_return std::string();
    std::size_t length = 0;
    std::string head = buf.substr(0, n);
    for (auto name : {"Content-Length: ", "content-length: "})
        if (auto p = head.find(name); p != std::string::npos)
            length = std::stoul(head.substr(p + std::strlen(name)));
    if (buf.size() < n + length) {
        auto [ec2, n2] = co_await asio::async_read(
            s, asio::dynamic_buffer(buf), asio::transfer_exactly(n + length - buf.size()), kTuple);
        if (ec2) co_return std::string();
    }
    co_return buf;
}

template <class Stream>
awaitable<bool> send(Stream& s, std::string_view bytes) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(bytes), kTuple);
    co_return !ec;
}

std::string chunk(std::string_view data) {
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + std::string(data) + "\r\n";
}

// ---- client side -------------------------------------------------------------------

using ClientBody = std::function<awaitable<void>(HttpClient&)>;

/// Runs `body` on a fresh io_context on this thread; rethrows what it throws.
void run_client(const ClientBody& body, HttpClientOptions options = {}) {
    asio::io_context ioc;
    HttpClient client(std::move(options));
    std::exception_ptr error;
    asio::co_spawn(ioc, body(client), [&](std::exception_ptr e) { error = e; });
    ioc.run();
    if (error) std::rethrow_exception(error);
}

/// The Kind of the TransportError `body` ends with; nullopt when it succeeds.
std::optional<Kind> failure_of(const ClientBody& body, HttpClientOptions options = {},
                               std::string* what = nullptr) {
    try {
        run_client(body, std::move(options));
    } catch (const TransportError& e) {
        if (what) *what = e.what();
        return e.kind();
    }
    return std::nullopt;
}

HttpResponse fetch_sync(const HttpRequest& req, HttpClientOptions options = {}) {
    HttpResponse out;
    run_client([&](HttpClient& c) -> awaitable<void> { out = co_await c.fetch(req); },
               std::move(options));
    return out;
}

HttpRequest get(std::string url) {
    HttpRequest r;
    r.method = "GET";
    r.url = std::move(url);
    r.connect_timeout = 5s;
    r.idle_timeout = 5s;
    return r;
}

/// Clears the proxy variables for one test and puts them back afterwards.
class ProxyEnvGuard {
public:
    ProxyEnvGuard() {
        for (const char* n : kNames) {
            if (const char* v = std::getenv(n)) saved_.emplace_back(n, v);
            ::unsetenv(n);
        }
    }
    ~ProxyEnvGuard() {
        for (const char* n : kNames) ::unsetenv(n);
        for (const auto& [n, v] : saved_) ::setenv(n.c_str(), v.c_str(), 1);
    }
    static void set(const char* name, const std::string& value) {
        ::setenv(name, value.c_str(), 1);
    }

private:
    static constexpr const char* kNames[] = {"HTTP_PROXY",  "http_proxy", "HTTPS_PROXY",
                                             "https_proxy", "NO_PROXY",   "no_proxy"};
    std::vector<std::pair<std::string, std::string>> saved_;
};

class HttpClientTest : public testing::Test {
    ProxyEnvGuard env_;
};

// ---- plain HTTP --------------------------------------------------------------------

TEST_F(HttpClientTest, SendsWellFormedRequestAndReadsContentLengthBody) {
    std::string seen;
    std::mutex mutex;
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        auto req = co_await read_request(s);
        {
            std::lock_guard lock(mutex);
            seen = req;
        }
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: A b\r\n\r\nhello");
    });
    HttpRequest req = get(server.url("/v1/chat?stream=true&k=a%20b"));
    req.method = "POST";
    req.body = R"({"model":"x"})";
    req.headers = {{"Authorization", "Bearer k"},
                   {"Accept-Encoding", "gzip"},
                   {"Content-Type", "application/json"}};
    auto res = fetch_sync(req);
    EXPECT_EQ(res.head.status, 200);
    EXPECT_EQ(res.body, "hello");
    ASSERT_NE(res.head.header("x-thing"), nullptr);
    EXPECT_EQ(*res.head.header("x-thing"), "A b");

    std::lock_guard lock(mutex);
    EXPECT_TRUE(seen.starts_with("POST /v1/chat?stream=true&k=a%20b HTTP/1.1\r\n")) << seen;
    EXPECT_NE(seen.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
              std::string::npos)
        << seen;
    EXPECT_NE(seen.find("\r\nUser-Agent: agentd\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("\r\nAccept-Encoding: identity\r\n"), std::string::npos) << seen;
    EXPECT_EQ(seen.find("gzip"), std::string::npos) << seen;
    EXPECT_NE(seen.find("\r\nAuthorization: Bearer k\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("\r\nContent-Length: 13\r\n"), std::string::npos) << seen;
    EXPECT_TRUE(seen.ends_with("\r\n\r\n{\"model\":\"x\"}")) << seen;
}

/// An io_context run by a thread of its own until destroyed.
class IoThread {
public:
    IoThread() : guard_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}
    ~IoThread() {
        guard_.reset();
        thread_.join();
    }
    asio::io_context& context() { return ioc_; }

private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::thread thread_;
};

/// The threads a stream() call, its `on_head` and its `on_data` ran on.
struct CallThreads {
    std::thread::id caller, head, data;
};
awaitable<void> stream_recording(HttpClient& client, HttpRequest req, CallThreads& out) {
    out.caller = std::this_thread::get_id();
    co_await client.stream(
        req, [&out](const HttpResponseHead&) { out.head = std::this_thread::get_id(); },
        [&out](std::string_view) { out.data = std::this_thread::get_id(); });
}
CallThreads stream_on(IoThread& io, HttpClient& client, const HttpRequest& req) {
    CallThreads out;
    std::promise<std::exception_ptr> done;
    asio::co_spawn(io.context(), stream_recording(client, req, out),
                   [&done](std::exception_ptr e) { done.set_value(e); });
    if (auto e = done.get_future().get()) std::rethrow_exception(e);
    return out;
}

TEST_F(HttpClientTest, ANewConnectionDoesItsIoOnTheCallersThread) {
    // Each response closes its connection, so every call opens a new one.
    LoopbackServer server([](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    });
    HttpClient client(HttpClientOptions{});
    IoThread one, two;
    const auto first = stream_on(one, client, get(server.url("/a")));
    const auto second = stream_on(two, client, get(server.url("/b")));
    EXPECT_EQ(first.head, first.caller);
    EXPECT_EQ(first.data, first.caller);
    EXPECT_EQ(second.head, second.caller);
    EXPECT_EQ(second.data, second.caller);
    EXPECT_NE(first.caller, second.caller);
    EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpClientTest, ABodyTailIsSentAfterTheBodyAsTheSameBytes) {
    std::vector<std::string> seen;
    std::mutex mutex;
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        auto req = co_await read_request(s);
        {
            std::lock_guard lock(mutex);
            seen.push_back(req);
        }
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    });
    HttpRequest whole = get(server.url("/v1/messages"));
    whole.method = "POST";
    whole.headers = {{"Content-Type", "application/json"}};
    whole.body = R"({"model":"x","tools":[{"name":"t","description":")" + std::string(20000, 'd') + R"("}]})";
    HttpRequest split = whole;
    split.body = R"({"model":"x","tools":)";
    split.body_tail = {std::make_shared<const std::string>(R"([{"name":"t","description":")" + std::string(20000, 'd') + R"("}])"),
                       std::make_shared<const std::string>("}")};
    ASSERT_EQ(split.whole_body(), whole.body);
    EXPECT_EQ(fetch_sync(whole).body, "ok");
    EXPECT_EQ(fetch_sync(split).body, "ok");

    std::lock_guard lock(mutex);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1], seen[0]);
    EXPECT_NE(seen[1].find("\r\nContent-Length: " + std::to_string(whole.body.size()) + "\r\n"), std::string::npos);
    EXPECT_TRUE(seen[1].ends_with("\r\n\r\n" + whole.body));
}

TEST_F(HttpClientTest, StreamsEachChunkBeforeTheNextIsSent) {
    std::atomic<bool> second_sent{false};
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
                      "chunked\r\n\r\n");
        co_await send(s, chunk("data: one\n\n"));
        co_await sleep_for(200ms);
        second_sent = true;
        co_await send(s, chunk("data: two\n\n") + "0\r\n\r\n");
    });
    std::vector<std::string> pieces;
    bool first_before_second = false;
    int status = 0;
    run_client([&](HttpClient& c) -> awaitable<void> {
        co_await c.stream(
            get(server.url()), [&](const HttpResponseHead& h) { status = h.status; },
            [&](std::string_view d) {
                if (pieces.empty()) first_before_second = !second_sent;
                pieces.emplace_back(d);
            });
    });
    EXPECT_EQ(status, 200);
    EXPECT_TRUE(first_before_second);
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[0], "data: one\n\n");
    EXPECT_EQ(pieces[1], "data: two\n\n");
}

TEST_F(HttpClientTest, DecodesChunkedBodiesAcrossOddWrites) {
    std::string big(100'000, 'z');
    for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("abc") +
                       "A;ext=1\r\n0123456789\r\n" + chunk(big) + chunk("\r\n") +
                       "0\r\nX-Trailer: t\r\n\r\n";
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        // Cuts through sizes, CRLFs and data alike.
        for (std::size_t i = 0; i < wire.size();) {
            std::size_t n = std::min<std::size_t>(wire.size() - i, 1 + (i * 7919) % 4099);
            if (!co_await send(s, std::string_view(wire).substr(i, n))) co_return;
            i += n;
        }
    });
    std::string body;
    run_client([&](HttpClient& c) -> awaitable<void> {
        co_await c.stream(get(server.url()), nullptr, [&](std::string_view d) { body.append(d); });
    });
    EXPECT_EQ(body, "abc0123456789" + big + "\r\n");
}

TEST_F(HttpClientTest, LargeContentLengthBodyInManyPieces) {
    std::string big(300'000, 'q');
    for (std::size_t i = 0; i < big.size(); i += 13) big[i] = static_cast<char>('0' + i % 10);
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) +
                             "\r\n\r\n" + big);
    });
    std::string body;
    int pieces = 0;
    run_client([&](HttpClient& c) -> awaitable<void> {
        co_await c.stream(get(server.url()), nullptr, [&](std::string_view d) {
            body.append(d);
            ++pieces;
        });
    });
    EXPECT_EQ(body, big);
    EXPECT_GT(pieces, 1);
}

TEST_F(HttpClientTest, BodyDelimitedByConnectionClose) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
        s.close();
    });
    EXPECT_EQ(fetch_sync(get(server.url())).body, "until the end");
}

// ---- kept-alive connections ---------------------------------------------------------

/// Answers every request on a connection with "ok", keeping the connection open.
awaitable<void> keep_alive_server(tcp::socket s) {
    for (;;) {
        auto request = co_await read_request(s);
        if (request.empty()) co_return;
        if (!co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) co_return;
    }
}

TEST_F(HttpClientTest, KeepsTheConnectionForTheNextRequestToTheSameOrigin) {
    LoopbackServer server(keep_alive_server);
    std::vector<std::string> bodies;
    run_client([&](HttpClient& c) -> awaitable<void> {
        for (int i = 0; i < 3; ++i) bodies.push_back((co_await c.fetch(get(server.url()))).body);
    });
    EXPECT_EQ(bodies, (std::vector<std::string>{"ok", "ok", "ok"}));
    EXPECT_EQ(server.connections(), 1);
}

TEST_F(HttpClientTest, ABurstOfConcurrentRequestsKeepsItsConnectionsForTheNextBurst) {
    // Many sessions calling one provider at once: the connections of one burst
    // serve the next (up to the per-origin cap, 64) instead of new handshakes.
    LoopbackServer server([](tcp::socket s) -> awaitable<void> {
        for (;;) {
            auto request = co_await read_request(s);
            if (request.empty()) co_return;
            co_await sleep_for(20ms);  // the requests of a burst overlap
            if (!co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) co_return;
        }
    });
    constexpr int kBurst = 40;
    int ok = 0;
    run_client([&](HttpClient& c) -> awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        for (int round = 0; round < 2; ++round) {
            int done = 0;
            for (int i = 0; i < kBurst; ++i)
                asio::co_spawn(
                    executor,
                    [&]() -> awaitable<void> {
                        try {
                            if ((co_await c.fetch(get(server.url()))).body == "ok") ++ok;
                        } catch (const std::exception&) {
                        }
                        ++done;
                    },
                    asio::detached);
            while (done < kBurst) co_await sleep_for(5ms);
        }
    });
    EXPECT_EQ(ok, 2 * kBurst);
    EXPECT_EQ(server.connections(), kBurst) << "the second burst reuses the first one's connections";
}

TEST_F(HttpClientTest, AConnectionTheServerClosesIsNotReused) {
    // Answers with Connection: close, or closes after the answer without saying so.
    for (bool announce : {true, false}) {
        LoopbackServer server([announce](tcp::socket s) -> awaitable<void> {
            co_await read_request(s);
            co_await send(s, announce ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                                      : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        std::vector<std::string> bodies;
        run_client([&](HttpClient& c) -> awaitable<void> {
            for (int i = 0; i < 2; ++i) {
                bodies.push_back((co_await c.fetch(get(server.url()))).body);
                co_await sleep_for(50ms);  // the server's close has arrived
            }
        });
        EXPECT_EQ(bodies, (std::vector<std::string>{"ok", "ok"})) << announce;
        EXPECT_EQ(server.connections(), 2) << announce;
    }
}

TEST_F(HttpClientTest, ARequestMeetingAClosedKeptConnectionGoesOutAgainOnANewOne) {
    // The first request on a connection is answered; the second finds it closed
    // without an answer, as when a server drops an idle connection just then.
    std::atomic<int> requests{0};
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        for (int n = 0;; ++n) {
            auto request = co_await read_request(s);
            if (request.empty()) co_return;
            ++requests;
            if (n == 1) co_return;  // closes with the request unanswered
            if (!co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) co_return;
        }
    });
    std::vector<std::string> bodies;
    run_client([&](HttpClient& c) -> awaitable<void> {
        for (int i = 0; i < 2; ++i) bodies.push_back((co_await c.fetch(get(server.url()))).body);
    });
    EXPECT_EQ(bodies, (std::vector<std::string>{"ok", "ok"}));
    EXPECT_EQ(server.connections(), 2);
    EXPECT_EQ(requests, 3);
}

TEST_F(HttpClientTest, AnAbortedExchangeDoesNotLeaveItsConnectionForTheNext) {
    LoopbackServer server(keep_alive_server);
    std::optional<std::string> second;
    run_client([&](HttpClient& c) -> awaitable<void> {
        try {
            co_await c.stream(get(server.url()), nullptr,
                              [](std::string_view) { throw std::runtime_error("the caller gives up"); });
        } catch (const std::runtime_error&) {
        }
        second = (co_await c.fetch(get(server.url()))).body;
    });
    EXPECT_EQ(second, "ok");
    EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpClientTest, ErrorStatusIsAResponseNotAnException) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(
            s, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\nslow");
    });
    auto res = fetch_sync(get(server.url()));
    EXPECT_EQ(res.head.status, 429);
    EXPECT_EQ(*res.head.header("retry-after"), "3");
    EXPECT_EQ(res.body, "slow");
}

TEST_F(HttpClientTest, InterimResponsesAreSkipped) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s,
                      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    });
    auto res = fetch_sync(get(server.url()));
    EXPECT_EQ(res.head.status, 201);
    EXPECT_EQ(res.body, "ok");
}

TEST_F(HttpClientTest, HeadResponseHasNoBody) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    });
    auto req = get(server.url());
    req.method = "HEAD";
    auto res = fetch_sync(req);
    EXPECT_EQ(res.head.status, 200);
    EXPECT_EQ(res.body, "");
}

TEST_F(HttpClientTest, EarlyCloseIsReset) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..");
        s.close();
    });
    EXPECT_EQ(
        failure_of([&](HttpClient& c) -> awaitable<void> { co_await c.fetch(get(server.url())); }),
        Kind::kReset);
}

TEST_F(HttpClientTest, CloseBeforeAnyResponseIsReset) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        s.close();
    });
    EXPECT_EQ(
        failure_of([&](HttpClient& c) -> awaitable<void> { co_await c.fetch(get(server.url())); }),
        Kind::kReset);
}

TEST_F(HttpClientTest, GarbageResponseIsProtocolError) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "SMTP ready\r\n\r\n");
    });
    EXPECT_EQ(
        failure_of([&](HttpClient& c) -> awaitable<void> { co_await c.fetch(get(server.url())); }),
        Kind::kProtocol);
}

TEST_F(HttpClientTest, FetchEnforcesMaxBody) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                             chunk("0123456789") + chunk("x") + "0\r\n\r\n");
    });
    EXPECT_EQ(failure_of([&](HttpClient& c) -> awaitable<void> {
                  co_await c.fetch(get(server.url()), nullptr, 10);
              }),
              Kind::kProtocol);
    HttpResponse ok;
    run_client([&](HttpClient& c) -> awaitable<void> {
        ok = co_await c.fetch(get(server.url()), nullptr, 11);
    });
    EXPECT_EQ(ok.body, "0123456789x");
}

TEST_F(HttpClientTest, ConnectionRefusedIsConnect) {
    std::uint16_t port;
    {
        asio::io_context ioc;
        tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }  // closed: nothing listens there now
    std::string what;
    EXPECT_EQ(failure_of(
                  [&](HttpClient& c) -> awaitable<void> {
                      co_await c.fetch(
                          get("http://127.0.0.1:" + std::to_string(port) + "/secret?key=abc"));
                  },
                  {}, &what),
              Kind::kConnect);
    EXPECT_EQ(what.find("key=abc"), std::string::npos)
        << "errors must not leak the query: " << what;
}

TEST_F(HttpClientTest, BadRequestsAreRejectedBeforeConnecting) {
    auto fails_with = [](HttpRequest r) {
        return failure_of([&](HttpClient& c) -> awaitable<void> { co_await c.fetch(r); });
    };
    EXPECT_EQ(fails_with(get("ftp://127.0.0.1/")), Kind::kProtocol);
    EXPECT_EQ(fails_with(get("not a url")), Kind::kProtocol);
    EXPECT_EQ(fails_with(get("http://127.0.0.1:99999/")), Kind::kProtocol);
    auto injected = get("http://127.0.0.1:1/");
    injected.headers = {{"X-A", "v\r\nX-Injected: 1"}};
    EXPECT_EQ(fails_with(injected), Kind::kProtocol);
    auto bad_method = get("http://127.0.0.1:1/");
    bad_method.method = "GE T";
    EXPECT_EQ(fails_with(bad_method), Kind::kProtocol);
}

TEST_F(HttpClientTest, IdleTimeoutBetweenReads) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("first"));
        co_await sleep_for(3s);
    });
    auto req = get(server.url());
    req.idle_timeout = 200ms;
    std::string got;
    auto start = Clock::now();
    EXPECT_EQ(failure_of([&](HttpClient& c) -> awaitable<void> {
                  co_await c.stream(req, nullptr, [&](std::string_view d) { got.append(d); });
              }),
              Kind::kTimeout);
    auto elapsed = Clock::now() - start;
    EXPECT_EQ(got, "first");
    EXPECT_GE(elapsed, 190ms);
    EXPECT_LT(elapsed, 1500ms);
}

TEST_F(HttpClientTest, CancellationFromAnotherThreadEndsTheStreamPromptly) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(
            s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("data: 1\n\n"));
        co_await sleep_for(5s);
    });
    auto cancel = std::make_shared<Cancellation>();
    std::thread canceller;
    Clock::time_point requested_at;
    Clock::time_point failed_at;
    auto kind = failure_of([&](HttpClient& c) -> awaitable<void> {
        try {
            co_await c.stream(
                get(server.url()), nullptr,
                [&](std::string_view) {
                    if (canceller.joinable()) return;
                    canceller = std::thread([&] {
                        std::this_thread::sleep_for(50ms);
                        requested_at = Clock::now();
                        cancel->request();
                    });
                },
                cancel);
        } catch (...) {
            failed_at = Clock::now();
            throw;
        }
    });
    canceller.join();
    EXPECT_EQ(kind, Kind::kCancelled);
    EXPECT_LT(failed_at - requested_at, 100ms);
}

TEST_F(HttpClientTest, AlreadyCancelledNeverConnects) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> { co_return; });
    auto cancel = std::make_shared<Cancellation>();
    cancel->request();
    EXPECT_EQ(failure_of([&](HttpClient& c) -> awaitable<void> {
                  co_await c.fetch(get(server.url()), cancel);
              }),
              Kind::kCancelled);
    EXPECT_EQ(server.connections(), 0);
}

TEST_F(HttpClientTest, CancellationAfterTheExchangeIsHarmless) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    auto cancel = std::make_shared<Cancellation>();
    asio::io_context ioc;
    HttpClient client(HttpClientOptions{});
    HttpResponse res;
    asio::co_spawn(
        ioc, [&]() -> awaitable<void> { res = co_await client.fetch(get(server.url()), cancel); },
        asio::detached);
    ioc.run();
    cancel->request();  // the registration is gone: nothing runs, nothing crashes
    ioc.restart();
    ioc.run();
    EXPECT_EQ(res.body, "ok");
}

// ---- TLS ---------------------------------------------------------------------------

/// A CA and a server certificate for localhost / agentd.test (not 127.0.0.1), made
/// once per process in a temporary directory that is removed at exit.
class TestPki {
public:
    static const TestPki* get() {
        static TestPki pki;
        return pki.ok_ ? &pki : nullptr;
    }
    std::string ca() const { return (dir_ / "ca.pem").string(); }
    std::string cert() const { return (dir_ / "server.pem").string(); }
    std::string key() const { return (dir_ / "server.key").string(); }
    const std::filesystem::path& dir() const { return dir_; }

private:
    TestPki() {
        char tmpl[] = "/tmp/agentd-pki-XXXXXX";
        if (!::mkdtemp(tmpl)) return;
        dir_ = tmpl;
        std::ofstream(dir_ / "ext.cnf")
            << "subjectAltName=DNS:localhost,DNS:agentd.test\n"
               "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
        const std::string cmd =
            "(cd " + dir_.string() + " && openssl req -x509" + ec +
            "-keyout ca.key -out ca.pem -days 2 -subj /CN=agentd-test-ca && openssl req" + ec +
            "-keyout server.key -out server.csr -subj /CN=localhost && openssl x509 -req -in "
            "server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
            "-extfile ext.cnf) >/dev/null 2>&1";
        ok_ = std::system(cmd.c_str()) == 0;
    }
    ~TestPki() {
        std::error_code ignored;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
    }

    std::filesystem::path dir_;
    bool ok_ = false;
};

class HttpClientTlsTest : public HttpClientTest {
protected:
    void SetUp() override {
        pki_ = TestPki::get();
        if (!pki_) GTEST_SKIP() << "openssl CLI unavailable";
        server_ctx_.use_certificate_chain_file(pki_->cert());
        server_ctx_.use_private_key_file(pki_->key(), ssl::context::pem);
    }
    HttpClientOptions trusting() const { return HttpClientOptions{.extra_ca_file = pki_->ca()}; }

    /// A TLS server that answers each request with `response` (sent in `parts`, 200 ms apart).
    LoopbackServer::Handler tls_handler(std::vector<std::string> parts,
                                        std::atomic<int>* parts_sent = nullptr) {
        return [this, parts, parts_sent](tcp::socket sock) -> awaitable<void> {
            ssl::stream<tcp::socket> s(std::move(sock), server_ctx_);
            auto [ec] = co_await s.async_handshake(ssl::stream_base::server, kTuple);
            if (ec) co_return;
            co_await read_request(s);
            for (std::size_t i = 0; i < parts.size(); ++i) {
                if (i) co_await sleep_for(200ms);
                if (parts_sent) ++*parts_sent;
                if (!co_await send(s, parts[i])) co_return;
            }
            co_await s.async_shutdown(kTuple);
        };
    }

    const TestPki* pki_ = nullptr;
    ssl::context server_ctx_{ssl::context::tls_server};
};

TEST_F(HttpClientTlsTest, AKeptConnectionCarriesTheNextRequestWithoutANewHandshake) {
    std::atomic<int> handshakes{0};
    LoopbackServer server([this, &handshakes](tcp::socket sock) -> awaitable<void> {
        ssl::stream<tcp::socket> s(std::move(sock), server_ctx_);
        auto [ec] = co_await s.async_handshake(ssl::stream_base::server, kTuple);
        if (ec) co_return;
        ++handshakes;
        for (;;) {
            auto request = co_await read_request(s);
            if (request.empty()) co_return;
            if (!co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) co_return;
        }
    });
    std::vector<std::string> bodies;
    run_client(
        [&](HttpClient& c) -> awaitable<void> {
            for (int i = 0; i < 3; ++i)
                bodies.push_back(
                    (co_await c.fetch(get("https://localhost:" + std::to_string(server.port()) + "/"))).body);
        },
        trusting());
    EXPECT_EQ(bodies, (std::vector<std::string>{"ok", "ok", "ok"}));
    EXPECT_EQ(server.connections(), 1);
    EXPECT_EQ(handshakes, 1);
}

TEST_F(HttpClientTlsTest, UntrustedCertificateFailsWithTheSystemStore) {
    LoopbackServer server(tls_handler({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}));
    std::string what;
    EXPECT_EQ(
        failure_of(
            [&](HttpClient& c) -> awaitable<void> {
                co_await c.fetch(get("https://localhost:" + std::to_string(server.port()) + "/"));
            },
            {}, &what),
        Kind::kTls);
    EXPECT_NE(what.find("certificate"), std::string::npos) << what;
}

TEST_F(HttpClientTlsTest, TrustedExtraCaSucceedsAndStreamsIncrementally) {
    std::atomic<int> sent{0};
    LoopbackServer server(
        tls_handler({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("one"),
                     chunk("two") + "0\r\n\r\n"},
                    &sent));
    std::vector<std::string> pieces;
    int sent_at_first = -1;
    run_client(
        [&](HttpClient& c) -> awaitable<void> {
            co_await c.stream(get("https://localhost:" + std::to_string(server.port()) + "/"),
                              nullptr, [&](std::string_view d) {
                                  if (pieces.empty()) sent_at_first = sent;
                                  pieces.emplace_back(d);
                              });
        },
        trusting());
    EXPECT_EQ(pieces, (std::vector<std::string>{"one", "two"}));
    EXPECT_EQ(sent_at_first, 1);
}

TEST_F(HttpClientTlsTest, ExtraCaFromEnvironment) {
    LoopbackServer server(tls_handler({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}));
    ::setenv("AGENTD_EXTRA_CA_FILE", pki_->ca().c_str(), 1);
    auto options = HttpClientOptions::from_env();
    ::unsetenv("AGENTD_EXTRA_CA_FILE");
    EXPECT_EQ(
        fetch_sync(get("https://localhost:" + std::to_string(server.port()) + "/"), options).body,
        "ok");
}

TEST_F(HttpClientTlsTest, HostNameMismatchFailsEvenWithTrustedCa) {
    LoopbackServer server(tls_handler({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}));
    EXPECT_EQ(
        failure_of(
            [&](HttpClient& c) -> awaitable<void> {
                co_await c.fetch(get("https://127.0.0.1:" + std::to_string(server.port()) + "/"));
            },
            trusting()),
        Kind::kTls);
}

TEST_F(HttpClientTlsTest, PlainHttpServerIsTls) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await send(s, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    EXPECT_EQ(
        failure_of(
            [&](HttpClient& c) -> awaitable<void> {
                co_await c.fetch(get("https://localhost:" + std::to_string(server.port()) + "/"));
            },
            trusting()),
        Kind::kTls);
}

TEST_F(HttpClientTlsTest, MissingExtraCaFileFailsConstruction) {
    try {
        HttpClient c(HttpClientOptions{.extra_ca_file = pki_->dir().string() + "/nope.pem"});
        ADD_FAILURE() << "constructed";
    } catch (const TransportError& e) {
        EXPECT_EQ(e.kind(), Kind::kTls);
    }
}

/// Accepts and then says nothing: a TLS handshake against it never completes.
LoopbackServer::Handler silent() {
    return [](tcp::socket s) -> awaitable<void> {
        co_await sleep_for(5s);
        (void)s;
    };
}

TEST_F(HttpClientTlsTest, ConnectTimeoutCoversTheHandshake) {
    LoopbackServer server(silent());
    auto req = get("https://localhost:" + std::to_string(server.port()) + "/");
    req.connect_timeout = 200ms;
    auto start = Clock::now();
    EXPECT_EQ(failure_of([&](HttpClient& c) -> awaitable<void> { co_await c.fetch(req); }),
              Kind::kTimeout);
    EXPECT_LT(Clock::now() - start, 1500ms);
}

TEST_F(HttpClientTlsTest, CancellationDuringTheHandshake) {
    LoopbackServer server(silent());
    auto cancel = std::make_shared<Cancellation>();
    Clock::time_point requested_at, failed_at;
    auto kind = failure_of([&](HttpClient& c) -> awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
        t.async_wait([&](auto) {
            requested_at = Clock::now();
            cancel->request();
        });
        try {
            co_await c.fetch(get("https://localhost:" + std::to_string(server.port()) + "/"),
                             cancel);
        } catch (...) {
            failed_at = Clock::now();
            throw;
        }
    });
    EXPECT_EQ(kind, Kind::kCancelled);
    EXPECT_LT(failed_at - requested_at, 100ms);
}

// ---- proxies -----------------------------------------------------------------------

class HttpClientProxyTest : public HttpClientTlsTest {};

TEST_F(HttpClientProxyTest, PlainHttpUsesAbsoluteFormThroughTheProxy) {
    std::string seen;
    std::mutex mutex;
    LoopbackServer proxy([&](tcp::socket s) -> awaitable<void> {
        auto req = co_await read_request(s);
        {
            std::lock_guard lock(mutex);
            seen = req;
        }
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied");
    });
    ProxyEnvGuard::set("http_proxy",
                       "http://us%65r:p%40ss@127.0.0.1:" + std::to_string(proxy.port()));
    ProxyEnvGuard::set("HTTPS_PROXY", "http://127.0.0.1:1");  // not for http://
    // agentd.test resolves nowhere: only the proxy can have reached it.
    EXPECT_EQ(fetch_sync(get("http://agentd.test:8080/v1/x?y=1")).body, "proxied");
    std::lock_guard lock(mutex);
    EXPECT_TRUE(seen.starts_with("GET http://agentd.test:8080/v1/x?y=1 HTTP/1.1\r\n")) << seen;
    EXPECT_NE(seen.find("\r\nHost: agentd.test:8080\r\n"), std::string::npos) << seen;
    // base64("user:p@ss")
    EXPECT_NE(seen.find("\r\nProxy-Authorization: Basic dXNlcjpwQHNz\r\n"), std::string::npos)
        << seen;
}

/// Copies bytes from one socket to the other until either side stops.
awaitable<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    char data[4096];
    for (;;) {
        auto [rec, rn] = co_await from->async_read_some(asio::buffer(data), kTuple);
        if (rec) break;
        auto [wec, wn] = co_await asio::async_write(*to, asio::buffer(data, rn), kTuple);
        if (wec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
}

/// An HTTP CONNECT proxy that sends every tunnel to 127.0.0.1:<the requested port>.
LoopbackServer::Handler connect_proxy(std::string* first_line, std::mutex* mutex,
                                      std::string refuse = {}) {
    return [=](tcp::socket client) -> awaitable<void> {
        std::string buf;
        auto [ec, n] =
            co_await asio::async_read_until(client, asio::dynamic_buffer(buf), "\r\n\r\n", kTuple);
        if (ec) co_return;
        std::string line = buf.substr(0, buf.find("\r\n"));
        {
            std::lock_guard lock(*mutex);
            *first_line = line;
        }
        if (!refuse.empty()) {
            co_await send(client, refuse);
            co_return;
        }
        auto port = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
        auto ex = co_await asio::this_coro::executor;
        auto upstream = std::make_shared<tcp::socket>(ex);
        auto [cec] =
            co_await upstream->async_connect({asio::ip::make_address("127.0.0.1"), port}, kTuple);
        if (cec) {
            co_await send(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            co_return;
        }
        co_await send(client, "HTTP/1.1 200 Connection established\r\n\r\n");
        auto down = std::make_shared<tcp::socket>(std::move(client));
        asio::co_spawn(ex, pipe(down, upstream), asio::detached);
        co_await pipe(upstream, down);
    };
}

TEST_F(HttpClientProxyTest, HttpsGoesThroughAConnectTunnel) {
    LoopbackServer origin(tls_handler({"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ntunnel'd"}));
    std::string line;
    std::mutex mutex;
    LoopbackServer proxy(connect_proxy(&line, &mutex));
    ProxyEnvGuard::set("HTTPS_PROXY",
                       "127.0.0.1:" + std::to_string(proxy.port()));  // scheme-less form
    const std::string authority = "agentd.test:" + std::to_string(origin.port());
    EXPECT_EQ(fetch_sync(get("https://" + authority + "/v1/messages"), trusting()).body,
              "tunnel'd");
    std::lock_guard lock(mutex);
    EXPECT_EQ(line, "CONNECT " + authority + " HTTP/1.1");
}

TEST_F(HttpClientProxyTest, ProxyRefusingConnectIsConnect) {
    std::string line;
    std::mutex mutex;
    LoopbackServer proxy(connect_proxy(
        &line, &mutex, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"));
    ProxyEnvGuard::set("https_proxy", "http://127.0.0.1:" + std::to_string(proxy.port()));
    std::string what;
    EXPECT_EQ(failure_of([&](HttpClient& c)
                             -> awaitable<void> { co_await c.fetch(get("https://agentd.test/")); },
                         trusting(), &what),
              Kind::kConnect);
    EXPECT_NE(what.find("407"), std::string::npos) << what;
}

TEST_F(HttpClientProxyTest, UnreachableProxyIsConnect) {
    ProxyEnvGuard::set("HTTPS_PROXY", "http://127.0.0.1:1");
    EXPECT_EQ(failure_of([&](HttpClient& c) -> awaitable<void> {
                  co_await c.fetch(get("https://agentd.test/"));
              }),
              Kind::kConnect);
}

TEST_F(HttpClientProxyTest, LoopbackAndNoProxyHostsGoDirect) {
    LoopbackServer server([&](tcp::socket s) -> awaitable<void> {
        co_await read_request(s);
        co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ndirect");
    });
    ProxyEnvGuard::set("HTTP_PROXY", "http://127.0.0.1:1");  // would refuse
    EXPECT_EQ(fetch_sync(get(server.url())).body, "direct");
    EXPECT_EQ(fetch_sync(get("http://localhost:" + std::to_string(server.port()) + "/")).body,
              "direct");
}

// ---- proxy selection ---------------------------------------------------------------

class ProxyForTest : public testing::Test {
    ProxyEnvGuard env_;
};

TEST_F(ProxyForTest, PicksTheVariableOfTheScheme) {
    EXPECT_EQ(proxy_for("https", "api.openai.com"), "");
    ProxyEnvGuard::set("HTTPS_PROXY", "http://secure:3128");
    ProxyEnvGuard::set("http_proxy", "http://plain:3128");
    EXPECT_EQ(proxy_for("https", "api.openai.com"), "http://secure:3128");
    EXPECT_EQ(proxy_for("HTTPS", "api.openai.com"), "http://secure:3128");
    EXPECT_EQ(proxy_for("http", "api.openai.com"), "http://plain:3128");
    EXPECT_EQ(proxy_for("ftp", "api.openai.com"), "");
}

TEST_F(ProxyForTest, UpperCaseWinsAndEmptyMeansUnset) {
    ProxyEnvGuard::set("HTTPS_PROXY", "http://upper:1");
    ProxyEnvGuard::set("https_proxy", "http://lower:1");
    EXPECT_EQ(proxy_for("https", "example.com"), "http://upper:1");
    ProxyEnvGuard::set("HTTPS_PROXY", "");
    EXPECT_EQ(proxy_for("https", "example.com"), "http://lower:1");
}

TEST_F(ProxyForTest, NoProxyListIsHonoured) {
    ProxyEnvGuard::set("HTTPS_PROXY", "http://p:1");
    ProxyEnvGuard::set("no_proxy", "internal.corp, .example.com ,10.0.0.7:8080");
    EXPECT_EQ(proxy_for("https", "internal.corp"), "");
    EXPECT_EQ(proxy_for("https", "api.internal.corp"), "");
    EXPECT_EQ(proxy_for("https", "example.com"), "");
    EXPECT_EQ(proxy_for("https", "a.b.example.com"), "");
    EXPECT_EQ(proxy_for("https", "10.0.0.7"), "");
    EXPECT_EQ(proxy_for("https", "notexample.com"), "http://p:1");
    EXPECT_EQ(proxy_for("https", "api.openai.com"), "http://p:1");
    ProxyEnvGuard::set("NO_PROXY", "*");  // upper case wins over no_proxy
    EXPECT_EQ(proxy_for("https", "api.openai.com"), "");
}

TEST_F(ProxyForTest, LoopbackIsNeverProxied) {
    ProxyEnvGuard::set("HTTP_PROXY", "http://p:1");
    for (auto host :
         {"localhost", "LOCALHOST", "ollama.localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"})
        EXPECT_EQ(proxy_for("http", host), "") << host;
    EXPECT_EQ(proxy_for("http", "10.0.0.1"), "http://p:1");
}

TEST(ProxyNoProxyMatches, Rules) {
    EXPECT_TRUE(no_proxy_matches("anything.example", "*"));
    EXPECT_TRUE(no_proxy_matches("a.example.com", "foo, *"));
    EXPECT_TRUE(no_proxy_matches("example.com", "example.com"));
    EXPECT_TRUE(no_proxy_matches("EXAMPLE.com.", "Example.COM"));
    EXPECT_TRUE(no_proxy_matches("api.example.com", "example.com"));
    EXPECT_TRUE(no_proxy_matches("api.example.com", ".example.com"));
    EXPECT_TRUE(no_proxy_matches("example.com", ".example.com"));
    EXPECT_TRUE(no_proxy_matches("api.example.com", "*.example.com"));
    EXPECT_TRUE(no_proxy_matches("api.example.com", "example.com:443"));
    EXPECT_TRUE(no_proxy_matches("::1", "[::1]:8080"));
    EXPECT_TRUE(no_proxy_matches("[fe80::1]", "fe80::1"));
    EXPECT_TRUE(no_proxy_matches("192.168.1.5", " 10.0.0.1 ,192.168.1.5"));
    EXPECT_FALSE(no_proxy_matches("badexample.com", "example.com"));
    EXPECT_FALSE(no_proxy_matches("example.com", "api.example.com"));
    EXPECT_FALSE(no_proxy_matches("example.org", "example.com"));
    EXPECT_FALSE(no_proxy_matches("192.168.1.50", "192.168.1.5"));
    EXPECT_FALSE(no_proxy_matches("example.com", ""));
    EXPECT_FALSE(no_proxy_matches("example.com", " , ,"));
    EXPECT_FALSE(no_proxy_matches("example.com", "*.org"));
}

}  // namespace
}  // namespace agentd::net
