#include "bus/memory/memory_bus.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <charconv>
#include <optional>

#include "common/ids.hpp"
#include "net/send_batch.hpp"

namespace agentd::bus {

namespace asio = boost::asio;

std::optional<EntryId> EntryId::parse(std::string_view text) {
    EntryId id;
    auto dash = text.find('-');
    auto major = text.substr(0, dash);
    auto r1 = std::from_chars(major.data(), major.data() + major.size(), id.major);
    if (major.empty() || r1.ec != std::errc() || r1.ptr != major.data() + major.size()) return std::nullopt;
    if (dash != std::string_view::npos) {
        auto minor = text.substr(dash + 1);
        auto r2 = std::from_chars(minor.data(), minor.data() + minor.size(), id.minor);
        if (minor.empty() || r2.ec != std::errc() || r2.ptr != minor.data() + minor.size()) return std::nullopt;
    }
    return id;
}

// A live subscriber: a queue filled by publishers (any thread) and drained by one
// coroutine on `executor`. Publishers wake the waiting coroutine through a
// one-slot concurrent channel: completing its receive posts the coroutine to its
// executor once, with no timer in between. The wait's deadline (the heartbeat)
// is kept by a ticker timer that is re-armed only when it fires, not per
// message. Both the channel's pending receive and the ticker's wait belong to
// the io_context, which destroys them when it shuts down.
//
// Direct delivery: while the consumer waits with nothing queued (`parked`), a
// publisher hands the entry to the consumer's sink instead, under `mutex`. The
// consumer clears `parked` under the same mutex before it touches anything, so
// the sink and the consumer never run at the same time, and an entry refused by
// the sink is queued behind nothing the sink took.
struct MemoryBus::Subscriber : std::enable_shared_from_this<MemoryBus::Subscriber> {
    using Signal = asio::experimental::concurrent_channel<void(boost::system::error_code)>;

    Subscriber(MemoryBus* bus, std::string channel, asio::any_io_executor ex, std::uint64_t from_seq)
        : bus(bus), channel(std::move(channel)), executor(ex), from_seq(from_seq), signal(ex, 1), ticker(ex) {}

    MemoryBus* bus;  // null once the bus is gone
    std::string channel;
    asio::any_io_executor executor;
    const std::uint64_t from_seq;  // the first delivery sequence this subscriber gets
    std::mutex mutex;              // guards queue, closed, parked, kicked and direct
    std::deque<LogEntry> queue;
    bool closed = false;
    bool parked = false;  // the consumer waits in next() with nothing queued, and has a sink
    bool kicked = false;  // the sink asked the consumer to run
    std::unique_ptr<Subscription::DirectSink> direct;
    Signal signal;  // thread-safe; a full slot means a wake is already pending
    // Touched only on `executor`:
    asio::steady_timer ticker;
    bool ticker_armed = false;
    std::uint64_t ticker_gen = 0;  // the wait armed last; older completions are stale
    std::chrono::steady_clock::time_point ticker_at;
    bool waiting = false;
    std::chrono::steady_clock::time_point deadline;  // of the current wait

    /// `entries`: oldest first, all for this subscriber.
    void push(std::span<const LogEntry* const> entries) {
        bool wake_consumer = true;
        {
            std::lock_guard lock(mutex);
            if (closed) return;
            if (takes_directly_locked()) wake_consumer = settle_locked(direct->deliver(entries), entries);
            else queue_locked(entries);
        }
        if (wake_consumer) wake();
    }
    /// push() in two phases, the sink's write queued on `sends`: true when it
    /// was, and then `held` keeps this subscriber locked until finish_push()
    /// (the consumer must not run while the sink's bytes are on their way).
    bool stage_push(std::span<const LogEntry* const> entries, net::SendBatch& sends,
                    std::unique_lock<std::mutex>& held) {
        bool wake_consumer = true;
        {
            std::unique_lock lock(mutex);
            if (closed) return false;
            if (takes_directly_locked()) {
                auto now = direct->stage(entries, sends);
                if (!now) {
                    held = std::move(lock);
                    return true;
                }
                wake_consumer = settle_locked(*now, entries);
            } else {
                queue_locked(entries);
            }
        }
        if (wake_consumer) wake();
        return false;
    }
    void finish_push(std::span<const LogEntry* const> entries, const net::SendBatch& sends,
                     std::unique_lock<std::mutex> held) {
        const bool wake_consumer = settle_locked(direct->finish(sends), entries);
        held.unlock();
        if (wake_consumer) wake();
    }
    bool takes_directly_locked() const { return parked && direct && queue.empty(); }
    /// Applies the sink's answer; true when the consumer must be woken.
    bool settle_locked(Subscription::DirectResult result, std::span<const LogEntry* const> entries) {
        switch (result) {
            case Subscription::DirectResult::kDelivered:
                return false;
            case Subscription::DirectResult::kDeliveredWake:
                parked = false;  // what comes next queues until the consumer has run
                kicked = true;
                return true;
            case Subscription::DirectResult::kRefused:
                break;
        }
        queue_locked(entries);
        return true;
    }
    void queue_locked(std::span<const LogEntry* const> entries) {
        for (const auto* e : entries) enqueue_locked(*e);
    }
    void enqueue_locked(const LogEntry& e) {
        if (closed) return;
        if (queue.size() >= kMaxSubscriberBacklog) {
            closed = true;  // too slow: the client must reconnect and resume from the log
            queue.clear();
        } else {
            queue.push_back(e);
        }
    }
    void close() {
        {
            std::lock_guard lock(mutex);
            closed = true;
        }
        wake();
    }
    void wake() { signal.try_send(boost::system::error_code{}); }

    /// Makes sure the ticker fires no later than `deadline` (on `executor`).
    void arm_ticker() {
        if (ticker_armed && ticker_at <= deadline) return;
        ticker_armed = true;
        ticker_at = deadline;
        const std::uint64_t gen = ++ticker_gen;
        ticker.expires_at(deadline);  // cancels a later wait armed before: its completion is stale
        ticker.async_wait([weak = weak_from_this(), gen](const boost::system::error_code&) {
            auto self = weak.lock();
            if (!self || gen != self->ticker_gen) return;
            self->ticker_armed = false;
            if (!self->waiting) return;
            if (std::chrono::steady_clock::now() >= self->deadline) self->wake();  // the wait times out
            else self->arm_ticker();
        });
    }
};

namespace {

class MemorySubscription final : public Subscription {
public:
    explicit MemorySubscription(std::shared_ptr<MemoryBus::Subscriber> s, std::function<void()> detach)
        : s_(std::move(s)), detach_(std::move(detach)) {}
    ~MemorySubscription() override {
        {
            // A publisher may still hold the subscriber: no sink call may start
            // (or be running) once this returns.
            std::lock_guard lock(s_->mutex);
            s_->closed = true;
            s_->parked = false;
            s_->direct = nullptr;
        }
        detach_();
    }

    asio::awaitable<Next> next(std::chrono::milliseconds timeout) override {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            {
                std::lock_guard lock(s_->mutex);
                s_->parked = false;
                if (!s_->queue.empty()) {
                    Next n{Status::kMessage, std::move(s_->queue.front())};
                    s_->queue.pop_front();
                    co_return n;
                }
                if (s_->closed) co_return Next{Status::kClosed, {}};
                if (s_->kicked) {
                    s_->kicked = false;
                    co_return Next{Status::kTimeout, {}};
                }
                if (std::chrono::steady_clock::now() >= deadline) co_return Next{Status::kTimeout, {}};
                s_->parked = static_cast<bool>(s_->direct);
            }
            s_->deadline = deadline;
            s_->waiting = true;
            s_->arm_ticker();
            auto [ec] = co_await s_->signal.async_receive(asio::as_tuple(asio::use_awaitable));
            s_->waiting = false;
            if (ec) {
                std::lock_guard lock(s_->mutex);
                s_->parked = false;
                // The awaiting coroutine's own cancellation counts as a timeout, as before.
                if (ec == asio::error::operation_aborted) co_return Next{Status::kTimeout, {}};
                co_return Next{Status::kClosed, {}};
            }
            // Woken by a publisher, a close, a sink or the ticker: re-check.
        }
    }

    void cancel() override { s_->close(); }

    void set_direct_sink(std::unique_ptr<DirectSink> sink) override {
        std::lock_guard lock(s_->mutex);
        s_->direct = std::move(sink);
    }

private:
    std::shared_ptr<MemoryBus::Subscriber> s_;
    std::function<void()> detach_;
};

}  // namespace

MemoryBus::MemoryBus() = default;

MemoryBus::~MemoryBus() {
    std::lock_guard lock(mutex_);
    for (auto& [key, channel] : channels_)
        for (auto& s : channel->subscribers) {
            s->bus = nullptr;
            s->close();
        }
}

void MemoryBus::expire_lock_locked(const std::string& key, Clock::time_point now) {
    auto it = locks_.find(key);
    if (it != locks_.end() && it->second.expires <= now) {
        locks_.erase(it);
        ++generation_;
    }
}

std::optional<std::string> MemoryBus::try_lock(const std::string& key, std::chrono::milliseconds ttl) {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    expire_lock_locked(key, now);
    if (locks_.count(key)) return std::nullopt;
    std::string token = new_id();
    locks_[key] = Lock{token, now + ttl};
    ++generation_;
    return token;
}

bool MemoryBus::renew_lock(const std::string& key, const std::string& token, std::chrono::milliseconds ttl) {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    expire_lock_locked(key, now);
    auto it = locks_.find(key);
    if (it == locks_.end() || it->second.token != token) return false;
    it->second.expires = now + ttl;
    return true;
}

bool MemoryBus::unlock(const std::string& key, const std::string& token) {
    std::lock_guard lock(mutex_);
    auto it = locks_.find(key);
    if (it == locks_.end() || it->second.token != token) return false;
    locks_.erase(it);
    ++generation_;
    return true;
}

std::optional<std::uint64_t> MemoryBus::lock_generation() const {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    for (auto it = locks_.begin(); it != locks_.end();) {
        if (it->second.expires <= now) {
            it = locks_.erase(it);
            ++generation_;
        } else {
            ++it;
        }
    }
    return generation_.load();
}

bool MemoryBus::is_locked(const std::string& key) {
    std::lock_guard lock(mutex_);
    expire_lock_locked(key, Clock::now());
    return locks_.count(key) > 0;
}

void MemoryBus::sweep_logs_locked(Clock::time_point now) {
    if (now < next_sweep_) return;
    next_sweep_ = now + std::chrono::seconds(1);
    for (auto it = logs_.begin(); it != logs_.end();) {
        if (it->second.expires && *it->second.expires <= now) it = logs_.erase(it);
        else ++it;
    }
}

std::shared_ptr<MemoryBus::Channel> MemoryBus::enqueue_locked(const std::string& channel, EntryId id,
                                                              const std::string& payload) {
    auto it = channels_.find(channel);
    if (it == channels_.end()) return nullptr;
    auto& ch = it->second;
    ch->outbox.emplace_back(++delivery_seq_, std::make_shared<const LogEntry>(LogEntry{id, payload}));
    if (ch->delivering) return nullptr;  // the publisher delivering now takes this one too
    ch->delivering = true;
    return ch;
}

namespace {

using Outbox = MemoryBus::Outbox;

/// One batch of a channel's outbox, delivered by two threads: the publisher
/// takes the first half of the subscribers, an io thread the second. Whoever
/// finishes last goes on with the channel's next batch, so entries still reach
/// every subscriber in order, and nobody waits for the other.
struct SplitDelivery {
    Outbox batch;
    std::vector<std::shared_ptr<MemoryBus::Subscriber>> subscribers;
    std::atomic<int> halves_left{2};
};

/// What one thread needs to deliver to many subscribers in groups: the sends of
/// a group, and who staged them (locked until their finish).
struct BatchScratch {
    struct Staged {
        MemoryBus::Subscriber* subscriber;
        std::span<const LogEntry* const> entries;
        std::unique_lock<std::mutex> lock;
    };
    net::SendBatch sends;
    std::vector<Staged> staged;
    bool in_use = false;
    explicit BatchScratch(net::SendBatch::Mode mode) : sends(mode) { staged.reserve(MemoryBus::kMaxBatchedSends); }
};

/// True when `ex` is an io_context's executor and this thread runs that context.
bool runs_on_this_thread(const asio::any_io_executor& ex) {
    const auto* io = ex.target<asio::io_context::executor_type>();
    return io && io->running_in_this_thread();
}

}  // namespace

void MemoryBus::deliver_range(const Outbox& batch, const std::vector<std::shared_ptr<Subscriber>>& subscribers,
                              std::size_t begin, std::size_t end) {
    // Subscriber by subscriber, each getting the whole batch at once: entries
    // published back to back cost one socket write per subscriber, not one each.
    std::vector<const LogEntry*> entries;
    entries.reserve(batch.size());
    for (const auto& [seq, entry] : batch) entries.push_back(entry.get());
    // The batch is in sequence order: a subscriber that joined during it gets a suffix.
    auto entries_for = [&](const Subscriber& s) {
        std::size_t first = 0;
        while (first < batch.size() && batch[first].first < s.from_seq) ++first;
        return std::span<const LogEntry* const>(entries).subspan(first);
    };
    if (end - begin < kBatchSendsAt) {
        for (std::size_t i = begin; i < end; ++i)
            if (auto mine = entries_for(*subscribers[i]); !mine.empty()) subscribers[i]->push(mine);
        return;
    }
    // Many subscribers: their sinks queue their writes, and each group of them
    // goes to the kernel in one submission (net::SendBatch). A delivery nested
    // in this one (a sink that publishes) must not reuse the thread's batch.
    thread_local BatchScratch thread_scratch(net::SendBatch::Mode::kAuto);
    std::optional<BatchScratch> nested;
    BatchScratch* scratch = &thread_scratch;
    if (thread_scratch.in_use) scratch = &nested.emplace(net::SendBatch::Mode::kSendmsg);
    scratch->in_use = true;
    struct Release {
        BatchScratch* s;
        ~Release() { s->in_use = false; }
    } release{scratch};
    auto& sends = scratch->sends;
    auto& staged = scratch->staged;
    // Every staged subscriber and its writer stay locked until their finish:
    // each one gets it, whatever another one throws.
    auto send_staged = [&] {
        sends.submit();
        std::exception_ptr first_error;
        for (auto& st : staged) {
            try {
                st.subscriber->finish_push(st.entries, sends, std::move(st.lock));
            } catch (...) {
                if (!first_error) first_error = std::current_exception();
            }
        }
        staged.clear();
        if (first_error) std::rethrow_exception(first_error);
    };
    for (std::size_t from = begin; from < end; from += kMaxBatchedSends) {
        const std::size_t to = std::min(end, from + kMaxBatchedSends);
        sends.clear();
        staged.clear();
        try {
            for (std::size_t i = from; i < to; ++i) {
                auto mine = entries_for(*subscribers[i]);
                if (mine.empty()) continue;
                std::unique_lock<std::mutex> held;
                // `staged` has room for a whole group: this cannot throw once staged.
                if (subscribers[i]->stage_push(mine, sends, held))
                    staged.push_back(BatchScratch::Staged{subscribers[i].get(), mine, std::move(held)});
            }
        } catch (...) {
            send_staged();  // whatever was staged still goes out and lets go of its locks
            throw;
        }
        send_staged();
    }
}

void MemoryBus::deliver(std::shared_ptr<Channel> channel) {
    Outbox batch;
    std::vector<std::shared_ptr<Subscriber>> subscribers;
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (channel->outbox.empty()) {
                channel->delivering = false;
                return;
            }
            batch.swap(channel->outbox);
            subscribers = channel->subscribers;
        }
        const std::size_t n = subscribers.size();
        if (n < kSplitDeliveryAt) {
            deliver_range(batch, subscribers, 0, n);
            batch.clear();
            continue;
        }
        // A socket write per subscriber is most of the cost: with many of them,
        // an io thread takes the second half while the publisher does the first.
        auto split = std::make_shared<SplitDelivery>();
        split->batch.swap(batch);
        split->subscribers.swap(subscribers);
        const std::size_t mid = n / 2;
        // Each io thread runs its own context: the second half goes to the
        // context of one of its subscribers that another thread runs, if any.
        asio::any_io_executor helper = split->subscribers[mid]->executor;
        for (std::size_t i = mid; i < n; ++i)
            if (!runs_on_this_thread(split->subscribers[i]->executor)) {
                helper = split->subscribers[i]->executor;
                break;
            }
        asio::post(helper, [this, channel, split, mid] {
            deliver_range(split->batch, split->subscribers, mid, split->subscribers.size());
            if (split->halves_left.fetch_sub(1) == 1) deliver(channel);
        });
        deliver_range(split->batch, split->subscribers, 0, mid);
        if (split->halves_left.fetch_sub(1) != 1) return;  // the io thread goes on when it is done
    }
}

EntryId MemoryBus::append_and_publish(const std::string& key, const std::string& payload, std::size_t max_len) {
    std::shared_ptr<Channel> to_deliver;
    EntryId id;
    {
        std::lock_guard lock(mutex_);
        sweep_logs_locked(Clock::now());
        auto& log = logs_[key];
        const auto now_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           std::chrono::system_clock::now().time_since_epoch())
                                                           .count());
        // A clock that steps back never makes an id smaller than one issued.
        id = now_ms > last_entry_.major ? EntryId{now_ms, 0} : EntryId{last_entry_.major, last_entry_.minor + 1};
        last_entry_ = id;
        log.entries.push_back(LogEntry{id, payload});
        while (log.entries.size() > max_len) log.entries.pop_front();
        to_deliver = enqueue_locked(key, id, payload);
    }
    // After the log append: no subscriber sees an entry the log does not have yet.
    if (to_deliver) deliver(std::move(to_deliver));
    return id;
}

std::optional<EntryId> MemoryBus::last_log_id(const std::string& key) {
    std::lock_guard lock(mutex_);
    sweep_logs_locked(Clock::now());
    auto it = logs_.find(key);
    if (it == logs_.end() || it->second.entries.empty()) return std::nullopt;
    return it->second.entries.back().id;
}

std::vector<LogEntry> MemoryBus::read_log(const std::string& key, std::optional<EntryId> after, std::size_t limit) {
    std::lock_guard lock(mutex_);
    sweep_logs_locked(Clock::now());
    std::vector<LogEntry> out;
    auto it = logs_.find(key);
    if (it == logs_.end()) return out;
    const auto& entries = it->second.entries;
    auto begin = entries.begin();
    if (after)
        begin = std::upper_bound(entries.begin(), entries.end(), *after,
                                 [](const EntryId& id, const LogEntry& e) { return id < e.id; });
    for (auto e = begin; e != entries.end() && out.size() < limit; ++e) out.push_back(*e);
    return out;
}

void MemoryBus::expire_log(const std::string& key, std::chrono::milliseconds ttl) {
    std::lock_guard lock(mutex_);
    auto it = logs_.find(key);
    if (it != logs_.end()) it->second.expires = Clock::now() + ttl;
}

void MemoryBus::persist_log(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = logs_.find(key);
    if (it != logs_.end()) it->second.expires.reset();
}

void MemoryBus::delete_log(const std::string& key) {
    std::lock_guard lock(mutex_);
    logs_.erase(key);
}

void MemoryBus::unsubscribe(const std::string& channel, Subscriber* s) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    auto& v = it->second->subscribers;
    v.erase(std::remove_if(v.begin(), v.end(), [s](const auto& p) { return p.get() == s; }), v.end());
    // A publisher still delivering holds the channel; new subscribers get a new one.
    if (v.empty()) channels_.erase(it);
}

std::unique_ptr<Subscription> MemoryBus::subscribe(const std::string& key, asio::any_io_executor executor) {
    std::shared_ptr<Subscriber> sub;
    {
        std::lock_guard lock(mutex_);
        sub = std::make_shared<Subscriber>(this, key, executor, delivery_seq_ + 1);
        auto& channel = channels_[key];
        if (!channel) channel = std::make_shared<Channel>();
        channel->subscribers.push_back(sub);
    }
    Subscriber* raw = sub.get();
    return std::make_unique<MemorySubscription>(sub, [this, key, raw, weak = std::weak_ptr<Subscriber>(sub)] {
        auto s = weak.lock();
        if (s && s->bus) unsubscribe(key, raw);
    });
}

MemoryBus::Hash* MemoryBus::live_hash_locked(const std::string& key) {
    auto it = hashes_.find(key);
    if (it == hashes_.end()) return nullptr;
    if (it->second.expires && *it->second.expires <= Clock::now()) {
        hashes_.erase(it);
        return nullptr;
    }
    return &it->second;
}

void MemoryBus::hash_set(const std::string& key, const std::string& field, const std::string& value,
                         std::chrono::milliseconds ttl) {
    std::lock_guard lock(mutex_);
    live_hash_locked(key);  // drops an expired predecessor
    auto& h = hashes_[key];
    h.fields[field] = value;
    if (ttl.count() > 0) h.expires = Clock::now() + ttl;
}

std::optional<std::string> MemoryBus::hash_get(const std::string& key, const std::string& field) {
    std::lock_guard lock(mutex_);
    auto* h = live_hash_locked(key);
    if (!h) return std::nullopt;
    auto it = h->fields.find(field);
    if (it == h->fields.end()) return std::nullopt;
    return it->second;
}

std::vector<std::pair<std::string, std::string>> MemoryBus::hash_get_all(const std::string& key) {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    if (auto* h = live_hash_locked(key))
        for (const auto& kv : h->fields) out.emplace_back(kv.first, kv.second);
    return out;
}

void MemoryBus::hash_delete(const std::string& key, const std::string& field) {
    std::lock_guard lock(mutex_);
    if (field.empty()) {
        hashes_.erase(key);
        return;
    }
    if (auto* h = live_hash_locked(key)) {
        h->fields.erase(field);
        if (h->fields.empty()) hashes_.erase(key);
    }
}

void MemoryBus::queue_push(const std::string& key, const std::string& payload) {
    std::lock_guard lock(mutex_);
    queues_[key].push_back(payload);
}

std::optional<std::string> MemoryBus::queue_pop(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(key);
    if (it == queues_.end() || it->second.empty()) return std::nullopt;
    std::string out = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) queues_.erase(it);
    return out;
}

std::vector<std::string> MemoryBus::queue_drain(const std::string& key) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    auto it = queues_.find(key);
    if (it == queues_.end()) return out;
    out.assign(std::make_move_iterator(it->second.begin()), std::make_move_iterator(it->second.end()));
    queues_.erase(it);
    return out;
}

std::size_t MemoryBus::queue_length(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(key);
    return it == queues_.end() ? 0 : it->second.size();
}

void MemoryBus::broadcast(const std::string& channel, const std::string& payload) {
    std::shared_ptr<Channel> to_deliver;
    {
        std::lock_guard lock(mutex_);
        to_deliver = enqueue_locked(channel, EntryId{0, 0}, payload);
    }
    if (to_deliver) deliver(std::move(to_deliver));
}

}  // namespace agentd::bus
