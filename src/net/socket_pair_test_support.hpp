#pragma once
// A connected pair of stream sockets for tests of code that writes to sockets
// (batched sends, the chunked writer): `writer` is the side under test.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace agentd::net::testing {

struct SocketPair {
    int writer = -1;
    int reader = -1;
    /// `small_buffers`: 4 KiB each way, so a few kilobytes back up.
    explicit SocketPair(bool small_buffers = false) {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        writer = fds[0];
        reader = fds[1];
        if (small_buffers) {
            int small = 4096;
            ::setsockopt(writer, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
            ::setsockopt(reader, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        }
    }
    ~SocketPair() {
        if (writer >= 0) ::close(writer);
        if (reader >= 0) ::close(reader);
    }
    SocketPair(const SocketPair&) = delete;
    SocketPair& operator=(const SocketPair&) = delete;
    /// Closes the reading side (a client that went away).
    void close_reader() {
        ::close(reader);
        reader = -1;
    }
    /// Everything readable now, without waiting.
    std::string read_available() const {
        std::string out;
        char buf[65536];
        for (;;) {
            ssize_t n = ::recv(reader, buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
};

}  // namespace agentd::net::testing
