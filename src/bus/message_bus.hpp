#pragma once
// The coordination seam between agentd processes (see ARCHITECTURE §5).
//
// Beside each operation: how the Redis backend implements it atomically. The
// synchronous operations are quick on the in-memory backend; a networked backend
// may block, so callers on io threads use them only through the blocking pool.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <thread>
#include <vector>

namespace agentd::net {
class SendBatch;
}

namespace agentd::bus {

/// Position of an entry in a log: Redis stream ids are "<ms>-<seq>"; the
/// in-memory bus uses "<n>-0". Ordered by (major, minor).
struct EntryId {
    std::uint64_t major = 0;
    std::uint64_t minor = 0;
    std::string to_string() const { return std::to_string(major) + "-" + std::to_string(minor); }
    /// Accepts "<a>-<b>" and a bare "<a>"; nullopt for anything else.
    static std::optional<EntryId> parse(std::string_view text);
    auto operator<=>(const EntryId&) const = default;
};

struct LogEntry {
    EntryId id;
    std::string payload;
};

/// A live subscription to one channel. Messages published after subscribe()
/// returned are delivered in publish order; a subscriber that falls too far behind
/// is dropped (next() then reports closed) rather than buffering without bound.
class Subscription {
public:
    virtual ~Subscription() = default;
    /// kTimeout: the wait ended with nothing new (its deadline passed, or a direct
    /// delivery asked the consumer to run, see set_direct_sink).
    enum class Status { kMessage, kTimeout, kClosed };
    struct Next {
        Status status;
        LogEntry message;  ///< valid for kMessage: the payload and its log entry id
    };
    /// Waits up to `timeout` for the next message. Must be awaited on the
    /// executor given to subscribe(). Redis: XREAD BLOCK on the stream, or a
    /// pub/sub connection feeding this queue.
    virtual boost::asio::awaitable<Next> next(std::chrono::milliseconds timeout) = 0;
    /// Ends the subscription from its own executor: a pending or later next()
    /// reports kClosed. Redis: closes the blocking reader's connection.
    virtual void cancel() = 0;

    /// What a direct sink did with an entry.
    enum class DirectResult {
        kRefused,    ///< not taken: queue it and wake the consumer as usual
        kDelivered,  ///< taken and done
        kDeliveredWake,  ///< taken, but the consumer must run (next() returns kTimeout) to finish it
    };
    /// Takes entries straight from a publisher (see set_direct_sink).
    class DirectSink {
    public:
        virtual ~DirectSink() = default;
        /// Entries published back to back arrive together, oldest first; the
        /// result covers them all.
        virtual DirectResult deliver(std::span<const LogEntry* const> entries) = 0;
        /// deliver() in two phases, for a publisher handing the same entries to
        /// many subscribers: the sink queues its socket write on `sends` and
        /// returns nullopt; once the publisher has submitted `sends`, finish()
        /// gives the result. Nothing else reaches the sink in between. A sink
        /// may answer at once instead (then finish() is not called); by default
        /// it delivers at once.
        virtual std::optional<DirectResult> stage(std::span<const LogEntry* const> entries, net::SendBatch& sends) {
            (void)sends;
            return deliver(entries);
        }
        virtual DirectResult finish(const net::SendBatch& sends) {
            (void)sends;
            return DirectResult::kDelivered;
        }
    };
    /// Optional fast path for a consumer that forwards entries somewhere
    /// thread-safe (an event stream's socket): while it waits in next() with
    /// nothing queued, the publisher may hand an entry to `sink` on the
    /// publisher's own thread instead of queueing it and resuming the consumer.
    /// Several entries published while the previous ones were being delivered
    /// come in one call (one socket write instead of one each).
    /// The sink is called in publish order, never while next() is running and
    /// never after this subscription is destroyed; entries it refuses are
    /// queued behind nothing it took. A backend may ignore it (the entries then
    /// all arrive through next()). Redis: ignored; entries arrive on the
    /// reader's own connection, so there is no hop to save.
    virtual void set_direct_sink(std::unique_ptr<DirectSink> sink) { (void)sink; }
};

/// A direct sink made of one function, with no batched form.
inline std::unique_ptr<Subscription::DirectSink> direct_sink(
    std::function<Subscription::DirectResult(std::span<const LogEntry* const>)> fn) {
    struct FunctionSink final : Subscription::DirectSink {
        std::function<Subscription::DirectResult(std::span<const LogEntry* const>)> fn;
        Subscription::DirectResult deliver(std::span<const LogEntry* const> entries) override { return fn(entries); }
    };
    auto sink = std::make_unique<FunctionSink>();
    sink->fn = std::move(fn);
    return sink;
}

class MessageBus {
public:
    virtual ~MessageBus() = default;

    // ---- locks ----------------------------------------------------------------
    /// Takes `key` for `ttl` if free (or expired); returns the holder token.
    /// Redis: SET key token NX PX ttl.
    virtual std::optional<std::string> try_lock(const std::string& key, std::chrono::milliseconds ttl) = 0;
    /// Extends a lock still held by `token`. Redis: Lua script comparing GET with token, then PEXPIRE.
    virtual bool renew_lock(const std::string& key, const std::string& token, std::chrono::milliseconds ttl) = 0;
    /// Releases only when `token` still holds it. Redis: Lua compare-and-DEL.
    virtual bool unlock(const std::string& key, const std::string& token) = 0;
    /// Whether a live lock exists. Redis: EXISTS key.
    virtual bool is_locked(const std::string& key) = 0;
    /// Increases whenever any lock is taken or released (cache invalidation);
    /// nullopt when locks can change in other processes.
    virtual std::optional<std::uint64_t> lock_generation() const = 0;

    // ---- capped logs with replay, and live fan-out ------------------------------
    /// Appends to the log `key` (trimmed to the newest `max_len`) and delivers the
    /// entry to the live subscribers of channel `key`, in one step so that no
    /// subscriber can see a live entry before it is readable from the log.
    /// Redis: XADD key MAXLEN ~ max_len * payload (live delivery via XREAD).
    virtual EntryId append_and_publish(const std::string& key, const std::string& payload,
                                       std::size_t max_len) = 0;
    /// Entries with id > `after` (all when nullopt), oldest first, at most `limit`.
    /// Redis: XRANGE key (after + COUNT limit.
    virtual std::vector<LogEntry> read_log(const std::string& key, std::optional<EntryId> after,
                                           std::size_t limit) = 0;
    /// The id of the newest entry of `key`'s log; nullopt when it has none.
    /// Redis: XREVRANGE key + - COUNT 1.
    virtual std::optional<EntryId> last_log_id(const std::string& key) = 0;
    /// Keeps the log for `ttl` more, then drops it (retention after a run).
    /// Redis: PEXPIRE key ttl.
    virtual void expire_log(const std::string& key, std::chrono::milliseconds ttl) = 0;
    /// Cancels a pending expiry (a new run started). Redis: PERSIST key.
    virtual void persist_log(const std::string& key) = 0;
    virtual void delete_log(const std::string& key) = 0;
    /// Subscribes to live entries of `key`; the subscription's waits run on `executor`.
    virtual std::unique_ptr<Subscription> subscribe(const std::string& key,
                                                    boost::asio::any_io_executor executor) = 0;

    // ---- small hashes (projections, registries) --------------------------------------
    /// Sets `field` of hash `key`; a positive `ttl` (re)arms the hash's expiry.
    /// Redis: HSET key field value (+ PEXPIRE key ttl) in one MULTI.
    virtual void hash_set(const std::string& key, const std::string& field, const std::string& value,
                          std::chrono::milliseconds ttl = std::chrono::milliseconds::zero()) = 0;
    /// Redis: HGET key field.
    virtual std::optional<std::string> hash_get(const std::string& key, const std::string& field) = 0;
    /// Redis: HGETALL key.
    virtual std::vector<std::pair<std::string, std::string>> hash_get_all(const std::string& key) = 0;
    /// Removes one field, or the whole hash when `field` is empty. Redis: HDEL / DEL.
    virtual void hash_delete(const std::string& key, const std::string& field = {}) = 0;

    // ---- queues (inbox, run triggers) ------------------------------------------------
    /// Appends to the queue's tail. Redis: RPUSH key payload.
    virtual void queue_push(const std::string& key, const std::string& payload) = 0;
    /// Takes the head, if any (each entry goes to exactly one consumer). Redis: LPOP key.
    virtual std::optional<std::string> queue_pop(const std::string& key) = 0;
    /// Takes everything queued, oldest first, atomically. Redis: MULTI LRANGE 0 -1; DEL; EXEC.
    virtual std::vector<std::string> queue_drain(const std::string& key) = 0;
    /// Redis: LLEN key.
    virtual std::size_t queue_length(const std::string& key) = 0;

    // ---- broadcasts ---------------------------------------------------------------
    /// Fire-and-forget message to every subscriber of `channel` (no log).
    /// Redis: PUBLISH channel payload.
    virtual void broadcast(const std::string& channel, const std::string& payload) = 0;

    virtual bool healthy() = 0;
};

/// try_lock, tried again every 2 ms for up to `patience`: for a caller that
/// would rather wait out a short holder (a PATCH holds a session's lock for a few
/// statements) than fail. Blocking: not for the io threads.
inline std::optional<std::string> try_lock_briefly(MessageBus& bus, const std::string& key,
                                                   std::chrono::milliseconds ttl,
                                                   std::chrono::milliseconds patience = std::chrono::milliseconds(50)) {
    const auto until = std::chrono::steady_clock::now() + patience;
    for (;;) {
        if (auto token = bus.try_lock(key, ttl)) return token;
        if (std::chrono::steady_clock::now() >= until) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

/// Releases a lock this holder took when it goes out of scope.
class HeldLock {
public:
    HeldLock(MessageBus& bus, std::string key, std::string token)
        : bus_(bus), key_(std::move(key)), token_(std::move(token)) {}
    HeldLock(const HeldLock&) = delete;
    HeldLock& operator=(const HeldLock&) = delete;
    ~HeldLock() { bus_.unlock(key_, token_); }

private:
    MessageBus& bus_;
    std::string key_, token_;
};

/// Whether `key` is free within `patience` (polled every 2 ms). Blocking: not
/// for the io threads.
inline bool wait_unlocked(MessageBus& bus, const std::string& key,
                          std::chrono::milliseconds patience = std::chrono::milliseconds(50)) {
    const auto until = std::chrono::steady_clock::now() + patience;
    for (;;) {
        if (!bus.is_locked(key)) return true;
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

/// Key of a session's run lock (the reference's key, kept for cross-compatibility).
inline std::string session_lock_key(const std::string& session_id) {
    return "agentscope:session:lock:" + session_id;
}
/// Key of a session's event log and live channel.
inline std::string session_events_key(const std::string& session_id) {
    return "agentscope:session:events:" + session_id;
}
/// Hash telling a stream that opens without a cursor where the running reply's
/// unsaved part starts in the event log (service/session_event_stream.hpp).
inline std::string session_replay_key(const std::string& session_id) {
    return "agentd:session:replay:" + session_id;
}
/// Channel on which interrupts of running sessions are broadcast.
inline const std::string kSessionInterruptChannel = "agentscope:session:interrupt";

}  // namespace agentd::bus
