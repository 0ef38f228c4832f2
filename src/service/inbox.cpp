#include "service/inbox.hpp"

#include <thread>

#include "common/json.hpp"

namespace agentd::service::inbox {

namespace {

const std::string kConsumerField = "running";

/// Holds a session's inbox lock for one critical section. Both sections are a
/// few bus operations long, so a short sleep between attempts is enough; a
/// holder that died leaves at most the lease to wait out.
class InboxLock {
public:
    InboxLock(bus::MessageBus& bus, const std::string& session_id) : InboxLock(bus, session_id, true) {}
    /// One attempt only; held() says whether it succeeded.
    static InboxLock attempt(bus::MessageBus& bus, const std::string& session_id) {
        return InboxLock(bus, session_id, false);
    }
    ~InboxLock() {
        if (held_) bus_.unlock(key_, token_);
    }
    bool held() const { return held_; }
    InboxLock(const InboxLock&) = delete;
    InboxLock& operator=(const InboxLock&) = delete;

private:
    InboxLock(bus::MessageBus& bus, const std::string& session_id, bool wait)
        : bus_(bus), key_(inbox_lock_key(session_id)) {
        for (;;) {
            if (auto token = bus_.try_lock(key_, kInboxLockTtl)) {
                token_ = std::move(*token);
                held_ = true;
                return;
            }
            if (!wait) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    bus::MessageBus& bus_;
    std::string key_;
    std::string token_;
    bool held_ = false;
};

/// With the inbox lock held: whether payloads wait; if none, the run stops being the consumer.
bool pending_or_drop_consumer(bus::MessageBus& bus, const std::string& session_id) {
    if (bus.queue_length(inbox_key(session_id)) > 0) return true;
    bus.hash_delete(consumer_key(session_id));
    return false;
}

bool has_consumer(bus::MessageBus& bus, const std::string& session_id) {
    return bus.hash_get(consumer_key(session_id), kConsumerField).has_value();
}

}  // namespace

std::string inbox_key(const std::string& session_id) { return "agentscope:inbox:" + session_id; }
std::string inbox_lock_key(const std::string& session_id) { return "agentscope:inbox:lock:" + session_id; }
std::string consumer_key(const std::string& session_id) { return "agentscope:inbox:consumer:" + session_id; }

bj::object to_json(const Trigger& trigger) {
    return bj::object{{"user_id", trigger.user_id},
                      {"session_id", trigger.session_id},
                      {"agent_id", trigger.agent_id},
                      {"kind", trigger.kind},
                      {"input", trigger.input}};
}

void enqueue_trigger(bus::MessageBus& bus, const Trigger& trigger) {
    // Pushed before the nudge, so a dispatcher woken by it finds the entry.
    bus.queue_push(kWakeupQueue, json::write(to_json(trigger), json::Style::kPython));
    bus.broadcast(kWakeupSignal, "{}");
}

void deliver(bus::MessageBus& bus, const std::string& user_id, const std::string& session_id,
             const std::string& agent_id, const bj::object& payload) {
    bool consumed;
    {
        InboxLock lock(bus, session_id);
        bus.queue_push(inbox_key(session_id), json::write(payload, json::Style::kPython));
        consumed = has_consumer(bus, session_id);
    }
    if (!consumed) enqueue_trigger(bus, Trigger{user_id, session_id, agent_id, "wake", nullptr});
}

void register_consumer(bus::MessageBus& bus, const std::string& session_id) {
    bus.hash_set(consumer_key(session_id), kConsumerField, "1", kConsumerTtl);
}

std::vector<std::string> take(bus::MessageBus& bus, const std::string& session_id, std::size_t max) {
    std::vector<std::string> out;
    const std::string key = inbox_key(session_id);
    while (out.size() < max) {
        auto entry = bus.queue_pop(key);
        if (!entry) break;
        out.push_back(std::move(*entry));
    }
    return out;
}

bool pending_or_release(bus::MessageBus& bus, const std::string& session_id) {
    InboxLock lock(bus, session_id);
    return pending_or_drop_consumer(bus, session_id);
}

std::optional<bool> try_pending_or_release(bus::MessageBus& bus, const std::string& session_id) {
    auto lock = InboxLock::attempt(bus, session_id);
    if (!lock.held()) return std::nullopt;
    return pending_or_drop_consumer(bus, session_id);
}

void release(bus::MessageBus& bus, const std::string& session_id) {
    InboxLock lock(bus, session_id);
    bus.hash_delete(consumer_key(session_id));
}

void abandon_consumer(bus::MessageBus& bus, const std::string& user_id, const std::string& session_id,
                      const std::string& agent_id) {
    if (!pending_or_release(bus, session_id)) return;
    bus.hash_delete(consumer_key(session_id));
    enqueue_trigger(bus, Trigger{user_id, session_id, agent_id, "wake", nullptr});
}

void purge(bus::MessageBus& bus, const std::string& session_id) {
    InboxLock lock(bus, session_id);
    bus.queue_drain(inbox_key(session_id));
    bus.hash_delete(consumer_key(session_id));
}

}  // namespace agentd::service::inbox
