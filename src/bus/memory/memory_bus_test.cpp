#include "bus/memory/memory_bus.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "net/send_batch.hpp"

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

TEST(MemoryBus, TryLockBrieflyAndWaitUnlockedWaitOutAShortHolderButNotALongOne) {
    MemoryBus bus;
    auto held = bus.try_lock("k", std::chrono::minutes(1));
    ASSERT_TRUE(held);
    std::thread holder([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(15));
        bus.unlock("k", *held);
    });
    auto waited = try_lock_briefly(bus, "k", std::chrono::minutes(1), std::chrono::seconds(5));
    holder.join();
    ASSERT_TRUE(waited);
    EXPECT_NE(*waited, *held);
    // Held past the patience: nothing, after about that long.
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(try_lock_briefly(bus, "k", std::chrono::minutes(1), std::chrono::milliseconds(30)));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, std::chrono::milliseconds(30));
    EXPECT_LT(took, std::chrono::seconds(2));
    EXPECT_FALSE(wait_unlocked(bus, "k", std::chrono::milliseconds(10)));
    EXPECT_TRUE(bus.unlock("k", *waited));
    EXPECT_TRUE(wait_unlocked(bus, "k", std::chrono::milliseconds(0)));
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

// A client keeps the last id it saw across a restart of the server: a new
// process's ids must all be above it, or a resume would skip their events.
TEST(MemoryBus, EntryIdsAreMillisecondsAboveAnyEarlierProcesssAndIncrease) {
    const auto before_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    MemoryBus earlier;
    const EntryId old_id = earlier.append_and_publish("log", "old", 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a restart takes longer than this
    MemoryBus bus;
    EXPECT_FALSE(bus.last_log_id("log"));
    EntryId previous = old_id;
    for (int i = 0; i < 1000; ++i) {
        const EntryId id = bus.append_and_publish(i % 2 ? "log" : "other", "x", 10);
        EXPECT_LT(previous, id);
        previous = id;
    }
    EXPECT_GE(old_id.major, before_ms);
    EXPECT_EQ(bus.read_log("log", old_id, 100).size(), 10u);
    EXPECT_EQ(bus.last_log_id("log"), bus.read_log("log", std::nullopt, 100).back().id);
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

// ---- direct delivery (Subscription::set_direct_sink) --------------------------------

/// A consumer that waits for `count` results of next() and records them.
struct Consumer {
    Subscription* sub = nullptr;
    std::vector<Subscription::Next> got{};
    bool done = false;
};

asio::awaitable<void> consume(Consumer* c, int count, std::chrono::milliseconds timeout) {
    for (int i = 0; i < count; ++i) c->got.push_back(co_await c->sub->next(timeout));
    c->done = true;
}

/// A sink that records what it is given and answers as told.
struct RecordingSink {
    std::vector<std::vector<std::string>> calls;
    Subscription::DirectResult answer = Subscription::DirectResult::kDelivered;
    std::unique_ptr<Subscription::DirectSink> sink() {
        return direct_sink([this](std::span<const LogEntry* const> entries) {
            std::vector<std::string> payloads;
            for (const auto* e : entries) payloads.push_back(e->payload);
            calls.push_back(std::move(payloads));
            return answer;
        });
    }
};

using Calls = std::vector<std::vector<std::string>>;

/// One subscriber on "ch" with a recording sink, and its consumer.
struct SinkSetup {
    MemoryBus bus;
    asio::io_context io;
    std::unique_ptr<Subscription> sub = bus.subscribe("ch", io.get_executor());
    RecordingSink sink;
    Consumer c{sub.get()};
    explicit SinkSetup(int nexts) {
        sub->set_direct_sink(sink.sink());
        asio::co_spawn(io, consume(&c, nexts, 10s), asio::detached);
    }
};

TEST(MemoryBusDirect, TheSinkTakesEntriesOnlyWhileTheConsumerWaits) {
    SinkSetup setup(3);
    auto& [bus, io, sub, sink, c] = setup;

    bus.append_and_publish("ch", "early", 100);  // the consumer has not run yet: queued
    io.poll();                                  // takes "early", then waits
    ASSERT_EQ(c.got.size(), 1u);
    EXPECT_EQ(c.got[0].message.payload, "early");
    EXPECT_TRUE(sink.calls.empty());

    bus.append_and_publish("ch", "a", 100);
    bus.append_and_publish("ch", "b", 100);
    io.poll();
    EXPECT_EQ(sink.calls, (Calls{{"a"}, {"b"}}));
    EXPECT_EQ(c.got.size(), 1u);  // still waiting: the sink had them

    sink.answer = Subscription::DirectResult::kRefused;
    bus.append_and_publish("ch", "c", 100);  // refused: queued and the consumer woken
    io.poll();
    ASSERT_EQ(c.got.size(), 2u);
    EXPECT_EQ(c.got[1].status, Subscription::Status::kMessage);
    EXPECT_EQ(c.got[1].message.payload, "c");

    sink.answer = Subscription::DirectResult::kDeliveredWake;
    bus.append_and_publish("ch", "d", 100);  // taken, but the consumer must run
    io.poll();
    ASSERT_TRUE(c.done);
    EXPECT_EQ(c.got[2].status, Subscription::Status::kTimeout);  // long before its 10 s
    EXPECT_EQ(sink.calls.back(), (std::vector<std::string>{"d"}));
}

TEST(MemoryBusDirect, EntriesPublishedDuringADeliveryReachTheSinkTogether) {
    MemoryBus bus;
    asio::io_context io;
    auto sub = bus.subscribe("ch", io.get_executor());
    Calls calls;
    bool published = false;
    sub->set_direct_sink(direct_sink([&](std::span<const LogEntry* const> entries) {
        std::vector<std::string> payloads;
        for (const auto* e : entries) payloads.push_back(e->payload);
        calls.push_back(payloads);
        if (!published) {  // a run emitting more while the first is still going out
            published = true;
            bus.append_and_publish("ch", "b", 100);
            bus.append_and_publish("ch", "c", 100);
        }
        return Subscription::DirectResult::kDelivered;
    }));
    Consumer c{sub.get()};
    asio::co_spawn(io, consume(&c, 1, 10s), asio::detached);
    io.poll();
    bus.append_and_publish("ch", "a", 100);
    EXPECT_EQ(calls, (Calls{{"a"}, {"b", "c"}}));
    EXPECT_EQ(bus.read_log("ch", std::nullopt, 10).size(), 3u);
    sub->cancel();
    io.poll();
    ASSERT_TRUE(c.done);
    EXPECT_EQ(c.got[0].status, Subscription::Status::kClosed);
}

TEST(MemoryBusDirect, NoSinkCallAfterCancel) {
    SinkSetup setup(1);
    auto& [bus, io, sub, sink, c] = setup;
    io.poll();
    sub->cancel();
    bus.append_and_publish("ch", "late", 100);
    io.poll();
    EXPECT_TRUE(sink.calls.empty());
    ASSERT_TRUE(c.done);
    EXPECT_EQ(c.got[0].status, Subscription::Status::kClosed);
}

/// A sink with the batched form: stage() queues its entries' payloads as one
/// send to `fd` (or answers at once when told), finish() records the result.
struct StagingSink final : Subscription::DirectSink {
    int fd = -1;
    std::optional<Subscription::DirectResult> at_once;  // answer in stage() instead
    Subscription::DirectResult answer = Subscription::DirectResult::kDelivered;
    std::function<void()> on_stage;                     // runs inside stage()
    std::string bytes;
    std::size_t slot = 0;
    int delivered = 0, staged = 0, finished = 0;
    ssize_t result = -100;
    Subscription::DirectResult deliver(std::span<const LogEntry* const>) override {
        ++delivered;
        return answer;
    }
    std::optional<Subscription::DirectResult> stage(std::span<const LogEntry* const> entries,
                                                    net::SendBatch& sends) override {
        ++staged;
        if (on_stage) on_stage();
        if (at_once) return at_once;
        bytes.clear();
        for (const auto* e : entries) bytes += e->payload;
        const iovec part{bytes.data(), bytes.size()};
        slot = sends.add(fd, std::span<const iovec>(&part, 1));
        return std::nullopt;
    }
    Subscription::DirectResult finish(const net::SendBatch& sends) override {
        ++finished;
        result = sends.result(slot);
        return answer;
    }
};

/// A subscription with a StagingSink writing to a socket pair, and its consumer.
struct StagedSub {
    int fds[2] = {-1, -1};
    std::unique_ptr<Subscription> sub;
    StagingSink* sink = nullptr;  // owned by the subscription
    Consumer c;
    StagedSub(MemoryBus& bus, const std::string& channel, asio::io_context& io) {
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        sub = bus.subscribe(channel, io.get_executor());
        auto owned = std::make_unique<StagingSink>();
        owned->fd = fds[0];
        sink = owned.get();
        sub->set_direct_sink(std::move(owned));
        c.sub = sub.get();
        asio::co_spawn(io, consume(&c, 1, 10s), asio::detached);
    }
    ~StagedSub() {
        sub.reset();
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
    std::string received() const {
        char buf[256];
        const ssize_t n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
};

// Past MemoryBus::kBatchSendsAt subscribers, sinks stage their socket writes on
// one net::SendBatch; the publisher submits it once and then tells each sink its
// result. A sink may also answer at once, and every answer means what it means
// for a single subscriber.
TEST(MemoryBusDirect, ManySinksStageTheirWritesAndHearTheirResultsAfterOneSubmission) {
    MemoryBus bus;
    asio::io_context io;
    constexpr int kSubscribers = 10;
    static_assert(kSubscribers >= static_cast<int>(MemoryBus::kBatchSendsAt));
    std::vector<std::unique_ptr<StagedSub>> subs;
    for (int i = 0; i < kSubscribers; ++i) {
        subs.push_back(std::make_unique<StagedSub>(bus, "wide", io));
        if (i == 0) subs[i]->sink->answer = Subscription::DirectResult::kDeliveredWake;
        if (i == 1) subs[i]->sink->at_once = Subscription::DirectResult::kRefused;
    }
    io.poll();  // every consumer waits: the sinks take what comes
    bus.append_and_publish("wide", "hello", 100);
    io.poll();
    for (int i = 0; i < kSubscribers; ++i) {
        const auto& s = *subs[i];
        EXPECT_EQ(s.sink->delivered, 0) << i;  // the batched form only
        EXPECT_EQ(s.sink->staged, 1) << i;
        if (i == 1) {
            EXPECT_EQ(s.sink->finished, 0);  // it answered at once
            EXPECT_EQ(s.received(), "");
        } else {
            EXPECT_EQ(s.sink->finished, 1) << i;
            EXPECT_EQ(s.sink->result, 5) << i;  // the submission's result for its own send
            EXPECT_EQ(s.received(), "hello") << i;
        }
    }
    // kDeliveredWake: the consumer runs (kTimeout); kRefused: the entry comes
    // through next(); kDelivered: the consumer keeps waiting.
    ASSERT_TRUE(subs[0]->c.done);
    EXPECT_EQ(subs[0]->c.got[0].status, Subscription::Status::kTimeout);
    ASSERT_TRUE(subs[1]->c.done);
    EXPECT_EQ(subs[1]->c.got[0].status, Subscription::Status::kMessage);
    EXPECT_EQ(subs[1]->c.got[0].message.payload, "hello");
    for (int i = 2; i < kSubscribers; ++i) EXPECT_FALSE(subs[i]->c.done) << i;
    for (auto& s : subs) s->sub->cancel();
    io.poll();
}

// A sink that publishes to another wide channel while its own delivery is being
// staged: the inner delivery must not disturb the outer one's staged writes.
TEST(MemoryBusDirect, ADeliveryNestedInAStagingSinkKeepsTheOuterGroupIntact) {
    MemoryBus bus;
    asio::io_context io;
    constexpr int kSubscribers = 10;
    std::vector<std::unique_ptr<StagedSub>> outer, inner;
    for (int i = 0; i < kSubscribers; ++i) {
        outer.push_back(std::make_unique<StagedSub>(bus, "outer", io));
        inner.push_back(std::make_unique<StagedSub>(bus, "inner", io));
    }
    // The fifth outer sink publishes on "inner" from inside its stage().
    outer[4]->sink->on_stage = [&] { bus.append_and_publish("inner", "nested", 100); };
    io.poll();
    bus.append_and_publish("outer", "hello", 100);
    io.poll();
    for (int i = 0; i < kSubscribers; ++i) {
        EXPECT_EQ(outer[i]->sink->finished, 1) << i;
        EXPECT_EQ(outer[i]->sink->result, 5) << i;
        EXPECT_EQ(outer[i]->received(), "hello") << i;
        EXPECT_EQ(inner[i]->sink->finished, 1) << i;
        EXPECT_EQ(inner[i]->received(), "nested") << i;
        EXPECT_FALSE(outer[i]->c.done) << i;  // all delivered directly
    }
    for (auto& s : outer) s->sub->cancel();
    for (auto& s : inner) s->sub->cancel();
    io.poll();
}

// Past MemoryBus::kSplitDeliveryAt subscribers two threads deliver each batch;
// every subscriber must still get every entry once, in order, whether through
// its sink or through next(), with publishers on two threads.
TEST(MemoryBusDirect, ManySubscribersGetEveryEntryInOrder) {
    MemoryBus bus;
    asio::io_context io;
    constexpr int kSubscribers = 150;
    constexpr int kEntries = 300;
    struct Subscriber {
        std::unique_ptr<Subscription> sub;
        std::mutex mutex;
        std::vector<std::string> got;  // through the sink and through next(), in arrival order
        bool done = false;
    };
    std::vector<std::unique_ptr<Subscriber>> subs;
    std::atomic<int> finished{0};
    for (int i = 0; i < kSubscribers; ++i) {
        auto s = std::make_unique<Subscriber>();
        auto strand = asio::make_strand(io);
        s->sub = bus.subscribe("many", strand);
        auto* raw = s.get();
        if (i % 2 == 0)  // half take entries directly, refusing every third call
            s->sub->set_direct_sink(direct_sink([raw, n = 0](std::span<const LogEntry* const> entries) mutable {
                if (++n % 3 == 0) return Subscription::DirectResult::kRefused;
                std::lock_guard lock(raw->mutex);
                for (const auto* e : entries) raw->got.push_back(e->payload);
                return Subscription::DirectResult::kDelivered;
            }));
        asio::co_spawn(
            strand,
            [](Subscriber* s, std::atomic<int>* finished) -> asio::awaitable<void> {
                for (;;) {
                    auto n = co_await s->sub->next(2s);
                    if (n.status != Subscription::Status::kMessage) break;
                    std::lock_guard lock(s->mutex);
                    s->got.push_back(n.message.payload);
                    if (n.message.payload == "end") break;
                }
                ++*finished;
            }(raw, &finished),
            asio::detached);
        subs.push_back(std::move(s));
    }
    auto work = asio::make_work_guard(io);
    std::thread t1([&] { io.run(); });
    std::thread t2([&] { io.run(); });
    std::this_thread::sleep_for(50ms);  // every consumer waiting
    std::mutex order;                   // two publishers, one log order
    std::vector<std::string> published;
    auto publish = [&](const char* who) {
        for (int i = 0; i < kEntries / 2; ++i) {
            std::lock_guard lock(order);
            std::string payload = std::string(who) + std::to_string(i);
            bus.append_and_publish("many", payload, 10000);
            published.push_back(payload);
        }
    };
    std::thread p1(publish, "x");
    std::thread p2(publish, "y");
    p1.join();
    p2.join();
    bus.append_and_publish("many", "end", 10000);
    published.push_back("end");
    // Sinks never see "end" arrive through next(): wait for those through their log.
    for (int i = 0; i < 400 && finished < kSubscribers / 2; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(100ms);
    for (auto& s : subs) s->sub->cancel();
    work.reset();
    for (int i = 0; i < 400 && finished < kSubscribers; ++i) std::this_thread::sleep_for(10ms);
    io.stop();
    t1.join();
    t2.join();
    for (int i = 0; i < kSubscribers; ++i) {
        std::lock_guard lock(subs[i]->mutex);
        EXPECT_EQ(subs[i]->got, published) << "subscriber " << i;
    }
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
