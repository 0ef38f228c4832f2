#include "http/chunked_socket_writer.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdio>

#include "net/send_batch.hpp"

namespace agentd::http {

namespace {

constexpr int kSendFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
/// Buffer capacity a connection keeps once its backlog has gone out.
constexpr std::size_t kKeptCapacity = 64 * 1024;

/// Bytes sent, 0 when the socket takes nothing now, -1 when the connection failed.
ssize_t send_vectors(int fd, iovec* iov, int count) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    for (;;) {
        ssize_t n = ::sendmsg(fd, &msg, kSendFlags);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -1;
    }
}

/// "<size in hex>\r\n" into `out` (24 bytes); its length.
std::size_t chunk_head(char* out, std::size_t size) {
    return static_cast<std::size_t>(std::snprintf(out, 24, "%zx\r\n", size));
}

}  // namespace

void ChunkedSocketWriter::keep_unsent(const iovec* iov, int count, ssize_t sent) {
    if (sent < 0) {
        failed_ = true;
        return;
    }
    auto skip = static_cast<std::size_t>(sent);
    for (int i = 0; i < count; ++i) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        pending_.append(static_cast<const char*>(iov[i].iov_base) + skip, iov[i].iov_len - skip);
        skip = 0;
    }
}

void ChunkedSocketWriter::send_locked(std::string_view piece) {
    char head[24];
    const std::size_t head_len = chunk_head(head, piece.size());
    iovec iov[3] = {{head, head_len},
                    {const_cast<char*>(piece.data()), piece.size()},
                    {const_cast<char*>("\r\n"), 2}};
    keep_unsent(iov, 3, send_vectors(fd_, iov, 3));
}

void ChunkedSocketWriter::flush_locked() {
    while (pending_offset_ < pending_.size()) {
        iovec iov{pending_.data() + pending_offset_, pending_.size() - pending_offset_};
        ssize_t sent = send_vectors(fd_, &iov, 1);
        if (sent < 0) {
            failed_ = true;
            break;
        }
        if (sent == 0) return;
        pending_offset_ += static_cast<std::size_t>(sent);
    }
    // All out: a large backlog's buffer is given back, not kept per connection.
    if (pending_.capacity() > kKeptCapacity) std::string().swap(pending_);
    else pending_.clear();
    pending_offset_ = 0;
}

DirectWriter::Result ChunkedSocketWriter::write(std::string_view piece) {
    std::lock_guard lock(mutex_);
    if (closed_ || failed_ || !pending_.empty()) return Result::kRefused;
    send_locked(piece);
    return taken_result();
}

bool ChunkedSocketWriter::stage(std::string_view piece, net::SendBatch& sends) {
    std::unique_lock lock(mutex_);
    if (closed_ || failed_ || !pending_.empty()) return false;
    staged_iov_[0] = {staged_head_, chunk_head(staged_head_, piece.size())};
    staged_iov_[1] = {const_cast<char*>(piece.data()), piece.size()};
    staged_iov_[2] = {const_cast<char*>("\r\n"), 2};
    staged_slot_ = sends.add(fd_, staged_iov_);
    staged_ = std::move(lock);
    return true;
}

DirectWriter::Result ChunkedSocketWriter::finish(const net::SendBatch& sends) {
    std::unique_lock lock = std::move(staged_);
    keep_unsent(staged_iov_, 3, sends.result(staged_slot_));
    return taken_result();
}

void ChunkedSocketWriter::send(std::string_view piece) {
    std::lock_guard lock(mutex_);
    if (closed_ || failed_) return;
    if (pending_.empty()) {
        send_locked(piece);
        return;
    }
    char head[24];
    pending_.append(head, chunk_head(head, piece.size()));
    pending_.append(piece);
    pending_.append("\r\n");
    flush_locked();
}

void ChunkedSocketWriter::flush() {
    std::lock_guard lock(mutex_);
    if (closed_ || failed_) return;
    flush_locked();
}

bool ChunkedSocketWriter::pending() const {
    std::lock_guard lock(mutex_);
    return !closed_ && !failed_ && !pending_.empty();
}

bool ChunkedSocketWriter::failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
}

void ChunkedSocketWriter::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
}

}  // namespace agentd::http
