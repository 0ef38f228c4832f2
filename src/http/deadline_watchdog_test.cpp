#include "http/deadline_watchdog.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace agentd::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Runs `io` until `done` or `limit` passes.
void run_until(boost::asio::io_context& io, const bool& done, Clock::duration limit) {
    const auto until = Clock::now() + limit;
    while (!done && Clock::now() < until) {
        io.run_for(5ms);
        io.restart();
    }
}

TEST(DeadlineWatchdog, FiresOnceWhenTheDeadlinePasses) {
    boost::asio::io_context io;
    int fired = 0;
    Clock::time_point at;
    bool done = false;
    DeadlineWatchdog dog(io.get_executor(), [&] {
        ++fired;
        at = Clock::now();
        done = true;
    });
    const auto start = Clock::now();
    dog.expires_after(40ms);
    run_until(io, done, 2s);
    io.run_for(60ms);  // nothing more comes
    EXPECT_EQ(fired, 1);
    EXPECT_TRUE(dog.expired());
    EXPECT_GE(at - start, 40ms);
    EXPECT_LT(at - start, 1s);
}

/// A watchdog on a context of its own that notes when it fired.
struct Watched {
    boost::asio::io_context io;
    Clock::time_point at;
    bool done = false;
    DeadlineWatchdog dog{io.get_executor(), [this] {
                             at = Clock::now();
                             done = true;
                         }};
};

TEST(DeadlineWatchdog, ADeadlineMovedLaterIsWhatCounts) {
    Watched w;
    const auto start = Clock::now();
    w.dog.expires_after(30ms);
    // Before the first deadline passes, it moves 150 ms on: the timer wakes at
    // 30 ms and sleeps again instead of firing.
    boost::asio::steady_timer nudge(w.io, 10ms);
    nudge.async_wait([&](const boost::system::error_code&) { w.dog.expires_after(150ms); });
    run_until(w.io, w.done, 2s);
    ASSERT_TRUE(w.done);
    EXPECT_GE(w.at - start, 160ms);
}

TEST(DeadlineWatchdog, ADeadlineMovedEarlierIsNotLate) {
    Watched w;
    const auto start = Clock::now();
    w.dog.expires_after(10s);
    w.dog.expires_after(30ms);
    run_until(w.io, w.done, 3s);
    ASSERT_TRUE(w.done);
    EXPECT_LT(w.at - start, 1s);
}

TEST(DeadlineWatchdog, NoDeadlineNoExpiryAndStopSilencesIt) {
    boost::asio::io_context io;
    int fired = 0;
    {
        DeadlineWatchdog dog(io.get_executor(), [&] { ++fired; });
        dog.expires_after(20ms);
        dog.expires_never();  // the pending wait wakes up to no deadline
        io.run_for(80ms);
        io.restart();
        EXPECT_EQ(fired, 0);
        EXPECT_FALSE(dog.expired());
        dog.expires_after(20ms);
        dog.stop();
        dog.expires_after(20ms);  // stopped for good
        io.run_for(80ms);
        io.restart();
        EXPECT_EQ(fired, 0);
        dog.expires_after(20ms);
    }
    // Destroyed with a wait pending: its handler runs later and must not call back.
    io.run_for(80ms);
    EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace agentd::http
