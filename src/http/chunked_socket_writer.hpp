#pragma once
// Writes the chunks of an HTTP/1.1 chunked response straight to a non-blocking
// socket: from the connection's executor, and through DirectWriter from any
// other thread (a publisher delivering a live event). Every write goes through
// one mutex, so the two never interleave bytes; what the socket does not take
// waits here, in order, and direct writes are refused until it has gone out.
#include <sys/types.h>
#include <sys/uio.h>

#include <mutex>
#include <string>
#include <string_view>

#include "http/stream_body.hpp"

namespace agentd::http {

class ChunkedSocketWriter final : public DirectWriter {
public:
    /// `fd`: a connected stream socket; it stays owned by the caller, who closes
    /// it only after close() has returned.
    explicit ChunkedSocketWriter(int fd) : fd_(fd) {}

    /// Direct write of one piece as a chunk. Refused while earlier bytes wait,
    /// after a failure and after close().
    Result write(std::string_view piece) override;
    /// write() in two phases (see DirectWriter): the chunk is one send on
    /// `sends`, and the writer's mutex stays locked until finish().
    bool stage(std::string_view piece, net::SendBatch& sends) override;
    Result finish(const net::SendBatch& sends) override;
    /// From the connection's executor: one piece as a chunk, after whatever waits.
    void send(std::string_view piece);
    /// Sends what waits, as far as the socket takes it now.
    void flush();
    /// Bytes wait for the socket to take them (wait until it is writable, then flush()).
    bool pending() const;
    /// The connection failed (reset or closed by the peer): nothing more goes out.
    bool failed() const;
    /// No write touches the socket once this returns.
    void close();

private:
    /// Sends the chunk (nothing may wait) and keeps what the socket does not take.
    void send_locked(std::string_view piece);
    void flush_locked();
    /// Keeps what a send of `iov` left (`sent` bytes went out; -1: failed).
    void keep_unsent(const iovec* iov, int count, ssize_t sent);
    /// The result of a direct write that was taken.
    Result taken_result() const { return failed_ || !pending_.empty() ? Result::kNeedsFlush : Result::kSent; }

    const int fd_;
    mutable std::mutex mutex_;  // guards everything below, and every write to fd_
    std::string pending_;
    std::size_t pending_offset_ = 0;
    bool failed_ = false;
    bool closed_ = false;
    // A staged write, between stage() and finish():
    std::unique_lock<std::mutex> staged_;
    char staged_head_[24];
    iovec staged_iov_[3];
    std::size_t staged_slot_ = 0;
};

}  // namespace agentd::http
