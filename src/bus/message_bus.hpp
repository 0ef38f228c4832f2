#pragma once
// The coordination seam between agentd processes (see ARCHITECTURE §5).
//
// This revision carries the session-lock primitives the session routes need
// (running status, 409 while running). Logs, pub/sub, hashes and queues join it
// with the chat runtime. Beside each operation: how the Redis backend does it.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace agentd::bus {

class MessageBus {
public:
    virtual ~MessageBus() = default;

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

    virtual bool healthy() = 0;
};

/// Key of a session's run lock (the reference's key, kept for cross-compatibility).
inline std::string session_lock_key(const std::string& session_id) {
    return "agentscope:session:lock:" + session_id;
}

}  // namespace agentd::bus
