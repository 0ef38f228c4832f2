#include "bus/memory/memory_bus.hpp"

#include "common/ids.hpp"

namespace agentd::bus {

void MemoryBus::expire_locked(const std::string& key, Clock::time_point now) {
    auto it = locks_.find(key);
    if (it != locks_.end() && it->second.expires <= now) {
        locks_.erase(it);
        ++generation_;
    }
}

std::optional<std::string> MemoryBus::try_lock(const std::string& key, std::chrono::milliseconds ttl) {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    expire_locked(key, now);
    if (locks_.count(key)) return std::nullopt;
    std::string token = new_id();
    locks_[key] = Lock{token, now + ttl};
    ++generation_;
    return token;
}

bool MemoryBus::renew_lock(const std::string& key, const std::string& token, std::chrono::milliseconds ttl) {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    expire_locked(key, now);
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

bool MemoryBus::is_locked(const std::string& key) {
    std::lock_guard lock(mutex_);
    expire_locked(key, Clock::now());
    return locks_.count(key) > 0;
}

}  // namespace agentd::bus
