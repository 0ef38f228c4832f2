#include "common/run_on.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace agentd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;

struct Outcome {
    std::string value;
    std::string error;
    bool void_ran = false;
    std::thread::id resumed_on;
    Clock::duration waited{};
};

// Named coroutine functions (GCC 12: no capturing coroutine lambdas).
asio::awaitable<void> await_quick_job(asio::thread_pool& pool, Outcome& out) {
    // The job queues a slow one behind itself, as other callers' work would be.
    auto quick = [&pool] {
        asio::post(pool, [] { std::this_thread::sleep_for(1s); });
        return std::string("done");
    };
    const auto start = Clock::now();
    out.value = co_await run_on(pool, quick);
    out.waited = Clock::now() - start;
    out.resumed_on = std::this_thread::get_id();
}

asio::awaitable<void> await_failures(asio::thread_pool& pool, Outcome& out) {
    auto throws = []() -> int { throw std::runtime_error("boom"); };
    try {
        (void)co_await run_on(pool, throws);
    } catch (const std::runtime_error& e) {
        out.error = e.what();
    }
    std::atomic<bool> ran{false};
    auto nothing = [&ran] { ran = true; };
    co_await run_on(pool.get_executor(), nothing);
    out.void_ran = ran;
    out.resumed_on = std::this_thread::get_id();
}

TEST(RunOn, AResultIsNotQueuedBehindWorkPostedToThePoolAfterIt) {
    asio::thread_pool pool(1);
    asio::io_context io;
    Outcome out;
    asio::co_spawn(io, await_quick_job(pool, out), asio::detached);
    io.run();
    EXPECT_EQ(out.value, "done");
    EXPECT_EQ(out.resumed_on, std::this_thread::get_id());
    EXPECT_LT(out.waited, 500ms) << "the result waited for the slow job queued after it";
    pool.join();
}

TEST(RunOn, ExceptionsAndVoidJobsComeBackToTheCaller) {
    asio::thread_pool pool(2);
    asio::io_context io;
    Outcome out;
    asio::co_spawn(io, await_failures(pool, out), asio::detached);
    io.run();
    EXPECT_EQ(out.error, "boom");
    EXPECT_TRUE(out.void_ran);
    EXPECT_EQ(out.resumed_on, std::this_thread::get_id());
    pool.join();
}

}  // namespace
}  // namespace agentd
