#include "http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace agentd::http {
namespace {

std::string this_thread_tag() {
    std::ostringstream out;
    out << std::this_thread::get_id();
    return out.str();
}

/// A Server on an ephemeral loopback port, run by a thread of its own, with an
/// inline route answering the id of the io thread that handled the request, one
/// answering 8 MiB, and a blocking one taking 1.5 s.
class RunningServer {
public:
    explicit RunningServer(std::size_t io_threads, const std::function<void(ServerOptions&)>& tune = {})
        : dir_(std::filesystem::temp_directory_path() /
               ("agentd-server-test-" + std::to_string(::getpid()) + "-" + std::to_string(next_dir_++))) {
        std::filesystem::create_directories(dir_);
        RouteDoc doc;
        doc.summary = "The io thread";
        doc.tag = "test";
        router_.add(Route{"GET", "/thread",
                          [](RouteContext&) { return Response::json_text(200, "\"" + this_thread_tag() + "\""); },
                          doc, /*requires_user=*/false, /*blocking=*/false});
        router_.add(Route{"GET", "/big",
                          [](RouteContext&) { return Response::json_text(200, "\"" + std::string(8 << 20, 'x') + "\""); },
                          doc, /*requires_user=*/false, /*blocking=*/false});
        router_.add(Route{"GET", "/slow",
                          [](RouteContext&) {
                              std::this_thread::sleep_for(std::chrono::milliseconds(1500));
                              return Response::json_text(200, "\"slow\"");
                          },
                          doc, /*requires_user=*/false, /*blocking=*/true});
        ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.io_threads = io_threads;
        options.blocking_threads = 1;
        options.access_log = false;
        options.shutdown_grace = std::chrono::seconds(2);
        options.port_file = (dir_ / "port").string();
        if (tune) tune(options);
        server_ = std::make_unique<Server>(options, router_);
        ran_ = std::async(std::launch::async, [this] { server_->run(); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!std::filesystem::exists(options.port_file) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::ifstream(options.port_file) >> port_;
    }
    ~RunningServer() {
        stop();
        std::filesystem::remove_all(dir_);
    }

    /// Asks the server to stop; true when run() returned within `limit`.
    bool stop(std::chrono::seconds limit = std::chrono::seconds(10)) {
        if (!ran_.valid()) return true;
        server_->stop();
        if (ran_.wait_for(limit) != std::future_status::ready) return false;
        ran_.get();
        return true;
    }

    Server& server() { return *server_; }
    unsigned short port() const { return port_; }

private:
    static inline int next_dir_ = 0;
    std::filesystem::path dir_;
    Router router_;
    std::unique_ptr<Server> server_;
    std::future<void> ran_;
    unsigned short port_ = 0;
};

/// A blocking keep-alive client connection.
class Client {
public:
    explicit Client(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Client() { ::close(fd_); }

    /// GET /thread on this connection: the body, or "" when the exchange failed.
    std::string thread_of_request() {
        if (!connected_) return "";
        const std::string req = "GET /thread HTTP/1.1\r\nHost: test\r\n\r\n";
        if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
        std::string got;
        char buf[1024];
        for (;;) {
            const auto end = got.find("\r\n\r\n");
            if (end != std::string::npos) {
                const auto cl = got.find("Content-Length: ");
                if (cl != std::string::npos && cl < end) {
                    const std::size_t len = std::stoul(got.substr(cl + 16));
                    if (got.size() >= end + 4 + len) return got.substr(end + 4, len);
                }
            }
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return "";
            got.append(buf, static_cast<std::size_t>(n));
        }
    }

    /// Sends raw bytes; false when they did not all go out.
    bool send_raw(std::string_view bytes) {
        return connected_ && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    }

    /// Reads until the server closes the connection (or `limit` passes): what
    /// arrived, and whether it was closed.
    std::pair<std::string, bool> read_until_closed(std::chrono::seconds limit) {
        timeval tv{static_cast<time_t>(limit.count()), 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string got;
        char buf[65536];
        for (;;) {
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                got.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            const bool closed = n == 0 || errno == ECONNRESET;
            return {got, closed};
        }
    }

    void shrink_receive_buffer() {
        int size = 4096;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }

private:
    int fd_;
    bool connected_ = false;
};

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// A server whose requests must arrive, and responses leave, within 1 s, and
/// whose keep-alive connections may idle 1 s.
RunningServer impatient_server() {
    return RunningServer(1, [](ServerOptions& o) {
        o.request_timeout = 1s;
        o.idle_timeout = 1s;
    });
}

TEST(Server, EachConnectionStaysOnOneIoThreadAndConnectionsTakeTheThreadsInTurn) {
    RunningServer srv(3);
    ASSERT_NE(srv.port(), 0);
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<std::string> thread_of;
    // Connected one after the other, so they are accepted in this order.
    for (int i = 0; i < 6; ++i) {
        clients.push_back(std::make_unique<Client>(srv.port()));
        thread_of.push_back(clients.back()->thread_of_request());
        ASSERT_FALSE(thread_of.back().empty()) << "connection " << i;
    }
    for (int round = 0; round < 3; ++round)
        for (std::size_t i = 0; i < clients.size(); ++i)
            EXPECT_EQ(clients[i]->thread_of_request(), thread_of[i]) << "connection " << i << " moved threads";
    EXPECT_EQ(std::set<std::string>(thread_of.begin(), thread_of.end()).size(), 3u);
    for (std::size_t i = 0; i + 3 < thread_of.size(); ++i) EXPECT_EQ(thread_of[i], thread_of[i + 3]);
}

TEST(Server, NextIoExecutorHandsOutEveryIoThreadInTurn) {
    RunningServer srv(2);
    std::vector<std::string> ran_on;
    for (int i = 0; i < 4; ++i) {
        std::promise<std::string> where;
        auto got = where.get_future();
        boost::asio::post(srv.server().next_io_executor(), [&where] { where.set_value(this_thread_tag()); });
        ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
        ran_on.push_back(got.get());
    }
    EXPECT_NE(ran_on[0], ran_on[1]);
    EXPECT_EQ(ran_on[0], ran_on[2]);
    EXPECT_EQ(ran_on[1], ran_on[3]);
    EXPECT_NE(ran_on[0], this_thread_tag());
}

TEST(Server, StopEndsEveryIoThreadEvenThoseThatNeverHadAConnection) {
    RunningServer srv(4);
    Client one(srv.port());
    ASSERT_FALSE(one.thread_of_request().empty());
    EXPECT_TRUE(srv.stop(std::chrono::seconds(10)));
}

/// What a client that stopped at some point got before the server cut it off.
struct CutOff {
    std::string got;
    bool closed = false;
    Clock::duration took{};
};

/// Reads until the server closes `client`, timing it from now.
CutOff wait_for_cut_off(Client& client) {
    const auto start = Clock::now();
    auto [got, closed] = client.read_until_closed(10s);
    return CutOff{std::move(got), closed, Clock::now() - start};
}

/// Closed by the 1 s timeout: not before it, not long after.
void expect_cut_at_timeout(const CutOff& c) {
    EXPECT_TRUE(c.closed);
    EXPECT_GE(c.took, 900ms);
    EXPECT_LT(c.took, 5s);
}

TEST(Server, AClientThatStopsInItsHeadersIsCutOffAtTheRequestTimeout) {
    auto srv = impatient_server();
    Client slow(srv.port());
    ASSERT_TRUE(slow.send_raw("GET /thread HTTP/1.1\r\nHost: te"));
    const auto cut = wait_for_cut_off(slow);
    expect_cut_at_timeout(cut);
    EXPECT_EQ(cut.got, "");
}

TEST(Server, AClientThatStopsInItsBodyGets408AndIsCutOff) {
    auto srv = impatient_server();
    Client slow(srv.port());
    ASSERT_TRUE(slow.send_raw("POST /thread HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc"));
    const auto cut = wait_for_cut_off(slow);
    expect_cut_at_timeout(cut);
    EXPECT_EQ(cut.got.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << cut.got;
    EXPECT_NE(cut.got.find("\r\n\r\n{\"detail\":\"Request timeout\"}"), std::string::npos) << cut.got;
}

TEST(Server, AKeepAliveConnectionIdleBeyondItsTimeoutIsClosed) {
    auto srv = impatient_server();
    Client client(srv.port());
    ASSERT_FALSE(client.thread_of_request().empty());
    const auto cut = wait_for_cut_off(client);
    expect_cut_at_timeout(cut);
    EXPECT_EQ(cut.got, "");
}

TEST(Server, ABusyKeepAliveConnectionOutlivesItsTimeouts) {
    // Each request moves the deadline on: 12 requests 250 ms apart span three
    // times the timeout on one connection.
    auto srv = impatient_server();
    Client client(srv.port());
    for (int i = 0; i < 12; ++i) {
        ASSERT_FALSE(client.thread_of_request().empty()) << "request " << i;
        std::this_thread::sleep_for(250ms);
    }
}

TEST(Server, ARouteSlowerThanTheRequestTimeoutStillAnswers) {
    // The timeout is the client's: a request being served has none.
    auto srv = impatient_server();
    Client client(srv.port());
    ASSERT_TRUE(client.send_raw("GET /slow HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"));
    auto [got, closed] = client.read_until_closed(10s);
    EXPECT_TRUE(closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got.substr(0, 200);
    EXPECT_NE(got.find("\"slow\""), std::string::npos);
}

TEST(Server, AClientThatDoesNotReadItsResponseIsCutOffAndOthersAreServed) {
    auto srv = impatient_server();
    Client stuck(srv.port());
    stuck.shrink_receive_buffer();
    ASSERT_TRUE(stuck.send_raw("GET /big HTTP/1.1\r\nHost: test\r\n\r\n"));
    std::this_thread::sleep_for(2500ms);  // reads nothing meanwhile
    Client other(srv.port());
    EXPECT_FALSE(other.thread_of_request().empty());
    auto [got, closed] = stuck.read_until_closed(10s);
    EXPECT_TRUE(closed);
    EXPECT_LT(got.size(), std::size_t{8} << 20) << "the whole response went out to a client that read none of it";
}

}  // namespace
}  // namespace agentd::http
