#pragma once
// Many small non-blocking socket sends handed to the kernel together.
//
// A publisher fanning one event out to a thousand stream clients made one
// sendmsg per client, and on this kind of VM a system call's entry and exit
// cost about as much as the loopback send itself: bench/lib/send_batch_probe.c
// measured 3.8-4.1 µs of CPU per sendmsg against 1.9-2.2 µs per send when 500
// of them go in one io_uring submission. A SendBatch collects the sends and
// submits them with one io_uring_enter per ring's worth. Where io_uring cannot
// be had (an old kernel, a seccomp profile that forbids it) it falls back to
// one sendmsg each, with the same results.
//
// Every send is MSG_DONTWAIT | MSG_NOSIGNAL: nothing waits for a full socket;
// the result says how much the kernel took.
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace agentd::net {

class SendBatch {
public:
    enum class Mode {
        kAuto,     ///< io_uring when the kernel allows it, else sendmsg
        kSendmsg,  ///< one sendmsg per send (the fallback, selectable for tests)
    };
    /// Most pieces one send may have.
    static constexpr std::size_t kMaxParts = 4;

    /// What every send passes to the kernel. Tests may drop MSG_DONTWAIT to
    /// make a send to a full blocking socket wait inside the kernel, the case
    /// a batch must cancel rather than leave running with its bytes.
    static constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;

    explicit SendBatch(Mode mode = Mode::kAuto, int send_flags = kSendFlags);
    /// Whether batches made from now on with kAuto may use io_uring (default
    /// yes; `agentd serve --io-uring false` says no, for a kernel or sandbox
    /// where it misbehaves rather than failing outright).
    static void allow_io_uring(bool allowed);
    ~SendBatch();
    SendBatch(const SendBatch&) = delete;
    SendBatch& operator=(const SendBatch&) = delete;

    /// Queues a send of `parts` (at most kMaxParts) to the stream socket `fd`;
    /// returns its slot. The bytes the parts point at must stay as they are
    /// until submit() has returned; the iovec array itself is copied.
    std::size_t add(int fd, std::span<const iovec> parts);
    /// Hands every queued send to the kernel; returns once each has a result.
    void submit();
    /// After submit(): the bytes the kernel took from that send (0 when the
    /// socket took nothing now), or -1 when the connection failed.
    ssize_t result(std::size_t slot) const { return sends_[slot].result; }
    std::size_t size() const { return sends_.size(); }
    /// Forgets every send, keeping the storage for the next batch.
    void clear() {
        sends_.clear();
        headers_.clear();
    }
    /// Whether sends go through io_uring (false: one sendmsg each).
    bool uses_io_uring() const { return ring_ != nullptr; }

private:
    struct Send {
        int fd;
        std::size_t parts;
        iovec iov[kMaxParts];
        ssize_t result;
    };
    struct Ring;  // io_uring state, in the .cpp so liburing stays there
    static constexpr ssize_t kNoResult = -2;
    void send_one(std::size_t slot);
    void submit_with_ring();

    std::vector<Send> sends_;
    std::vector<msghdr> headers_;  // one per send, pointed at sends_ at submit (it no longer moves then)
    std::unique_ptr<Ring> ring_;
    int flags_;
};

}  // namespace agentd::net
