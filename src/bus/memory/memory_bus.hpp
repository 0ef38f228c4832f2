#pragma once
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "bus/message_bus.hpp"

namespace agentd::bus {

/// Single-process bus: everything lives in this object, guarded by one mutex.
class MemoryBus final : public MessageBus {
public:
    std::optional<std::string> try_lock(const std::string& key, std::chrono::milliseconds ttl) override;
    bool renew_lock(const std::string& key, const std::string& token, std::chrono::milliseconds ttl) override;
    bool unlock(const std::string& key, const std::string& token) override;
    bool is_locked(const std::string& key) override;
    std::optional<std::uint64_t> lock_generation() const override { return generation_.load(); }
    bool healthy() override { return true; }

private:
    using Clock = std::chrono::steady_clock;
    struct Lock {
        std::string token;
        Clock::time_point expires;
    };
    /// Drops `key` when its lease ran out. Caller holds mutex_.
    void expire_locked(const std::string& key, Clock::time_point now);

    std::mutex mutex_;  // guards locks_
    std::unordered_map<std::string, Lock> locks_;
    std::atomic<std::uint64_t> generation_{0};
};

}  // namespace agentd::bus
