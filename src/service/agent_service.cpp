#include "service/agent_service.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "service/bus_keys.hpp"
#include "service/inbox.hpp"
#include "service/replay_mark.hpp"

namespace agentd::service {

std::string not_found_detail(std::string_view kind, std::string_view id) {
    // The reference formats these with literal quotes, not repr().
    return std::string(kind) + " '" + std::string(id) + "' not found.";
}

void wait_for_session_locks(bus::MessageBus& bus, const std::vector<std::string>& session_ids,
                            std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& id : session_ids) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (!bus::wait_unlocked(bus, bus::session_lock_key(id), std::max(left, std::chrono::milliseconds(0)))) return;
    }
}

void cancel_sessions(bus::MessageBus& bus, const std::vector<std::string>& session_ids) {
    for (const auto& id : session_ids)
        bus.broadcast(kSessionCancelChannel, json::write(bj::object{{"session_id", id}}, json::Style::kPython));
}

void purge_sessions(bus::MessageBus& bus, const std::vector<std::string>& session_ids) {
    for (const auto& id : session_ids) {
        bus.delete_log(bus::session_events_key(id));
        inbox::purge(bus, id);
        bus.hash_delete(background_tasks_key(id));
        drop_replay_marks(bus, id);
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
    // The records go first: a chat arriving from then on finds no session (404)
    // and a run's later steps store nothing, so the runs cancelled here are the
    // last ones, and a client chatting on does not keep the wait below going.
    cancel_sessions(bus_, sessions);
    if (!storage_.delete_agent(user_id, agent_id)) throw Error::not_found(not_found_detail("Agent", agent_id));
    wait_for_session_locks(bus_, sessions, std::chrono::seconds(10));
    purge_sessions(bus_, sessions);
}

}  // namespace agentd::service
