#include "service/agent_service.hpp"

#include <thread>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "service/bus_keys.hpp"
#include "service/inbox.hpp"

namespace agentd::service {

std::string not_found_detail(std::string_view kind, std::string_view id) {
    // The reference formats these with literal quotes, not repr().
    return std::string(kind) + " '" + std::string(id) + "' not found.";
}

void wait_for_session_locks(bus::MessageBus& bus, const std::vector<std::string>& session_ids,
                            std::chrono::milliseconds timeout) {
    for (const auto& id : session_ids) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (bus.is_locked(bus::session_lock_key(id)) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void cancel_sessions(bus::MessageBus& bus, const std::vector<std::string>& session_ids,
                     std::chrono::milliseconds timeout) {
    for (const auto& id : session_ids)
        bus.broadcast(kSessionCancelChannel, json::write(bj::object{{"session_id", id}}, json::Style::kPython));
    wait_for_session_locks(bus, session_ids, timeout);
}

void purge_sessions(bus::MessageBus& bus, const std::vector<std::string>& session_ids) {
    for (const auto& id : session_ids) {
        bus.delete_log(bus::session_events_key(id));
        inbox::purge(bus, id);
        bus.hash_delete(background_tasks_key(id));
    }
}

domain::AgentRecord AgentService::require(const std::string& user_id, const std::string& agent_id) {
    auto rec = storage_.get_agent(user_id, agent_id);
    if (!rec) throw Error::not_found(not_found_detail("Agent", agent_id));
    return *rec;
}

bj::object AgentService::list(const std::string& user_id) {
    bj::array agents;
    for (const auto& a : storage_.list_agents(user_id)) agents.push_back(domain::agent_view_json(a, true));
    auto total = static_cast<std::int64_t>(agents.size());
    bj::object out;
    out["agents"] = std::move(agents);
    out["total"] = total;
    return out;
}

std::string AgentService::create(const std::string& user_id, bj::object data) {
    domain::AgentRecord rec;
    rec.id = new_id();
    rec.user_id = user_id;
    rec.source = "user";
    rec.created_us = rec.updated_us = clock::now_us();
    rec.data = std::move(data);
    storage_.insert_agent(rec);
    return rec.id;
}

bj::object AgentService::update(const std::string& user_id, const std::string& agent_id, const bj::object& patch) {
    // Merged into the stored data inside the write: a concurrent PATCH of
    // other fields is kept, not overwritten with what was read before it.
    auto rec = storage_.update_agent(user_id, agent_id, [&](domain::AgentRecord& stored) {
        for (const auto& kv : patch) stored.data[kv.key()] = kv.value();
        stored.updated_us = clock::now_us();
    });
    if (!rec) throw Error::not_found(not_found_detail("Agent", agent_id));
    return domain::agent_view_json(*rec, true);
}

void AgentService::remove(const std::string& user_id, const std::string& agent_id) {
    require(user_id, agent_id);
    const auto sessions = storage_.list_session_ids(user_id, agent_id);
    cancel_sessions(bus_, sessions, std::chrono::seconds(10));
    if (!storage_.delete_agent(user_id, agent_id)) throw Error::not_found(not_found_detail("Agent", agent_id));
    purge_sessions(bus_, sessions);
}

}  // namespace agentd::service
