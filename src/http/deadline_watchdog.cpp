#include "http/deadline_watchdog.hpp"

#include <boost/asio/error.hpp>

namespace agentd::http {

namespace asio = boost::asio;

struct DeadlineWatchdog::State : std::enable_shared_from_this<State> {
    State(const asio::any_io_executor& ex, std::function<void()> cb) : timer(ex), on_expiry(std::move(cb)) {}

    asio::steady_timer timer;
    std::function<void()> on_expiry;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for = Clock::time_point::max();  ///< when the pending wait ends; max: none pending
    bool stopped = false;
    bool expired = false;

    void arm(Clock::time_point at) {
        armed_for = at;
        timer.expires_at(at);  // cancels a pending wait: its handler sees operation_aborted
        timer.async_wait([self = shared_from_this(), at](const boost::system::error_code& ec) { self->fired(ec, at); });
    }

    void fired(const boost::system::error_code& ec, Clock::time_point at) {
        // A wait replaced by a newer one (or stopped) leaves the newer one in charge.
        if (ec == asio::error::operation_aborted || stopped || at != armed_for) return;
        armed_for = Clock::time_point::max();
        if (deadline == Clock::time_point::max()) return;
        if (Clock::now() < deadline) {
            arm(deadline);
            return;
        }
        expired = true;
        stopped = true;
        auto cb = std::move(on_expiry);
        on_expiry = nullptr;
        if (cb) cb();
    }
};

DeadlineWatchdog::DeadlineWatchdog(const asio::any_io_executor& executor, std::function<void()> on_expiry)
    : state_(std::make_shared<State>(executor, std::move(on_expiry))) {}

DeadlineWatchdog::~DeadlineWatchdog() { stop(); }

void DeadlineWatchdog::expires_after(Clock::duration d) {
    auto& s = *state_;
    if (s.stopped) return;
    s.deadline = Clock::now() + d;
    // A pending wait that ends before the deadline sleeps again when it fires.
    if (s.armed_for > s.deadline) s.arm(s.deadline);
}

void DeadlineWatchdog::expires_never() { state_->deadline = Clock::time_point::max(); }

void DeadlineWatchdog::stop() {
    auto& s = *state_;
    s.stopped = true;
    s.on_expiry = nullptr;
    s.timer.cancel();
}

bool DeadlineWatchdog::expired() const { return state_->expired; }

}  // namespace agentd::http
