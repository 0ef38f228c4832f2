#include "service/session_service.hpp"

#include <chrono>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"
#include "domain/model_schema.hpp"
#include "model/model_factory.hpp"
#include "service/replay_mark.hpp"

namespace agentd::service {

using validation::Issues;
using validation::loc_join;

namespace {

constexpr std::string_view kModelConfigKeys[] = {"chat_model_config", "fallback_chat_model_config",
                                                 "tts_model_config"};
constexpr std::size_t kMaxCachedLists = 4096;
/// A PATCH holds the run lock for a few statements; the TTL only matters if the
/// process dies meanwhile.
constexpr std::chrono::seconds kPatchLockTtl{30};

/// Reads the optional config fields shared by create and patch bodies into `out`
/// (only those present in `obj`).
void read_config_fields(const bj::object& obj, const bj::value& body, Issues& issues, bj::object& out) {
    bj::array loc{"body"};
    for (auto key : kModelConfigKeys) {
        auto it = obj.find(key);
        if (it == obj.end()) continue;
        if (auto v = domain::parse_model_config(it->value(), loc_join(loc, key), issues)) out[key] = std::move(*v);
    }
    if (auto it = obj.find("knowledge_config"); it != obj.end()) {
        if (auto v = domain::parse_knowledge_config(it->value(), loc_join(loc, "knowledge_config"), issues))
            out["knowledge_config"] = std::move(*v);
    }
}

std::optional<std::string> opt_string_field(const bj::object& obj, std::string_view key, Issues& issues,
                                            bool* present = nullptr, bool* is_null = nullptr) {
    auto it = obj.find(key);
    if (present) *present = it != obj.end();
    if (it == obj.end()) return std::nullopt;
    if (it->value().is_null()) {
        if (is_null) *is_null = true;
        return std::nullopt;
    }
    return validation::as_string(it->value(), bj::array{"body", key}, issues);
}

}  // namespace

void SessionService::check_references(const std::string& user_id, const bj::object& fields) {
    Issues issues;
    for (auto key : kModelConfigKeys) {
        auto it = fields.find(key);
        if (it == fields.end() || !it->value().is_object()) continue;
        const auto& config = it->value().get_object();
        const std::string type =
            credentials_.require_visible(user_id, std::string(config.at("credential_id").as_string()));
        // The reference finds out-of-range parameters only when a chat builds the
        // model, and fails that reply; here the session is refused up front
        // (spec/models.md §2.2). TTS configs are not chat models.
        const auto* parameters = config.if_contains("parameters");
        if (key == "tts_model_config" || !parameters || !parameters->is_object() || parameters->get_object().empty())
            continue;
        try {
            model::validate_chat_parameters(type, std::string(json::str_at(config, "model")), parameters->get_object());
        } catch (const std::invalid_argument& e) {
            issues.add("value_error", bj::array{"body", key, "parameters"}, std::string("Value error, ") + e.what(),
                       *parameters);
        }
    }
    issues.throw_if_any();
    auto kc = fields.find("knowledge_config");
    if (kc != fields.end() && kc->value().is_object()) {
        // No knowledge base is visible until the knowledge-base service exists.
        for (const auto& id : kc->value().at("knowledge_base_ids").as_array())
            throw Error::not_found(not_found_detail("Knowledge Base", id.as_string()));
    }
}

CreateSessionInput parse_create_session(const bj::value& body, Issues& issues) {
    CreateSessionInput in;
    const bj::object* obj = validation::as_model(body, bj::array{"body"}, issues);
    if (!obj) return in;
    if (auto it = obj->find("agent_id"); it == obj->end()) issues.missing(bj::array{"body", "agent_id"}, body);
    else if (auto v = validation::as_string(it->value(), bj::array{"body", "agent_id"}, issues)) in.agent_id = *v;
    in.workspace_id = opt_string_field(*obj, "workspace_id", issues);
    in.name = opt_string_field(*obj, "name", issues);
    read_config_fields(*obj, body, issues, in.model_fields);
    return in;
}

SessionPatch parse_session_patch(const bj::value& body, Issues& issues) {
    SessionPatch p;
    const bj::object* obj = validation::as_model(body, bj::array{"body"}, issues);
    if (!obj) return p;
    bool name_present = false, name_null = false, cwd_null = false;
    p.name = opt_string_field(*obj, "name", issues, &name_present, &name_null);
    if (name_null)  // the reference fails inside the handler (500); a name cannot be cleared
        issues.add("string_type", bj::array{"body", "name"}, "Input should be a valid string", nullptr);
    // Problems are reported in the reference model's field order.
    read_config_fields(*obj, body, issues, p.model_fields);
    if (auto it = obj->find("permission_mode"); it != obj->end() && !it->value().is_null()) {
        static const domain::FieldSpec kMode{.name = "permission_mode",
                                             .kind = domain::FieldKind::kStr,
                                             .choices = {"default", "accept_edits", "explore", "bypass", "dont_ask"},
                                             .enum_type = true};
        if (auto v = domain::parse_field(it->value(), kMode, bj::array{"body", "permission_mode"}, issues))
            p.permission_mode = std::string(v->as_string());
    }
    p.cwd = opt_string_field(*obj, "cwd", issues, &p.cwd_present, &cwd_null);
    return p;
}

std::string SessionService::create(const std::string& user_id, const CreateSessionInput& in) {
    agents_.require(user_id, in.agent_id);
    check_references(user_id, in.model_fields);

    domain::SessionRecord rec;
    rec.id = new_id();
    rec.user_id = user_id;
    rec.agent_id = in.agent_id;
    rec.created_us = rec.updated_us = clock::now_us();
    bj::object& config = rec.config;
    config["workspace_id"] = (in.workspace_id && !in.workspace_id->empty())
                                 ? *in.workspace_id
                                 : workspace::assign_workspace_id(policy_, user_id, in.agent_id);
    config["name"] = in.name ? *in.name : clock::local_name_stamp(rec.created_us);
    config["cwd"] = nullptr;
    for (auto key : kModelConfigKeys)
        config[key] = in.model_fields.contains(key) ? in.model_fields.at(key) : bj::value(nullptr);
    config["knowledge_config"] =
        in.model_fields.contains("knowledge_config") ? in.model_fields.at("knowledge_config") : bj::value(nullptr);
    rec.state = domain::SessionState::fresh();
    if (!storage_.insert_session(rec))  // the agent was deleted meanwhile
        throw Error::not_found(not_found_detail("Agent", in.agent_id));
    return rec.id;
}

bj::object SessionService::patch(const std::string& user_id, const std::string& session_id, const SessionPatch& p) {
    if (!storage_.get_session(user_id, session_id, false))
        throw Error::not_found(not_found_detail("Session", session_id));
    // The run lock is held from the read to the write, as a run holds it from
    // the state it loads to the state it stores: a run starting between the two
    // would otherwise have its state replaced by what was read before it. A
    // chat or another PATCH arriving meanwhile waits for it (see try_lock_briefly).
    const std::string lock_key = bus::session_lock_key(session_id);
    const auto running = [] { return Error::conflict("Cannot modify session configuration while the session is running."); };
    if (runs_here_ && runs_here_(session_id)) throw running();
    auto token = try_lock_briefly(bus_, lock_key, kPatchLockTtl);
    if (!token) throw running();
    const bus::HeldLock held(bus_, lock_key, *token);
    auto rec = storage_.get_session(user_id, session_id, false);
    if (!rec) throw Error::not_found(not_found_detail("Session", session_id));
    check_references(user_id, p.model_fields);

    bj::object config = rec->config;
    if (p.name) config["name"] = *p.name;
    if (p.cwd_present) config["cwd"] = p.cwd ? bj::value(*p.cwd) : bj::value(nullptr);
    for (const auto& kv : p.model_fields) config[kv.key()] = kv.value();
    std::optional<domain::SessionState> state;
    if (p.permission_mode) {
        state = rec->state;
        state->permission_context["mode"] = *p.permission_mode;
    }
    auto updated = storage_.update_session(user_id, session_id, config, state ? &*state : nullptr);
    if (!updated) throw Error::not_found(not_found_detail("Session", session_id));
    auto full = storage_.get_session(user_id, session_id, true);
    return domain::to_json(full ? *full : *updated);
}

void SessionService::remove(const std::string& user_id, const std::string& session_id) {
    // Only the caller's own session is cancelled: a foreign id must not reach another tenant's run.
    auto rec = storage_.get_session(user_id, session_id, false);
    if (!rec) throw Error::not_found(not_found_detail("Session", session_id));
    // Records first, then the wait for its run (see wait_for_session_locks).
    cancel_sessions(bus_, {session_id});
    if (!storage_.delete_session(user_id, session_id))
        throw Error::not_found(not_found_detail("Session", session_id));
    wait_for_session_locks(bus_, {session_id}, std::chrono::seconds(10));
    purge_sessions(bus_, {session_id});
    // Last, once no run writes there any more: what its context offloaded.
    const auto workspace_id = json::str_at(rec->config, "workspace_id");
    if (workspaces_ && !workspace_id.empty()) workspaces_->purge_session(user_id, std::string(workspace_id), session_id);
}

bj::object SessionService::messages(const std::string& user_id, const std::string& session_id,
                                    const std::optional<std::string>& before, int limit) {
    if (!storage_.get_session(user_id, session_id, false))
        throw Error::not_found(not_found_detail("Session", session_id));
    storage::MessagePage page;
    auto read = [&] { page = storage_.list_messages(user_id, session_id, limit, before); };
    // The newest page is what a client folds a cursor-less stream into: the
    // stream it opens next replays from where this page ends (replay_mark.hpp).
    if (before) read();
    else read_with_replay_mark(bus_, session_id, read);
    bj::array msgs;
    for (auto& m : page.messages) msgs.emplace_back(std::move(m));
    bj::object out;
    out["messages"] = std::move(msgs);
    out["is_running"] = is_running(session_id);
    out["has_more"] = page.has_more;
    return out;
}

bj::object SessionService::status(const std::string& user_id, const std::string& session_id) {
    // Ownership first: another tenant's id is a 404 even while it runs.
    auto rec = storage_.get_session(user_id, session_id, false);
    if (!rec) throw Error::not_found(not_found_detail("Session", session_id));
    bj::object out;
    out["session_id"] = session_id;
    out["status"] = is_running(session_id) ? "running" : rec->tail_status;
    return out;
}

std::string SessionService::render_list(const std::string& user_id, const std::string& agent_id) {
    auto sessions = storage_.list_sessions(user_id, agent_id);
    std::string out = "{\"sessions\":[";
    bool first = true;
    for (const auto& s : sessions) {
        if (!first) out += ',';
        first = false;
        bool running = is_running(s.id);
        out += "{\"session\":";
        json::write_to(out, domain::trimmed_json(s));
        out += ",\"is_running\":";
        out += running ? "true" : "false";
        out += ",\"status\":";
        json::write_string(out, running ? std::string("running") : s.tail_status);
        out += ",\"team\":null}";
    }
    out += "],\"total\":" + std::to_string(sessions.size()) + "}";
    return out;
}

std::shared_ptr<const std::string> SessionService::cached_list_body(const std::string& user_id,
                                                                   const std::string& agent_id) {
    auto storage_gen = storage_.write_generation();
    auto lock_gen = bus_.lock_generation();
    if (!storage_gen || !lock_gen) return nullptr;
    std::string key = user_id;
    key.push_back('\0');
    key += agent_id;
    std::lock_guard lock(cache_mutex_);
    auto it = list_cache_.find(key);
    // An entry exists only for an agent that existed at that generation, so a hit
    // also answers the visibility check.
    if (it != list_cache_.end() && it->second.storage_generation == *storage_gen &&
        it->second.lock_generation == *lock_gen)
        return it->second.body;
    return nullptr;
}

std::shared_ptr<const std::string> SessionService::list_body(const std::string& user_id, const std::string& agent_id) {
    if (auto hit = cached_list_body(user_id, agent_id)) return hit;
    auto storage_gen = storage_.write_generation();
    auto lock_gen = bus_.lock_generation();
    agents_.require(user_id, agent_id);
    if (!storage_gen || !lock_gen) return std::make_shared<const std::string>(render_list(user_id, agent_id));
    std::string key = user_id;
    key.push_back('\0');
    key += agent_id;
    // Generations are read before rendering, so a write racing with it only makes
    // the entry stale, never wrong for longer than that write.
    auto body = std::make_shared<const std::string>(render_list(user_id, agent_id));
    std::lock_guard lock(cache_mutex_);
    if (list_cache_.size() >= kMaxCachedLists) list_cache_.clear();
    list_cache_[key] = CachedList{*storage_gen, *lock_gen, body};
    return body;
}

}  // namespace agentd::service
