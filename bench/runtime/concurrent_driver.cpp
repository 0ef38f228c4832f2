// The concurrent-sessions benchmark's fake LLM provider and its clients, compiled
// into one process: one thread, one epoll loop. rt.py's default harness for this
// scenario (the Python fake provider, a thread per request, plus asyncio clients)
// burns ~1.2 s of CPU on the same two cores as agentd while 200 turns wait out a
// 200 ms provider latency, so it measures itself; this one a few milliseconds.
//
// usage: agentd_concurrent_driver --host H --port P --user U --latency-ms L --text T
//                                 --timeout SECONDS --out FILE
// Protocol with rt.py (scenario_concurrent, --driver):
//   1. prints "provider PORT": the fake provider listens on 127.0.0.1:PORT (served from now on);
//   2. reads stdin lines "SID\tSTREAM_PATH\tPOST_BODY" up to "go-setup-done" (or EOF);
//   3. opens every session's stream (GET STREAM_PATH, until its 200 header block) and one more
//      connection per session for its POST, then prints "ready";
//   4. on the line "go" writes every POST /chat/ in one pass, then runs until every stream has
//      seen its REPLY_END frame and every POST its response (or the timeout);
//   5. writes FILE: {"t0", "t_sent", "cpu_s" (its own CPU from "go" to the end), "posts": [{"sid",
//      "status", "t", "body"}], "ends": {SID: [t_kernel, finished_reason]}, "stream_errors": {SID:
//      why}, "provider": [{"time", "seen", "finished_at", "outcome", "model", "include_usage"}]}
//      (times in seconds since the epoch; t_kernel is the SO_TIMESTAMPNS receive time of the read
//      that completed the REPLY_END frame).
// The provider answers POST .../chat/completions `--latency-ms` after the request arrived (its kernel
// receive time, as a remote provider's clock would start; "seen" is when this thread parsed it) with an
// OpenAI streaming answer of the text, as tests/fixtures/fake_provider/server.py (render_openai)
// does; anything else gets its 404. Exit 0 (rt.py judges the sessions), or 1 with a reason on
// stderr when the setup fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "bench_clock.hpp"

namespace {

constexpr std::size_t kMaxOpening = 64;  // connects in flight during the setup
constexpr std::size_t kBodyKept = 200;   // bytes of each POST response body in the output

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "concurrent_driver: %s\n", why.c_str());
    std::exit(1);
}

using bench_clock::cpu_s;
using bench_clock::now_s;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& ch : r) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    return r;
}

/// Appends s escaped for a JSON string; ascii_only also escapes bytes >= 0x80 (one \u00XX per byte).
void json_escape(std::string& out, std::string_view s, bool ascii_only) {
    for (char ch : s) {
        const auto b = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\r') {
            out += "\\r";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (b < 0x20 || (ascii_only && b >= 0x80)) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\u%04x", b);
            out += hex;
        } else {
            out += ch;
        }
    }
}

std::string quoted(std::string_view s) {
    std::string r = "\"";
    json_escape(r, s, true);
    return r + "\"";
}

/// The status code of a response header block ("HTTP/1.1 200 OK..."); 0 when unreadable.
int status_of(std::string_view head) {
    const auto sp = head.find(' ');
    if (sp == std::string_view::npos || sp + 4 > head.size()) return 0;
    int code = 0;
    for (std::size_t i = sp + 1; i < sp + 4; ++i) {
        if (head[i] < '0' || head[i] > '9') return 0;
        code = code * 10 + (head[i] - '0');
    }
    return code;
}

/// The value of header `name` (lowercase) in a header block without its final CRLFCRLF; "" when absent.
std::string header(std::string_view head, std::string_view name) {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos) {
        pos += 2;
        const std::size_t eol = std::min(head.find("\r\n", pos), head.size());
        const std::string_view line = head.substr(pos, eol - pos);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && lower(line.substr(0, colon)) == name) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
            return std::string(v);
        }
        if (eol >= head.size()) break;
        pos = eol;
    }
    return "";
}

/// A Content-Length value; -1 when absent or not a number.
long long content_length(const std::string& v) {
    if (v.empty() || v.size() > 15) return -1;
    long long n = 0;
    for (char ch : v) {
        if (ch < '0' || ch > '9') return -1;
        n = n * 10 + (ch - '0');
    }
    return n;
}

/// Incremental decoder of the chunked transfer coding.
struct Dechunker {
    std::string pending;
    bool done = false;

    /// Appends the payload that `in` completes to out; false on a malformed chunk header.
    bool feed(std::string_view in, std::string& out) {
        pending.append(in);
        std::size_t pos = 0;
        while (!done) {
            const std::size_t nl = pending.find("\r\n", pos);
            if (nl == std::string::npos) break;
            char* end = nullptr;
            const std::string size_line = pending.substr(pos, nl - pos);
            const unsigned long size = std::strtoul(size_line.c_str(), &end, 16);
            if (end == size_line.c_str()) return false;
            if (size == 0) {
                done = true;
                pos = pending.size();
                break;
            }
            if (pending.size() < nl + 2 + size + 2) break;
            out.append(pending, nl + 2, size);
            pos = nl + 2 + size + 2;
        }
        pending.erase(0, pos);
        return true;
    }
};

enum Kind : std::uint32_t { kListen = 1, kStdin, kStream, kPost, kProvider };

std::uint64_t tag(Kind k, std::size_t i) { return (static_cast<std::uint64_t>(k) << 32) | i; }

enum class Flush { kDone, kPending, kError };

/// One socket's outgoing bytes: written without blocking; EPOLLOUT is asked for while some are left.
struct Outbox {
    std::string data;
    std::size_t off = 0;
    bool want_out = false;

    Flush flush(int ep, int fd, std::uint64_t id) {
        while (off < data.size()) {
            const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (!want_out) watch(ep, fd, id, true);
                return Flush::kPending;
            }
            return Flush::kError;
        }
        data.clear();
        off = 0;
        if (want_out) watch(ep, fd, id, false);
        return Flush::kDone;
    }

    void watch(int ep, int fd, std::uint64_t id, bool out) {
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? EPOLLOUT : 0u);
        ev.data.u64 = id;
        if (::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0) die(errno_text("epoll_ctl"));
        want_out = out;
    }
};

struct Stream {
    enum State { kIdle, kConnecting, kHead, kOpen, kClosed } state = kIdle;
    int fd = -1;
    Outbox out;
    std::string head;  // the response header block while it arrives
    bool chunked = false;
    Dechunker dechunk;
    std::string sse;  // decoded body not yet split into frames
    std::size_t scan = 0;  // where "\n\n" may first be in sse
    bool ended = false;  // its REPLY_END frame arrived
    double t_end = 0;  // kernel receive time of the read that completed it
    std::string reason;  // finished_reason as a JSON value: "\"completed\"" or "null"
    std::string error;
};

struct Post {
    enum State { kIdle, kConnecting, kConnected, kSent, kDone } state = kIdle;
    int fd = -1;
    Outbox out;
    std::string resp;  // header block, then the raw body
    std::size_t body_at = std::string::npos;
    long long length = -1;  // Content-Length, -1 without
    bool chunked = false;
    Dechunker dechunk;
    std::string body;  // decoded body
    int status = 0;
    double t = 0;
};

struct Session {
    std::string sid, path, body;
    Stream stream;
    Post post;
};

struct ProviderRecord {
    double time = 0;  // when the request was whole in the kernel (SO_TIMESTAMPNS): the latency counts from here
    double seen = 0;  // when this thread parsed it, which may be later while agentd keeps both cores busy
    double finished_at = -1;
    std::string outcome = "in_progress";
    std::string model;  // as it appears in the request's JSON (escaped)
    bool include_usage = false;
    unsigned seq = 0;
};

struct ProviderConn {
    int fd = -1;
    std::string in;
    double last_rx = 0;  // kernel receive time of the latest bytes in `in`
    Outbox out;
    long rec = -1;  // the request being answered
    bool waiting = false;  // an answer is scheduled or being written
    bool close_after = false;
};

struct Due {
    double at;
    std::size_t conn;
};

struct Options {
    std::string host = "127.0.0.1", user = "bench", text = "hello", out;
    int port = 0;
    double latency_s = 0.2, timeout = 30;
};

class Driver {
public:
    explicit Driver(Options o) : o_(std::move(o)) {}
    int run();

private:
    enum Phase { kSetup, kOpenStreams, kOpenPosts, kReady, kRun };

    void listen_provider();
    void add(int fd, std::uint32_t events, std::uint64_t id);
    int connect_to_agentd();
    void on_stdin();
    void take_lines();
    void start_opening();
    void open_next();
    void on_stream(std::size_t i, std::uint32_t events);
    void stream_body(Session& s, std::string_view data, double t_kernel);
    void stream_frame(Stream& st, std::string_view frame, double t_kernel);
    void stream_failed(Session& s, const std::string& why);
    void on_post(std::size_t i, std::uint32_t events);
    void post_check(Session& s, bool closed);
    void post_done(Session& s, int status, std::string_view body);
    void go();
    void on_accept();
    void on_provider(std::size_t i, std::uint32_t events);
    void provider_parse(std::size_t i);
    void provider_answer(std::size_t i, std::string response);
    void provider_answered(std::size_t i);
    void provider_close(std::size_t i);
    void fire_due();
    std::string completion(const ProviderRecord& r) const;
    void write_out() const;

    Options o_;
    int ep_ = -1, listen_fd_ = -1;
    Phase phase_ = kSetup;
    std::vector<Session> sessions_;
    std::deque<std::string> lines_;
    std::string stdin_buf_;
    bool stdin_eof_ = false;
    std::size_t next_open_ = 0, in_flight_ = 0, opened_ = 0, streams_done_ = 0, posts_done_ = 0;
    double deadline_ = 0;
    std::vector<ProviderConn> provider_;
    std::vector<ProviderRecord> records_;
    std::deque<Due> due_;
    double t0_ = 0, t_sent_ = 0, cpu0_ = 0, cpu_ = 0;
    char buf_[262144];
};

void Driver::add(int fd, std::uint32_t events, std::uint64_t id) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) die(errno_text("epoll_ctl"));
}

void Driver::listen_provider() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) die(errno_text("socket"));
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die(errno_text("bind"));
    if (::listen(listen_fd_, 1024) != 0) die(errno_text("listen"));
    socklen_t len = sizeof addr;
    if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) die(errno_text("getsockname"));
    add(listen_fd_, EPOLLIN, tag(kListen, 0));
    std::printf("provider %u\n", static_cast<unsigned>(ntohs(addr.sin_port)));
    std::fflush(stdout);
}

int Driver::connect_to_agentd() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die(errno_text("socket"));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (::inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr) != 1) die("bad host " + o_.host);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS)
        die(errno_text("connect"));
    return fd;
}

// ---- setup: stdin, streams, POST connections ------------------------------------------------

void Driver::on_stdin() {
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buf_, sizeof buf_);
        if (n > 0) {
            stdin_buf_.append(buf_, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        stdin_eof_ = true;  // EOF or an error
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, STDIN_FILENO, nullptr);
        break;
    }
    std::size_t nl;
    while ((nl = stdin_buf_.find('\n')) != std::string::npos) {
        std::string line = stdin_buf_.substr(0, nl);
        stdin_buf_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines_.push_back(std::move(line));
    }
    if (stdin_eof_ && !stdin_buf_.empty()) {
        lines_.push_back(std::move(stdin_buf_));
        stdin_buf_.clear();
    }
    take_lines();
}

void Driver::take_lines() {
    while (!lines_.empty()) {
        if (phase_ == kSetup) {
            std::string line = std::move(lines_.front());
            lines_.pop_front();
            if (line == "go-setup-done") {
                start_opening();
                continue;
            }
            if (line.empty()) continue;
            const auto t1 = line.find('\t');
            const auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
            if (t2 == std::string::npos) die("bad setup line (want SID<tab>PATH<tab>BODY): " + line.substr(0, 200));
            sessions_.push_back({line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1), {}, {}});
        } else if (phase_ == kReady) {
            std::string line = std::move(lines_.front());
            lines_.pop_front();
            if (line == "go") go();
        } else {
            return;  // kept until the phase that reads them
        }
    }
    if (stdin_eof_ && lines_.empty()) {
        if (phase_ == kSetup) start_opening();
        else if (phase_ == kReady) die("stdin closed before \"go\"");
    }
}

void Driver::start_opening() {
    if (sessions_.empty()) die("no sessions on stdin");
    phase_ = kOpenStreams;
    deadline_ = now_s() + o_.timeout;
    open_next();
}

/// Starts connects up to kMaxOpening in flight: first every stream, then every POST connection.
void Driver::open_next() {
    const std::size_t n = sessions_.size();
    if (phase_ == kOpenStreams && opened_ == n) {
        phase_ = kOpenPosts;
        next_open_ = opened_ = 0;
        deadline_ = now_s() + o_.timeout;
    }
    if (phase_ == kOpenPosts && opened_ == n) {
        phase_ = kReady;
        deadline_ = 0;
        std::printf("ready\n");
        std::fflush(stdout);
        take_lines();
        return;
    }
    while (next_open_ < n && in_flight_ < kMaxOpening) {
        const std::size_t i = next_open_++;
        const int fd = connect_to_agentd();
        ++in_flight_;
        if (phase_ == kOpenStreams) {
            int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
            sessions_[i].stream.fd = fd;
            sessions_[i].stream.state = Stream::kConnecting;
            add(fd, EPOLLOUT, tag(kStream, i));
        } else {
            sessions_[i].post.fd = fd;
            sessions_[i].post.state = Post::kConnecting;
            add(fd, EPOLLOUT, tag(kPost, i));
        }
    }
}

/// One non-blocking recvmsg into buf that also takes the kernel's receive time
/// (SO_TIMESTAMPNS; `now` when the socket gives none).
ssize_t recv_timestamped(int fd, char* buf, std::size_t size, double& t_kernel) {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    iovec iov{buf, size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t got = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (got > 0) t_kernel = bench_clock::receive_time(msg, now_s());
    return got;
}

/// The connect's outcome once the socket reports writable; dies on failure (only used in the setup).
void check_connected(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) die(errno_text("getsockopt"));
    if (err != 0) die(std::string("connect: ") + std::strerror(err));
}

void Driver::on_stream(std::size_t i, std::uint32_t events) {
    Session& s = sessions_[i];
    Stream& st = s.stream;
    if (st.state == Stream::kConnecting) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        check_connected(st.fd);
        st.state = Stream::kHead;
        st.out.data = "GET " + s.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
                      "\r\nX-User-ID: " + o_.user + "\r\nAccept: text/event-stream\r\n\r\n";
        st.out.want_out = true;  // registered for EPOLLOUT only: flush() switches to EPOLLIN
        if (st.out.flush(ep_, st.fd, tag(kStream, i)) == Flush::kError) die(errno_text("send"));
        return;
    }
    if (st.state == Stream::kClosed) return;
    if ((events & EPOLLOUT) && !st.out.data.empty()) {
        if (st.out.flush(ep_, st.fd, tag(kStream, i)) == Flush::kError) die(errno_text("send"));
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    double t_kernel = 0;
    const ssize_t got = recv_timestamped(st.fd, buf_, sizeof buf_, t_kernel);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        if (st.state == Stream::kHead) die("stream of " + s.sid + ": " + errno_text("recv"));
        stream_failed(s, errno_text("recv"));
        return;
    }
    if (got == 0) {
        if (st.state == Stream::kHead) die("stream of " + s.sid + ": closed by the server before its headers");
        if (!st.ended) stream_failed(s, "closed by the server before its REPLY_END");
        else stream_failed(s, "");
        return;
    }
    std::string_view data(buf_, static_cast<std::size_t>(got));
    if (st.state == Stream::kHead) {
        st.head.append(data);
        const auto end = st.head.find("\r\n\r\n");
        if (end == std::string::npos) return;
        const std::string_view head(st.head.data(), end);
        if (status_of(head) != 200)
            die("stream of " + s.sid + ": " + std::string(head.substr(0, std::min(head.find("\r\n"), head.size()))));
        st.chunked = lower(header(head, "transfer-encoding")).find("chunked") != std::string::npos;
        st.state = Stream::kOpen;
        const std::string rest = st.head.substr(end + 4);
        st.head.clear();
        st.head.shrink_to_fit();
        --in_flight_;
        ++opened_;
        open_next();
        if (!rest.empty()) stream_body(s, rest, t_kernel);
        return;
    }
    stream_body(s, data, t_kernel);
}

void Driver::stream_body(Session& s, std::string_view data, double t_kernel) {
    Stream& st = s.stream;
    if (st.chunked) {
        if (!st.dechunk.feed(data, st.sse)) {
            stream_failed(s, "bad chunk header");
            return;
        }
    } else {
        st.sse.append(data);
    }
    std::size_t start = 0;
    for (;;) {
        const std::size_t i = st.sse.find("\n\n", std::max(start, st.scan));
        if (i == std::string::npos) break;
        stream_frame(st, std::string_view(st.sse).substr(start, i - start), t_kernel);
        start = i + 2;
        st.scan = start;
    }
    st.sse.erase(0, start);
    st.scan = st.sse.empty() ? 0 : st.sse.size() - 1;
    if (st.dechunk.done && !st.ended) stream_failed(s, "the stream ended before its REPLY_END");
}

void Driver::stream_frame(Stream& st, std::string_view frame, double t_kernel) {
    if (st.ended) return;
    if (frame.find("\"type\": \"REPLY_END\"") == std::string_view::npos &&
        frame.find("\"type\":\"REPLY_END\"") == std::string_view::npos)
        return;
    st.ended = true;
    st.t_end = t_kernel;
    st.reason = "null";
    constexpr std::string_view key = "\"finished_reason\":";
    auto k = frame.find(key);
    if (k != std::string_view::npos) {
        k += key.size();
        while (k < frame.size() && frame[k] == ' ') ++k;
        if (k < frame.size() && frame[k] == '"') {
            std::size_t e = k + 1;
            while (e < frame.size() && frame[e] != '"') e += frame[e] == '\\' ? 2 : 1;
            if (e < frame.size()) st.reason = std::string(frame.substr(k, e + 1 - k));
        }
    }
    if (st.error.empty()) ++streams_done_;
}

/// A stream that ends here: closed, with `why` recorded unless its REPLY_END already arrived.
void Driver::stream_failed(Session& s, const std::string& why) {
    Stream& st = s.stream;
    if (st.fd >= 0) ::close(st.fd);
    st.fd = -1;
    st.state = Stream::kClosed;
    if (st.ended || why.empty()) return;
    st.error = why;
    ++streams_done_;
}

void Driver::on_post(std::size_t i, std::uint32_t events) {
    Session& s = sessions_[i];
    Post& p = s.post;
    if (p.state == Post::kConnecting) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        check_connected(p.fd);
        p.state = Post::kConnected;
        p.out.watch(ep_, p.fd, tag(kPost, i), false);
        --in_flight_;
        ++opened_;
        open_next();
        return;
    }
    if (p.state == Post::kDone) return;
    if ((events & EPOLLOUT) && !p.out.data.empty()) {
        if (p.out.flush(ep_, p.fd, tag(kPost, i)) == Flush::kError) {
            post_done(s, 0, errno_text("send"));
            return;
        }
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    for (;;) {
        const ssize_t got = ::recv(p.fd, buf_, sizeof buf_, MSG_DONTWAIT);
        if (got > 0) {
            p.resp.append(buf_, static_cast<std::size_t>(got));
            continue;
        }
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (got < 0) {
            post_done(s, 0, errno_text("recv"));
            return;
        }
        post_check(s, true);
        return;
    }
    post_check(s, false);
}

/// Completes the POST's response when it is whole (or, `closed`, when the server closed).
void Driver::post_check(Session& s, bool closed) {
    Post& p = s.post;
    if (p.body_at == std::string::npos) {
        const auto end = p.resp.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (closed)
                post_done(s, 0, p.state == Post::kSent ? "closed by the server before the response"
                                                       : "closed by the server before the POST was sent");
            return;
        }
        const std::string_view head(p.resp.data(), end);
        p.status = status_of(head);
        p.length = content_length(header(head, "content-length"));
        p.chunked = lower(header(head, "transfer-encoding")).find("chunked") != std::string::npos;
        p.body_at = end + 4;
    }
    if (p.chunked) {
        if (!p.dechunk.feed(std::string_view(p.resp).substr(p.body_at), p.body)) {
            post_done(s, 0, "bad chunk header in the response");
            return;
        }
        p.body_at = p.resp.size();
        if (p.dechunk.done) post_done(s, p.status, p.body);
        else if (closed) post_done(s, 0, "closed by the server inside the chunked body");
        return;
    }
    const std::size_t have = p.resp.size() - p.body_at;
    if (p.length >= 0 && have >= static_cast<std::size_t>(p.length)) {
        post_done(s, p.status, std::string_view(p.resp).substr(p.body_at, static_cast<std::size_t>(p.length)));
    } else if (closed) {
        if (p.length >= 0) post_done(s, 0, "closed by the server inside the body");
        else post_done(s, p.status, std::string_view(p.resp).substr(p.body_at));
    }
}

void Driver::post_done(Session& s, int status, std::string_view body) {
    Post& p = s.post;
    p.status = status;
    p.t = now_s();
    p.body = std::string(body.substr(0, std::min(body.size(), kBodyKept)));
    p.resp.clear();
    if (p.fd >= 0) ::close(p.fd);
    p.fd = -1;
    p.state = Post::kDone;
    ++posts_done_;
}

void Driver::go() {
    cpu0_ = cpu_s();
    phase_ = kRun;
    t0_ = now_s();
    deadline_ = t0_ + o_.timeout;
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
        Session& s = sessions_[i];
        Post& p = s.post;
        if (p.state != Post::kConnected) continue;  // closed by the server before "go": already recorded
        p.state = Post::kSent;
        p.out.data = "POST /chat/ HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
                     "\r\nX-User-ID: " + o_.user + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(s.body.size()) + "\r\nConnection: close\r\n\r\n" + s.body;
        if (p.out.flush(ep_, p.fd, tag(kPost, i)) == Flush::kError) post_done(s, 0, errno_text("send"));
    }
    t_sent_ = now_s();
}

// ---- the fake provider -----------------------------------------------------------------------

void Driver::on_accept() {
    for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            die(errno_text("accept"));
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        provider_.push_back({});
        provider_.back().fd = fd;
        add(fd, EPOLLIN, tag(kProvider, provider_.size() - 1));
    }
}

void Driver::on_provider(std::size_t i, std::uint32_t events) {
    ProviderConn& c = provider_[i];
    if (c.fd < 0) return;
    if ((events & EPOLLOUT) && !c.out.data.empty()) {
        const Flush f = c.out.flush(ep_, c.fd, tag(kProvider, i));
        if (f == Flush::kError) {
            provider_close(i);
            return;
        }
        if (f == Flush::kDone) {
            provider_answered(i);
            if (c.fd < 0) return;
        }
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    for (;;) {
        const ssize_t got = recv_timestamped(c.fd, buf_, sizeof buf_, c.last_rx);
        if (got > 0) {
            c.in.append(buf_, static_cast<std::size_t>(got));
            continue;
        }
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        provider_close(i);  // closed by agentd, or reset
        return;
    }
    provider_parse(i);
}

/// The JSON string contents after "key":, as they appear in the body (still escaped); "" when absent.
std::string json_string_field(std::string_view body, std::string_view key) {
    const std::string pat = "\"" + std::string(key) + "\":";
    auto k = body.find(pat);
    if (k == std::string_view::npos) return "";
    k += pat.size();
    while (k < body.size() && (body[k] == ' ' || body[k] == '\t')) ++k;
    if (k >= body.size() || body[k] != '"') return "";
    std::size_t e = k + 1;
    while (e < body.size() && body[e] != '"') e += body[e] == '\\' ? 2 : 1;
    if (e >= body.size()) return "";
    return std::string(body.substr(k + 1, e - k - 1));
}

std::string json_error(std::string_view message, std::string_view code) {
    std::string r = "{\"error\":{\"message\":\"";
    json_escape(r, message, false);
    r += "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":";
    r += code.empty() ? "null" : "\"" + std::string(code) + "\"";
    return r + "}}";
}

std::string plain_response(int status, const char* reason, const std::string& body, bool close) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n" + (close ? "Connection: close\r\n" : "") +
           "\r\n" + body;
}

/// Takes the next whole request off the connection (one at a time: the next waits for this answer).
void Driver::provider_parse(std::size_t i) {
    ProviderConn& c = provider_[i];
    if (c.fd < 0 || c.waiting) return;
    const auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    const std::string_view head(c.in.data(), end);
    const std::string_view line = head.substr(0, std::min(head.find("\r\n"), head.size()));
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    const std::string method(line.substr(0, sp1));
    std::string path = sp1 == std::string_view::npos ? "" : std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    path = path.substr(0, path.find('?'));
    const bool close = lower(header(head, "connection")) == "close";

    const bool chunked = lower(header(head, "transfer-encoding")).find("chunked") != std::string::npos;
    const std::string cl = header(head, "content-length");
    const long long length = cl.empty() ? 0 : content_length(cl);
    if (!chunked && length >= 0 && c.in.size() < end + 4 + static_cast<std::size_t>(length)) return;  // not whole

    records_.push_back({});
    ProviderRecord& r = records_.back();
    r.seq = static_cast<unsigned>(records_.size());
    c.rec = static_cast<long>(records_.size() - 1);
    c.waiting = true;
    r.seen = now_s();
    if (chunked || length < 0) {
        r.time = r.seen;
        r.outcome = "bad_request";
        c.in.clear();
        c.close_after = true;
        const char* why = chunked ? "chunked request bodies are not supported" : "bad Content-Length";
        provider_answer(i, plain_response(400, "Bad Request", json_error(why, ""), true));
        return;
    }
    // A remote provider's clock starts when the request reaches it, not when a
    // process sharing agentd's cores gets to read it.
    r.time = std::min(c.last_rx > 0 ? c.last_rx : r.seen, r.seen);
    c.close_after = close;
    const std::string_view body = std::string_view(c.in).substr(end + 4, static_cast<std::size_t>(length));
    constexpr std::string_view suffix = "/chat/completions";
    const bool completions = method == "POST" && path.size() >= suffix.size() &&
                             path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (completions) {
        r.model = json_string_field(body, "model");
        if (r.model.empty()) r.model = "gpt-fake";
        r.include_usage = body.find("\"include_usage\":true") != std::string_view::npos ||
                          body.find("\"include_usage\": true") != std::string_view::npos;
    }
    c.in.erase(0, end + 4 + static_cast<std::size_t>(length));  // before answering: that may take the next one
    if (completions) {
        // Arrival times need not come in the order the requests are read.
        const Due d{r.time + o_.latency_s, i};
        due_.insert(std::upper_bound(due_.begin(), due_.end(), d, [](const Due& a, const Due& b) { return a.at < b.at; }),
                    d);
    } else {
        r.outcome = "not_found";
        const std::string error = json_error("Unknown request URL: " + method + " " + path, "unknown_url");
        provider_answer(i, plain_response(404, "Not Found", error, close));
    }
}

void Driver::provider_answer(std::size_t i, std::string response) {
    ProviderConn& c = provider_[i];
    c.out.data = std::move(response);
    c.out.off = 0;
    const Flush f = c.out.flush(ep_, c.fd, tag(kProvider, i));
    if (f == Flush::kError) provider_close(i);
    else if (f == Flush::kDone) provider_answered(i);
}

/// The answer's last byte is written: its record is finished, and the next request may be taken.
void Driver::provider_answered(std::size_t i) {
    ProviderConn& c = provider_[i];
    if (c.rec >= 0) {
        ProviderRecord& r = records_[static_cast<std::size_t>(c.rec)];
        r.finished_at = now_s();
        if (r.outcome == "in_progress") r.outcome = "completed";
    }
    c.rec = -1;
    c.waiting = false;
    if (c.close_after) {
        ::close(c.fd);
        c.fd = -1;
        return;
    }
    provider_parse(i);
}

void Driver::provider_close(std::size_t i) {
    ProviderConn& c = provider_[i];
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    if (c.rec >= 0) {
        ProviderRecord& r = records_[static_cast<std::size_t>(c.rec)];
        if (r.finished_at < 0) {
            r.finished_at = now_s();
            r.outcome = "client_closed";
        }
    }
    c.rec = -1;
    c.waiting = false;
}

/// Appends `frame` as one chunk of the chunked transfer coding.
void chunk_raw(std::string& out, std::string_view frame) {
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", frame.size());
    out += size;
    out += frame;
    out += "\r\n";
}

void sse_chunk(std::string& out, const std::string& frame_json) { chunk_raw(out, "data: " + frame_json + "\n\n"); }

/// The OpenAI streaming answer, as render_openai in tests/fixtures/fake_provider/server.py writes it.
std::string Driver::completion(const ProviderRecord& r) const {
    char seq[16];
    std::snprintf(seq, sizeof seq, "%04u", r.seq);
    const std::string head = "{\"id\":\"chatcmpl-fake" + std::string(seq) +
                             "\",\"object\":\"chat.completion.chunk\",\"created\":" +
                             std::to_string(static_cast<long long>(std::time(nullptr))) + ",\"model\":\"" + r.model +
                             "\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_fake\",\"choices\":";
    const std::string usage_null = r.include_usage ? ",\"usage\":null" : "";
    auto chunk = [&](const std::string& delta, const char* finish) {
        return head + "[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":" + finish + "}]" +
               usage_null + "}";
    };
    std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
                      "x-request-id: req_fake" + std::string(seq) +
                      "\r\nopenai-processing-ms: 1\r\nopenai-version: 2020-10-01\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: keep-alive\r\n\r\n";
    sse_chunk(out, chunk("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null"));
    if (!o_.text.empty()) {
        std::string delta = "{\"content\":\"";
        json_escape(delta, o_.text, false);
        sse_chunk(out, chunk(delta + "\"}", "null"));
    }
    sse_chunk(out, chunk("{}", "\"stop\""));
    if (r.include_usage)
        sse_chunk(out, head + "[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15,"
                              "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                              "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                              "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}");
    chunk_raw(out, "data: [DONE]\n\n");
    out += "0\r\n\r\n";
    return out;
}

void Driver::fire_due() {
    const double now = now_s();
    while (!due_.empty() && due_.front().at <= now) {
        const std::size_t i = due_.front().conn;
        due_.pop_front();
        ProviderConn& c = provider_[i];
        if (c.fd < 0 || c.rec < 0) continue;  // closed by agentd meanwhile: recorded as client_closed
        provider_answer(i, completion(records_[static_cast<std::size_t>(c.rec)]));
    }
}

// ---- the loop and the output -----------------------------------------------------------------

int Driver::run() {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die(errno_text("epoll_create1"));
    listen_provider();
    const int fl = ::fcntl(STDIN_FILENO, F_GETFL);
    epoll_event sev{};
    sev.events = EPOLLIN;
    sev.data.u64 = tag(kStdin, 0);
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, STDIN_FILENO, &sev) == 0) {
        if (fl >= 0) ::fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
    } else if (errno == EPERM) {
        on_stdin();  // a regular file (epoll refuses those): read whole now, it cannot block
    } else {
        die(errno_text("epoll_ctl stdin"));
    }

    std::vector<epoll_event> events(1024);
    for (;;) {
        if (phase_ == kRun && streams_done_ == sessions_.size() && posts_done_ == sessions_.size()) break;
        double wake = deadline_ > 0 ? deadline_ : -1;
        if (!due_.empty()) wake = wake < 0 ? due_.front().at : std::min(wake, due_.front().at);
        const double now = now_s();
        if (deadline_ > 0 && now >= deadline_) {
            if (phase_ == kRun) break;
            die("setup: only " + std::to_string(opened_) + " of " + std::to_string(sessions_.size()) +
                (phase_ == kOpenStreams ? " streams" : " POST connections") + " opened within " +
                std::to_string(o_.timeout) + " s");
        }
        const int wait_ms = wake < 0 ? -1 : static_cast<int>(std::ceil(std::max(0.0, wake - now) * 1000.0));
        const int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), wait_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            die(errno_text("epoll_wait"));
        }
        for (int e = 0; e < n; ++e) {
            const auto kind = static_cast<Kind>(events[e].data.u64 >> 32);
            const auto idx = static_cast<std::size_t>(events[e].data.u64 & 0xffffffffu);
            const std::uint32_t ev = events[e].events;
            switch (kind) {
                case kListen: on_accept(); break;
                case kStdin: on_stdin(); break;
                case kStream: on_stream(idx, ev); break;
                case kPost: on_post(idx, ev); break;
                case kProvider: on_provider(idx, ev); break;
            }
        }
        fire_due();
    }
    cpu_ = cpu_s() - cpu0_;
    const double end = now_s();
    for (auto& s : sessions_) {
        if (s.post.state != Post::kDone) {
            post_done(s, 0, "no response within " + std::to_string(o_.timeout) + " s");
            s.post.t = end;
        }
    }
    write_out();
    for (auto& s : sessions_)
        if (s.stream.fd >= 0) ::close(s.stream.fd);
    for (auto& c : provider_)
        if (c.fd >= 0) ::close(c.fd);
    if (fl >= 0) ::fcntl(STDIN_FILENO, F_SETFL, fl);  // stdin may be a terminal shared with the shell
    return 0;
}

void Driver::write_out() const {
    std::string j;
    char num[64];
    auto t = [&](double v) {
        std::snprintf(num, sizeof num, "%.6f", v);
        return std::string(num);
    };
    j += "{\"t0\": " + t(t0_) + ", \"t_sent\": " + t(t_sent_) + ", \"cpu_s\": " + t(cpu_) + ",\n \"posts\": [";
    bool first = true;
    for (const auto& s : sessions_) {
        j += first ? "\n  " : ",\n  ";
        first = false;
        j += "{\"sid\": " + quoted(s.sid) + ", \"status\": " + std::to_string(s.post.status) + ", \"t\": " +
             t(s.post.t) + ", \"body\": " + quoted(s.post.body) + "}";
    }
    j += "],\n \"ends\": {";
    first = true;
    for (const auto& s : sessions_) {
        if (!s.stream.ended) continue;
        j += first ? "\n  " : ",\n  ";
        first = false;
        j += quoted(s.sid) + ": [" + t(s.stream.t_end) + ", " + s.stream.reason + "]";
    }
    j += "},\n \"stream_errors\": {";
    first = true;
    for (const auto& s : sessions_) {
        if (s.stream.error.empty()) continue;
        j += first ? "\n  " : ",\n  ";
        first = false;
        j += quoted(s.sid) + ": " + quoted(s.stream.error);
    }
    j += "},\n \"provider\": [";
    first = true;
    for (const auto& r : records_) {
        j += first ? "\n  " : ",\n  ";
        first = false;
        j += "{\"time\": " + t(r.time) + ", \"seen\": " + t(r.seen) + ", \"finished_at\": " + (r.finished_at < 0 ? "null" : t(r.finished_at)) +
             ", \"outcome\": " + quoted(r.outcome) + ", \"model\": \"" + r.model +
             "\", \"include_usage\": " + (r.include_usage ? "true" : "false") + "}";
    }
    j += "]}\n";
    FILE* f = std::fopen(o_.out.c_str(), "wb");
    if (!f) die("cannot write " + o_.out);
    std::fwrite(j.data(), 1, j.size(), f);
    if (std::fclose(f) != 0) die("cannot write " + o_.out);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        try {
            if (k == "--host") o.host = v;
            else if (k == "--port") o.port = std::stoi(v);
            else if (k == "--user") o.user = v;
            else if (k == "--latency-ms") o.latency_s = std::stod(v) / 1000.0;
            else if (k == "--text") o.text = v;
            else if (k == "--timeout") o.timeout = std::stod(v);
            else if (k == "--out") o.out = v;
            else die("unknown option " + k);
        } catch (const std::exception&) {
            die("bad value for " + k + ": " + v);
        }
    }
    if (argc % 2 == 0) die(std::string("option without a value: ") + argv[argc - 1]);
    if (o.port <= 0 || o.out.empty()) die("need --port and --out");
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    static Driver driver(std::move(o));  // static: it holds a 256 KiB buffer
    return driver.run();
}
