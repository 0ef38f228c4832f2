// The fan-out benchmark's clients, compiled: N streaming GETs on one session,
// read by one epoll loop that only stores what arrives with the kernel's
// receive timestamp of each read (SO_TIMESTAMPNS). rt.py drives it and parses
// the reads afterwards exactly as it parses its own (bench/runtime/rt.py,
// SSEConn._feed). A Python reader needs ~13 µs of CPU per frame on the same
// two cores as agentd; this one a few, so the benchmark measures agentd rather
// than its client.
//
// usage: agentd_fanout_reader --host H --port P --path PATH --user U --clients N
//                             --timeout SECONDS --out FILE
// Prints "ready" once every stream has delivered its first frame, then reads
// until every stream has seen "REPLY_END" (or the timeout), and writes FILE:
//   header: "AFR1", u32 clients, f64 cpu_seconds (from "ready" to the end),
//           u32 finished clients
//   then per read: u32 client, u32 length, f64 t_kernel, f64 t_app, bytes
// (little-endian, times in seconds since the epoch). Exit 0, or 1 with a reason on stderr.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "bench_clock.hpp"

namespace {

struct Read {
    std::uint32_t client;
    std::uint32_t offset;  // into Client::bytes
    std::uint32_t length;
    double t_kernel;
    double t_app;
};

/// Room reserved for each client's bytes up front (a run sends ~70 KB). A
/// buffer that grew by doubling reallocated for all clients at the same event,
/// and copying and faulting in a thousand new buffers stalled this loop for
/// ~50 ms: the next event then arrived before the stalled one was read, the
/// two came back in one read, and the read's timestamp (the later one) made
/// the first look 50 ms late (two events per run, ~1% of all frames: the p99).
/// Untouched reserved pages cost nothing.
constexpr std::size_t kBytesReserved = 512 * 1024;

struct Client {
    int fd = -1;
    std::string bytes;  // everything received, in order
    bool opened = false;
    bool finished = false;
};

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "fanout_reader: %s\n", why.c_str());
    std::exit(1);
}

using bench_clock::cpu_s;
using bench_clock::now_s;

/// The header block and the first frame after it (the opening comment) arrived.
bool has_first_frame(const std::string& b) {
    auto head = b.find("\r\n\r\n");
    return head != std::string::npos && b.find("\n\n", head + 4) != std::string::npos;
}

constexpr std::string_view kEndMarker = "\"REPLY_END\"";

int connect_stream(const std::string& host, int port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) die("bad host " + host);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        die(std::string("connect: ") + std::strerror(errno));
    std::size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) die(std::string("send: ") + std::strerror(errno));
        sent += static_cast<std::size_t>(n);
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", path, user = "bench", out;
    int port = 0, clients = 0;
    double timeout = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--host") host = v;
        else if (k == "--port") port = std::stoi(v);
        else if (k == "--path") path = v;
        else if (k == "--user") user = v;
        else if (k == "--clients") clients = std::stoi(v);
        else if (k == "--timeout") timeout = std::stod(v);
        else if (k == "--out") out = v;
        else die("unknown option " + k);
    }
    if (port <= 0 || clients <= 0 || path.empty() || out.empty()) die("need --port, --path, --clients and --out");

    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                                "\r\nX-User-ID: " + user + "\r\nAccept: text/event-stream\r\n\r\n";
    std::vector<Client> cs(static_cast<std::size_t>(clients));
    int ep = ::epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    for (int i = 0; i < clients; ++i) {
        cs[i].fd = connect_stream(host, port, request);
        cs[i].bytes.reserve(kBytesReserved);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0) die("epoll_ctl");
    }

    std::vector<Read> reads;
    reads.reserve(static_cast<std::size_t>(clients) * 256);
    int opened = 0, finished = 0;
    bool ready = false;
    double cpu_at_ready = 0;
    const double deadline_open = now_s() + timeout;
    double deadline = deadline_open;
    std::vector<epoll_event> events(1024);
    char buf[262144];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];

    while (finished < clients) {
        if (!ready && opened == clients) {
            ready = true;
            cpu_at_ready = cpu_s();
            deadline = now_s() + timeout;
            std::printf("ready\n");
            std::fflush(stdout);
        }
        const double left = deadline - now_s();
        if (left <= 0) break;
        int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), static_cast<int>(left * 1000) + 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int e = 0; e < n; ++e) {
            const std::uint32_t idx = events[e].data.u32;
            Client& c = cs[idx];
            iovec iov{buf, sizeof buf};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            ssize_t got = ::recvmsg(c.fd, &msg, MSG_DONTWAIT);
            if (got < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                die("recv: " + std::string(std::strerror(errno)));
            }
            const double t_app = now_s();
            if (got == 0) die("client " + std::to_string(idx) + ": closed by the server");
            const double t_kernel = bench_clock::receive_time(msg, t_app);
            const std::size_t before = c.bytes.size();
            c.bytes.append(buf, static_cast<std::size_t>(got));
            reads.push_back({idx, static_cast<std::uint32_t>(before), static_cast<std::uint32_t>(got), t_kernel, t_app});
            if (!c.opened && has_first_frame(c.bytes)) {
                c.opened = true;
                ++opened;
            }
            if (ready && !c.finished) {
                // Look only where the marker can newly appear.
                const std::size_t from = before >= kEndMarker.size() ? before - kEndMarker.size() : 0;
                if (c.bytes.find(kEndMarker, from) != std::string::npos) {
                    c.finished = true;
                    ++finished;
                }
            }
        }
    }
    const double cpu = ready ? cpu_s() - cpu_at_ready : 0;
    if (!ready) die("only " + std::to_string(opened) + " of " + std::to_string(clients) + " streams opened");

    FILE* f = std::fopen(out.c_str(), "wb");
    if (!f) die("cannot write " + out);
    std::fwrite("AFR1", 1, 4, f);
    const std::uint32_t n_clients = static_cast<std::uint32_t>(clients), n_finished = static_cast<std::uint32_t>(finished);
    std::fwrite(&n_clients, sizeof n_clients, 1, f);
    std::fwrite(&cpu, sizeof cpu, 1, f);
    std::fwrite(&n_finished, sizeof n_finished, 1, f);
    for (const auto& r : reads) {
        std::fwrite(&r.client, sizeof r.client, 1, f);
        std::fwrite(&r.length, sizeof r.length, 1, f);
        std::fwrite(&r.t_kernel, sizeof r.t_kernel, 1, f);
        std::fwrite(&r.t_app, sizeof r.t_app, 1, f);
        std::fwrite(cs[r.client].bytes.data() + r.offset, 1, r.length, f);
    }
    std::fclose(f);
    for (auto& c : cs) ::close(c.fd);
    return 0;
}
