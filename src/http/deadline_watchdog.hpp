#pragma once
// The deadline of whatever a connection is doing (a request arriving, a
// response leaving), enforced by one timer per connection.
//
// Beast's tcp_stream arms and cancels a timer around every read and write: on a
// keep-alive connection that is two timer-queue updates per request, under the
// reactor's lock, and a timerfd update now and then. Here moving the deadline
// later is a store; the timer, when it fires before the deadline, sleeps again
// until it. Only a deadline moved earlier than the timer re-arms it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace agentd::http {

class DeadlineWatchdog {
public:
    using Clock = std::chrono::steady_clock;

    /// `on_expiry` runs once, on `executor`, when a deadline passes; never after stop().
    DeadlineWatchdog(const boost::asio::any_io_executor& executor, std::function<void()> on_expiry);
    /// Stops it: a watchdog outlived by its timer's handler must not call back.
    ~DeadlineWatchdog();
    DeadlineWatchdog(const DeadlineWatchdog&) = delete;
    DeadlineWatchdog& operator=(const DeadlineWatchdog&) = delete;

    /// The deadline is now + `d`, replacing any earlier one. Call on the executor.
    void expires_after(Clock::duration d);
    /// No deadline until the next expires_after.
    void expires_never();
    /// No more expiry, ever. Call on the executor.
    void stop();
    bool expired() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace agentd::http
