#include "net/send_batch.hpp"

#include <liburing.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace agentd::net {

namespace {

/// Submission queue entries: sends in flight at once. Each ring's worth is one
/// io_uring_enter; the completion queue (twice as large) cannot overflow.
constexpr unsigned kRingEntries = 256;
/// user_data of a cancel request, told apart from a send's slot.
constexpr std::uint64_t kCancelTag = ~std::uint64_t{0};
/// A send with MSG_DONTWAIT completes while it is submitted; one still without a
/// result this long after was parked by the kernel after all, and is cancelled.
constexpr long kStuckAfterNs = 50'000'000;

/// A send's result: bytes taken, 0 for a socket that takes nothing now (or a
/// send cancelled before it took anything), -1 for a failed connection.
ssize_t result_of(ssize_t n_or_negative_errno) {
    if (n_or_negative_errno >= 0) return n_or_negative_errno;
    const int e = static_cast<int>(-n_or_negative_errno);
    return e == EAGAIN || e == EWOULDBLOCK || e == ECANCELED || e == EINTR ? 0 : -1;
}

/// Whether kAuto batches may use io_uring (the server's --io-uring setting).
std::atomic<bool> io_uring_allowed{true};

}  // namespace

struct SendBatch::Ring {
    io_uring ring{};
    bool ready = false;  // set up: only then is there anything (a descriptor, mappings) to release
    ~Ring() {
        if (ready) io_uring_queue_exit(&ring);
    }
};

SendBatch::SendBatch(Mode mode, int send_flags) : flags_(send_flags) {
    if (mode == Mode::kSendmsg || !io_uring_allowed.load(std::memory_order_relaxed)) return;
    auto ring = std::make_unique<Ring>();
    // One thread submits and reaps (a batch is not shared); the extra flags are
    // hints a kernel may not know, so a plain ring is the second try.
    io_uring_params params{};
    params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
    int rc = io_uring_queue_init_params(kRingEntries, &ring->ring, &params);
    if (rc == -EINVAL) rc = io_uring_queue_init(kRingEntries, &ring->ring, 0);
    if (rc < 0) {
        static std::atomic<bool> told{false};  // once per process is enough
        if (!told.exchange(true)) {
            spdlog::info("io_uring unavailable ({}): stream fan-out sends one sendmsg per client",
                         std::strerror(-rc));
        }
        return;
    }
    ring->ready = true;
    ring_ = std::move(ring);
}

SendBatch::~SendBatch() = default;

void SendBatch::allow_io_uring(bool allowed) { io_uring_allowed.store(allowed, std::memory_order_relaxed); }

std::size_t SendBatch::add(int fd, std::span<const iovec> parts) {
    if (parts.size() > kMaxParts) throw std::invalid_argument("SendBatch::add: too many parts");
    Send s{fd, parts.size(), {}, 0};
    std::copy(parts.begin(), parts.end(), s.iov);
    sends_.push_back(s);
    headers_.emplace_back();  // sized here, so submit() allocates nothing
    return sends_.size() - 1;
}

void SendBatch::submit() {
    if (sends_.empty()) return;
    for (std::size_t i = 0; i < sends_.size(); ++i) {
        headers_[i] = msghdr{};
        headers_[i].msg_iov = sends_[i].iov;
        headers_[i].msg_iovlen = sends_[i].parts;
        sends_[i].result = kNoResult;
    }
    if (ring_) {
        submit_with_ring();
    } else {
        for (std::size_t i = 0; i < sends_.size(); ++i) send_one(i);
    }
}

void SendBatch::send_one(std::size_t i) {
    ssize_t n;
    do n = ::sendmsg(sends_[i].fd, &headers_[i], flags_);
    while (n < 0 && errno == EINTR);
    sends_[i].result = n >= 0 ? n : result_of(-errno);
}

void SendBatch::submit_with_ring() {
    io_uring& ring = ring_->ring;
    const std::size_t n = sends_.size();
    std::size_t queued = 0;  // sends placed in the submission queue
    std::size_t done = 0;    // sends with a result
    bool cancelling = false;      // a cancel request was queued...
    bool cancel_answered = false;  // ...and its completion reaped
    while (done < n) {
        while (queued < n) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            if (!sqe) break;  // the ring is full: this much goes first
            io_uring_prep_sendmsg(sqe, sends_[queued].fd, &headers_[queued], flags_);
            io_uring_sqe_set_data64(sqe, queued);
            ++queued;
        }
        __kernel_timespec limit{0, kStuckAfterNs};
        io_uring_cqe* first = nullptr;
        const int rc = io_uring_submit_and_wait_timeout(&ring, &first, static_cast<unsigned>(queued - done), &limit,
                                                        nullptr);
        if (rc == -ETIME && (!cancelling || cancel_answered)) {
            // Something waits inside the kernel for a socket to drain: it must
            // end before its bytes can be let go, so it is cancelled.
            if (io_uring_sqe* sqe = io_uring_get_sqe(&ring)) {
                io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
                io_uring_sqe_set_data64(sqe, kCancelTag);
                cancelling = true;
                cancel_answered = false;
            }
        } else if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            // Not seen in practice. The call submitted nothing, and every earlier
            // send has completed (MSG_DONTWAIT), so the rest can go by sendmsg;
            // the ring is not trusted again.
            spdlog::warn("io_uring submit failed ({}): stream fan-out falls back to sendmsg", std::strerror(-rc));
            ring_.reset();
            for (std::size_t i = 0; i < n; ++i)
                if (sends_[i].result == kNoResult) send_one(i);
            return;
        }
        unsigned head;
        unsigned seen = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring, head, cqe) {
            ++seen;
            const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
            if (tag == kCancelTag) {
                cancel_answered = true;
                continue;
            }
            sends_[tag].result = result_of(cqe->res);
            ++done;
        }
        io_uring_cq_advance(&ring, seen);
    }
    // A cancel request that found nothing still posts its completion: reap it
    // here so the next batch starts from an empty queue.
    if (cancelling && !cancel_answered) {
        io_uring_cqe* cqe = nullptr;
        __kernel_timespec limit{0, kStuckAfterNs};
        while (io_uring_wait_cqe_timeout(&ring, &cqe, &limit) == 0 && cqe) {
            const bool was_cancel = io_uring_cqe_get_data64(cqe) == kCancelTag;
            io_uring_cqe_seen(&ring, cqe);
            if (was_cancel) break;
        }
    }
}

}  // namespace agentd::net
