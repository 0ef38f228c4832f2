#pragma once
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

#include "bus/message_bus.hpp"

namespace agentd::bus {

/// Single-process bus: everything lives in this object, guarded by one mutex.
class MemoryBus final : public MessageBus {
public:
    MemoryBus();
    ~MemoryBus() override;

    std::optional<std::string> try_lock(const std::string& key, std::chrono::milliseconds ttl) override;
    bool renew_lock(const std::string& key, const std::string& token, std::chrono::milliseconds ttl) override;
    bool unlock(const std::string& key, const std::string& token) override;
    bool is_locked(const std::string& key) override;
    /// Also counts leases that ran out since the last call, so caches notice expiries.
    std::optional<std::uint64_t> lock_generation() const override;

    EntryId append_and_publish(const std::string& key, const std::string& payload, std::size_t max_len) override;
    std::vector<LogEntry> read_log(const std::string& key, std::optional<EntryId> after, std::size_t limit) override;
    std::optional<EntryId> last_log_id(const std::string& key) override;
    void expire_log(const std::string& key, std::chrono::milliseconds ttl) override;
    void persist_log(const std::string& key) override;
    void delete_log(const std::string& key) override;
    std::unique_ptr<Subscription> subscribe(const std::string& key, boost::asio::any_io_executor executor) override;

    void hash_set(const std::string& key, const std::string& field, const std::string& value,
                  std::chrono::milliseconds ttl = std::chrono::milliseconds::zero()) override;
    std::optional<std::string> hash_get(const std::string& key, const std::string& field) override;
    std::vector<std::pair<std::string, std::string>> hash_get_all(const std::string& key) override;
    void hash_delete(const std::string& key, const std::string& field = {}) override;

    void queue_push(const std::string& key, const std::string& payload) override;
    std::optional<std::string> queue_pop(const std::string& key) override;
    std::vector<std::string> queue_drain(const std::string& key) override;
    std::size_t queue_length(const std::string& key) override;

    void broadcast(const std::string& channel, const std::string& payload) override;
    bool healthy() override { return true; }

    /// Most messages a live subscriber may have queued before it is dropped.
    static constexpr std::size_t kMaxSubscriberBacklog = 4096;
    /// Channels with this many subscribers are delivered by two threads.
    static constexpr std::size_t kSplitDeliveryAt = 64;
    /// A thread delivering to this many subscribers hands their socket writes
    /// to the kernel together (net::SendBatch), at most kMaxBatchedSends at once:
    /// the subscribers of one group stay locked until their writes are done.
    static constexpr std::size_t kBatchSendsAt = 8;
    static constexpr std::size_t kMaxBatchedSends = 256;

    struct Subscriber;  // defined in memory_bus.cpp

    /// Entries waiting for delivery: (delivery sequence, entry), oldest first.
    using Outbox = std::deque<std::pair<std::uint64_t, std::shared_ptr<const LogEntry>>>;

private:
    /// A live channel: its subscribers, and the entries waiting to be delivered to
    /// them. One publisher at a time delivers (outside mutex_, so a channel with
    /// many subscribers holds up nobody else), in append order.
    struct Channel {
        std::vector<std::shared_ptr<Subscriber>> subscribers;
        Outbox outbox;
        bool delivering = false;
    };
    using Clock = std::chrono::steady_clock;
    struct Lock {
        std::string token;
        Clock::time_point expires;
    };
    struct Log {
        std::deque<LogEntry> entries;
        std::optional<Clock::time_point> expires;
    };
    /// Drops `key` when its lease ran out. Caller holds mutex_.
    void expire_lock_locked(const std::string& key, Clock::time_point now);
    /// Drops logs whose retention ended. Caller holds mutex_.
    void sweep_logs_locked(Clock::time_point now);
    /// Queues `entry` for the subscribers of `channel`; returns the channel when
    /// the caller is to deliver (nobody else is), after releasing mutex_.
    /// Nothing is copied when the channel has no subscribers.
    std::shared_ptr<Channel> enqueue_locked(const std::string& channel, EntryId id, const std::string& payload);
    /// Delivers the channel's outbox until it is empty. Takes mutex_ itself.
    void deliver(std::shared_ptr<Channel> channel);
    void deliver_range(const Outbox& batch, const std::vector<std::shared_ptr<Subscriber>>& subscribers,
                       std::size_t begin, std::size_t end);
    friend struct Subscriber;
    void unsubscribe(const std::string& channel, Subscriber* s);

    mutable std::mutex mutex_;  // guards everything below
    mutable std::unordered_map<std::string, Lock> locks_;
    std::unordered_map<std::string, Log> logs_;
    std::unordered_map<std::string, std::shared_ptr<Channel>> channels_;
    /// Numbers every entry handed to channels: a subscriber gets only those
    /// numbered after it subscribed, whenever they are delivered.
    std::uint64_t delivery_seq_ = 0;
    struct Hash {
        std::map<std::string, std::string> fields;
        std::optional<Clock::time_point> expires;
    };
    std::unordered_map<std::string, Hash> hashes_;
    std::unordered_map<std::string, std::deque<std::string>> queues_;
    /// The hash, or null when absent or expired (then dropped). Caller holds mutex_.
    Hash* live_hash_locked(const std::string& key);
    /// The last entry id issued, for any log. Ids are "<ms>-<n>" as Redis makes
    /// them: a client's id from before a restart stays below every new one, so
    /// resuming with it loses nothing (a counter from 1 would skip the new ones).
    EntryId last_entry_{};
    Clock::time_point next_sweep_{};
    mutable std::atomic<std::uint64_t> generation_{0};
};

}  // namespace agentd::bus
