#include "service/inbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bus/memory/memory_bus.hpp"
#include "common/json.hpp"

namespace agentd::service::inbox {
namespace {

bj::object hint(const std::string& text) { return bj::object{{"type", "hint"}, {"hint", text}}; }

std::vector<bj::object> triggers(bus::MessageBus& bus) {
    std::vector<bj::object> out;
    for (const auto& raw : bus.queue_drain(kWakeupQueue)) out.push_back(json::parse(raw).value->as_object());
    return out;
}

TEST(Inbox, ADeliveryWithoutAConsumerWakesTheSession) {
    bus::MemoryBus bus;
    deliver(bus, "u1", "s1", "a1", hint("done"));
    EXPECT_EQ(bus.queue_length(inbox_key("s1")), 1u);
    auto queued = triggers(bus);
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0], (bj::object{{"user_id", "u1"}, {"session_id", "s1"}, {"agent_id", "a1"}, {"kind", "wake"},
                                     {"input", nullptr}}));
}

TEST(Inbox, ADeliveryWhileARunConsumesWakesNothingAndTheRunGoesRoundAgain) {
    bus::MemoryBus bus;
    register_consumer(bus, "s1");
    deliver(bus, "u1", "s1", "a1", hint("one"));
    deliver(bus, "u1", "s1", "a1", hint("two"));
    EXPECT_TRUE(triggers(bus).empty());
    // The run's end check sees the payloads and keeps its registration...
    EXPECT_TRUE(pending_or_release(bus, "s1"));
    auto taken = take(bus, "s1");
    ASSERT_EQ(taken.size(), 2u);
    EXPECT_EQ(json::parse(taken[0]).value->as_object().at("hint"), "one");  // oldest first
    // ...so a delivery meanwhile still wakes nothing; once drained it lets go.
    EXPECT_TRUE(bus.hash_get(consumer_key("s1"), "running"));
    EXPECT_FALSE(pending_or_release(bus, "s1"));
    EXPECT_FALSE(bus.hash_get(consumer_key("s1"), "running"));
    deliver(bus, "u1", "s1", "a1", hint("three"));
    EXPECT_EQ(triggers(bus).size(), 1u);
}

TEST(Inbox, TheOneAttemptCheckAnswersLikeTheWaitingOneOrSaysTheLockIsBusy) {
    bus::MemoryBus bus;
    register_consumer(bus, "s1");
    deliver(bus, "u1", "s1", "a1", hint("one"));
    EXPECT_EQ(try_pending_or_release(bus, "s1"), std::optional<bool>(true));
    EXPECT_TRUE(bus.hash_get(consumer_key("s1"), "running"));
    take(bus, "s1");
    // A producer holding the inbox lock: no answer, and nothing changed.
    auto producer = bus.try_lock(inbox_lock_key("s1"), std::chrono::seconds(5));
    ASSERT_TRUE(producer);
    EXPECT_EQ(try_pending_or_release(bus, "s1"), std::nullopt);
    EXPECT_TRUE(bus.hash_get(consumer_key("s1"), "running"));
    bus.unlock(inbox_lock_key("s1"), *producer);
    // Free again: empty, so the registration goes, and the lock is not left held.
    EXPECT_EQ(try_pending_or_release(bus, "s1"), std::optional<bool>(false));
    EXPECT_FALSE(bus.hash_get(consumer_key("s1"), "running"));
    EXPECT_FALSE(bus.is_locked(inbox_lock_key("s1")));
}

TEST(Inbox, TakeStopsAtTheBatchSize) {
    bus::MemoryBus bus;
    register_consumer(bus, "s1");
    for (int i = 0; i < 5; ++i) deliver(bus, "u1", "s1", "a1", hint(std::to_string(i)));
    EXPECT_EQ(take(bus, "s1", 3).size(), 3u);
    EXPECT_EQ(take(bus, "s1", 3).size(), 2u);
    EXPECT_TRUE(take(bus, "s1", 3).empty());
}

TEST(Inbox, AnAbandonedInboxWithPayloadsWakesTheSessionAndAnEmptyOneDoesNot) {
    bus::MemoryBus bus;
    register_consumer(bus, "s1");
    abandon_consumer(bus, "u1", "s1", "a1");
    EXPECT_TRUE(triggers(bus).empty());
    EXPECT_FALSE(bus.hash_get(consumer_key("s1"), "running"));

    register_consumer(bus, "s1");
    deliver(bus, "u1", "s1", "a1", hint("late"));
    abandon_consumer(bus, "u1", "s1", "a1");
    EXPECT_EQ(triggers(bus).size(), 1u);
    EXPECT_FALSE(bus.hash_get(consumer_key("s1"), "running"));
    EXPECT_EQ(bus.queue_length(inbox_key("s1")), 1u);  // left for the woken run
}

TEST(Inbox, ReleaseLeavesThePayloadsForTheResumingReply) {
    bus::MemoryBus bus;
    register_consumer(bus, "s1");
    deliver(bus, "u1", "s1", "a1", hint("x"));
    release(bus, "s1");
    EXPECT_TRUE(triggers(bus).empty());
    EXPECT_EQ(bus.queue_length(inbox_key("s1")), 1u);
    purge(bus, "s1");
    EXPECT_EQ(bus.queue_length(inbox_key("s1")), 0u);
}

// The hand-off invariant under contention: every payload is either taken by
// the run or covered by a wake trigger, whatever the interleaving.
TEST(Inbox, EveryPayloadIsConsumedOrWokenForUnderContention) {
    for (int round = 0; round < 50; ++round) {
        bus::MemoryBus bus;
        register_consumer(bus, "s1");
        std::atomic<bool> go{false};
        std::thread producer([&] {
            while (!go) std::this_thread::yield();
            for (int i = 0; i < 20; ++i) deliver(bus, "u1", "s1", "a1", hint(std::to_string(i)));
        });
        go = true;
        std::size_t taken = 0;
        // The run: drain, then end only when the check lets it go.
        for (;;) {
            taken += take(bus, "s1").size();
            if (!pending_or_release(bus, "s1")) break;
        }
        producer.join();
        const std::size_t left = bus.queue_length(inbox_key("s1"));
        const auto woken = triggers(bus);
        EXPECT_EQ(taken + left, 20u);
        if (left > 0) {
            EXPECT_FALSE(woken.empty()) << "payloads left behind with no wake-up, round " << round;
        }
    }
}

}  // namespace
}  // namespace agentd::service::inbox
