#include "domain/session.hpp"

#include <set>
#include <string_view>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "domain/model_schema.hpp"

namespace agentd::domain {

using validation::Issues;

bj::object default_tool_context() {
    bj::object t;
    t["max_cache_files"] = 100;
    t["max_cache_bytes"] = 25000.0;
    t["read_file_cache"] = bj::array{};
    t["activated_groups"] = bj::array{};
    return t;
}

void keep_read_cache_of_kept_reads(SessionState& state, const bj::array& kept) {
    bj::value* cache = state.tool_context.if_contains("read_file_cache");
    if (!cache || !cache->is_array()) return;
    std::set<std::string, std::less<>> read_paths;
    for (const auto& msg : kept) {
        const auto* content = msg.is_object() ? msg.get_object().if_contains("content") : nullptr;
        if (!content || !content->is_array()) continue;
        for (const auto& block : content->get_array()) {
            if (!block.is_object()) continue;
            const auto& b = block.get_object();
            const auto* type = b.if_contains("type");
            const auto* name = b.if_contains("name");
            const auto* input = b.if_contains("input");
            if (!type || *type != "tool_call" || !name || *name != "Read" || !input || !input->is_string()) continue;
            auto parsed = json::parse(input->get_string());  // unreadable arguments name no file
            if (!parsed.value || !parsed.value->is_object()) continue;
            if (const auto* path = parsed.value->get_object().if_contains("file_path"); path && path->is_string())
                read_paths.emplace(path->get_string());
        }
    }
    auto& entries = cache->get_array();
    bj::array kept_entries;
    for (auto& entry : entries) {
        const auto* path = entry.is_object() ? entry.get_object().if_contains("file_path") : nullptr;
        if (path && path->is_string() && read_paths.contains(std::string_view(path->get_string())))
            kept_entries.push_back(std::move(entry));
    }
    entries = std::move(kept_entries);
}

std::vector<std::string> activated_groups(const SessionState& state) {
    std::vector<std::string> out;
    const auto* groups = state.tool_context.if_contains("activated_groups");
    if (!groups || !groups->is_array()) return out;
    for (const auto& g : groups->get_array())
        if (g.is_string()) out.emplace_back(g.get_string());
    return out;
}

void set_activated_groups(SessionState& state, const std::vector<std::string>& groups) {
    bj::array out;
    for (const auto& g : groups) out.emplace_back(g);
    state.tool_context["activated_groups"] = std::move(out);
}

SessionState SessionState::fresh() {
    SessionState s;
    s.session_id = new_id();
    s.summary = "";
    s.reply_context["reply_id"] = new_id();
    s.reply_context["cur_iter"] = 0;
    s.reply_context["structured_schema"] = nullptr;
    s.reply_context["structured_output"] = nullptr;
    s.permission_context["mode"] = "default";
    s.permission_context["working_directories"] = bj::object{};
    s.permission_context["allow_rules"] = bj::object{};
    s.permission_context["deny_rules"] = bj::object{};
    s.permission_context["ask_rules"] = bj::object{};
    s.tool_context = default_tool_context();
    s.tasks_context["tasks"] = bj::array{};
    return s;
}

namespace {

bj::value opt(const std::optional<std::string>& s) {
    return s ? bj::value(*s) : bj::value(nullptr);
}

bj::object record_json(const SessionRecord& r, bool trimmed) {
    bj::object o;
    o["id"] = r.id;
    o["updated_at"] = clock::iso_utc(r.updated_us);
    o["created_at"] = clock::iso_utc(r.created_us);
    o["user_id"] = r.user_id;
    o["agent_id"] = r.agent_id;
    o["source"] = r.source;
    o["source_schedule_id"] = opt(r.source_schedule_id);
    o["source_chat_id"] = opt(r.source_chat_id);
    o["source_channel_id"] = opt(r.source_channel_id);
    o["team_id"] = opt(r.team_id);
    o["config"] = r.config;
    bj::object st;
    st["session_id"] = r.state.session_id;
    st["summary"] = trimmed ? bj::value("") : r.state.summary;
    st["context"] = (!trimmed && r.context) ? bj::value(*r.context) : bj::value(bj::array{});
    st["reply_context"] = r.state.reply_context;
    st["permission_context"] = r.state.permission_context;
    st["tool_context"] = trimmed ? default_tool_context() : r.state.tool_context;
    st["tasks_context"] = r.state.tasks_context;
    st["middle_context"] = r.state.middle_context;
    o["state"] = std::move(st);
    return o;
}

const std::vector<FieldSpec>& model_config_fields() {
    static const std::vector<FieldSpec> kFields = {
        {.name = "type", .kind = FieldKind::kStr, .required = true},
        {.name = "credential_id", .kind = FieldKind::kStr, .required = true},
        {.name = "model", .kind = FieldKind::kStr, .required = true},
        {.name = "parameters", .kind = FieldKind::kDict, .required = true},
    };
    return kFields;
}

const std::vector<FieldSpec>& knowledge_config_fields() {
    static const std::vector<FieldSpec> kFields = {
        {.name = "knowledge_base_ids", .kind = FieldKind::kStrList, .default_value = bj::array{}},
        {.name = "parameters", .kind = FieldKind::kDict, .default_value = bj::object{}},
    };
    return kFields;
}

std::optional<bj::value> parse_optional_model(const bj::value& v, const bj::array& loc, Issues& issues,
                                              const std::vector<FieldSpec>& fields) {
    if (v.is_null()) return bj::value(nullptr);
    std::size_t before = issues.size();
    auto out = parse_model(v, loc, issues, fields);
    if (!out || issues.size() != before) return std::nullopt;
    return bj::value(std::move(*out));
}

}  // namespace

bj::object to_json(const SessionRecord& r) { return record_json(r, false); }
bj::object trimmed_json(const SessionRecord& r) { return record_json(r, true); }

std::string derive_tail_status(const bj::array& context) {
    if (context.empty()) return "idle";
    const auto& last = context.back();
    if (!last.is_object()) return "idle";
    const auto& msg = last.get_object();
    auto role = msg.find("role");
    if (role == msg.end() || role->value() != "assistant") return "idle";
    auto content = msg.find("content");
    if (content == msg.end() || !content->value().is_array()) return "idle";
    bool asking = false, submitted = false;
    for (const auto& b : content->value().get_array()) {
        if (!b.is_object()) continue;
        const auto& block = b.get_object();
        auto type = block.find("type");
        if (type == block.end() || type->value() != "tool_call") continue;
        auto state = block.find("state");
        if (state == block.end()) continue;
        if (state->value() == "asking") asking = true;
        else if (state->value() == "submitted") submitted = true;
    }
    if (asking) return "awaiting_permission";
    if (submitted) return "awaiting_external_result";
    return "idle";
}

std::optional<bj::value> parse_model_config(const bj::value& v, const bj::array& loc, Issues& issues) {
    return parse_optional_model(v, loc, issues, model_config_fields());
}

std::optional<bj::value> parse_knowledge_config(const bj::value& v, const bj::array& loc, Issues& issues) {
    return parse_optional_model(v, loc, issues, knowledge_config_fields());
}

}  // namespace agentd::domain
