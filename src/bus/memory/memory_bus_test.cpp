#include "bus/memory/memory_bus.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <thread>

namespace agentd::bus {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// The contract of MessageBus, exercised on the in-memory backend; a Redis
// backend instantiates the same checks.

TEST(MemoryBus, LocksAreExclusiveExpireAndReleaseOnlyByTheHolder) {
    MemoryBus bus;
    auto token = bus.try_lock("k", 200ms);
    ASSERT_TRUE(token);
    EXPECT_FALSE(bus.try_lock("k", 200ms));
    EXPECT_FALSE(bus.unlock("k", "not-the-token"));
    EXPECT_TRUE(bus.is_locked("k"));
    EXPECT_TRUE(bus.renew_lock("k", *token, 50ms));
    std::this_thread::sleep_for(80ms);
    EXPECT_FALSE(bus.is_locked("k"));
    EXPECT_FALSE(bus.renew_lock("k", *token, 50ms));  // a lost lease cannot be renewed
    auto second = bus.try_lock("k", 1s);
    ASSERT_TRUE(second);
    EXPECT_FALSE(bus.unlock("k", *token));
    EXPECT_TRUE(bus.unlock("k", *second));
}

TEST(MemoryBus, LockGenerationNoticesExpiry) {
    MemoryBus bus;
    auto before = *bus.lock_generation();
    bus.try_lock("k", 20ms);
    auto held = *bus.lock_generation();
    EXPECT_GT(held, before);
    std::this_thread::sleep_for(40ms);
    EXPECT_GT(*bus.lock_generation(), held);
}

TEST(MemoryBus, LogsAreCappedAndReadAfterACursor) {
    MemoryBus bus;
    std::vector<EntryId> ids;
    for (int i = 0; i < 10; ++i) ids.push_back(bus.append_and_publish("log", std::to_string(i), 5));
    auto all = bus.read_log("log", std::nullopt, 100);
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all.front().payload, "5");
    auto after = bus.read_log("log", ids[7], 100);
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after[0].payload, "8");
    EXPECT_TRUE(bus.read_log("log", ids[9], 100).empty());
    EXPECT_EQ(bus.read_log("log", std::nullopt, 2).size(), 2u);
}

TEST(MemoryBus, LogRetentionExpiresAndPersistCancelsIt) {
    MemoryBus bus;
    bus.append_and_publish("a", "x", 10);
    bus.append_and_publish("b", "y", 10);
    bus.expire_log("a", 10ms);
    bus.expire_log("b", 10ms);
    bus.persist_log("b");
    std::this_thread::sleep_for(1100ms);  // the sweep runs at most once a second
    EXPECT_TRUE(bus.read_log("a", std::nullopt, 10).empty());
    EXPECT_EQ(bus.read_log("b", std::nullopt, 10).size(), 1u);
}

TEST(MemoryBus, SubscribersGetLiveEntriesInOrderAndTimeouts) {
    MemoryBus bus;
    asio::io_context io;
    std::vector<std::string> got;
    Subscription::Status last = Subscription::Status::kMessage;
    asio::co_spawn(
        asio::make_strand(io),
        [&]() -> asio::awaitable<void> {
            auto executor = co_await asio::this_coro::executor;
            auto sub = bus.subscribe("ch", executor);
            std::thread publisher([&] {
                for (int i = 0; i < 3; ++i) bus.append_and_publish("ch", "m" + std::to_string(i), 100);
            });
            for (int i = 0; i < 3; ++i) {
                auto n = co_await sub->next(1s);
                if (n.status == Subscription::Status::kMessage) got.push_back(n.message.payload);
            }
            publisher.join();
            auto n = co_await sub->next(20ms);
            last = n.status;
        },
        asio::detached);
    io.run();
    EXPECT_EQ(got, (std::vector<std::string>{"m0", "m1", "m2"}));
    EXPECT_EQ(last, Subscription::Status::kTimeout);
}

TEST(MemoryBus, HashesExpireAndDelete) {
    MemoryBus bus;
    bus.hash_set("h", "a", "1");
    bus.hash_set("h", "b", "2");
    EXPECT_EQ(bus.hash_get("h", "a"), "1");
    EXPECT_EQ(bus.hash_get_all("h").size(), 2u);
    bus.hash_delete("h", "a");
    EXPECT_FALSE(bus.hash_get("h", "a"));
    bus.hash_delete("h");
    EXPECT_TRUE(bus.hash_get_all("h").empty());
    bus.hash_set("t", "x", "y", 10ms);
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(bus.hash_get("t", "x"));
}

TEST(MemoryBus, QueuesAreFifoAndDrainAtomically) {
    MemoryBus bus;
    EXPECT_FALSE(bus.queue_pop("q"));
    for (const char* s : {"a", "b", "c"}) bus.queue_push("q", s);
    EXPECT_EQ(bus.queue_length("q"), 3u);
    EXPECT_EQ(bus.queue_pop("q"), "a");
    EXPECT_EQ(bus.queue_drain("q"), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(bus.queue_length("q"), 0u);
}

TEST(EntryId, ParsesAndOrders) {
    EXPECT_EQ(EntryId::parse("12-3")->major, 12u);
    EXPECT_EQ(EntryId::parse("7")->minor, 0u);
    EXPECT_FALSE(EntryId::parse("x-1"));
    EXPECT_FALSE(EntryId::parse("1-"));
    EXPECT_FALSE(EntryId::parse(""));
    EXPECT_LT(*EntryId::parse("1-9"), *EntryId::parse("2-0"));
}

}  // namespace
}  // namespace agentd::bus
