#include "domain/agent.hpp"

#include <stdexcept>

#include "common/clock.hpp"
#include "common/embedded_assets.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "domain/model_schema.hpp"

namespace agentd::domain {

using validation::Bound;
using validation::Issues;
using validation::loc_join;

const bj::object& agent_data_defaults() {
    static const bj::object kDefaults = [] {
        auto text = assets::find("assets/defaults/agent_data_defaults.json");
        if (!text) throw std::logic_error("agent_data_defaults.json is not embedded");
        return json::parse_trusted(*text).as_object();
    }();
    return kDefaults;
}

namespace {

const bj::object& defaults_of(std::string_view key) {
    return agent_data_defaults().at(key).as_object();
}

std::vector<FieldSpec> context_config_fields() {
    const auto& d = defaults_of("context_config");
    return {
        {.name = "trigger_ratio", .kind = FieldKind::kFloat, .default_value = d.at("trigger_ratio"),
         .bounds = {{Bound::kGt, 0, 0}, {Bound::kLe, 0.9, 0.9}}},
        {.name = "reserve_ratio", .kind = FieldKind::kFloat, .default_value = d.at("reserve_ratio"),
         .bounds = {{Bound::kGt, 0, 0}, {Bound::kLt, 0.9, 0.9}}},
        {.name = "compression_prompt", .kind = FieldKind::kStr, .default_value = d.at("compression_prompt")},
        {.name = "summary_template", .kind = FieldKind::kStr, .default_value = d.at("summary_template")},
        {.name = "summary_schema", .kind = FieldKind::kDict, .default_value = d.at("summary_schema")},
        {.name = "tool_result_limit", .kind = FieldKind::kInt, .default_value = d.at("tool_result_limit")},
        {.name = "max_image_num", .kind = FieldKind::kInt, .default_value = d.at("max_image_num"),
         .bounds = {{Bound::kGe, 0, 0}}},
    };
}

std::vector<FieldSpec> react_config_fields() {
    const auto& d = defaults_of("react_config");
    return {
        {.name = "max_iters", .kind = FieldKind::kInt, .default_value = d.at("max_iters")},
        {.name = "structured_output_grace_iters", .kind = FieldKind::kInt,
         .default_value = d.at("structured_output_grace_iters"), .bounds = {{Bound::kGt, 0, 0}}},
        {.name = "stop_on_reject", .kind = FieldKind::kBool, .default_value = d.at("stop_on_reject")},
        {.name = "interruption_message", .kind = FieldKind::kStr,
         .default_value = d.at("interruption_message")},
        {.name = "interruption_raise_cancelled_error", .kind = FieldKind::kBool,
         .default_value = d.at("interruption_raise_cancelled_error")},
    };
}

std::vector<FieldSpec> invite_config_fields() {
    return {
        {.name = "invitable", .kind = FieldKind::kBool, .default_value = false},
        {.name = "invite_description", .kind = FieldKind::kOptStr, .default_value = nullptr},
    };
}

std::optional<bj::object> parse_invite_config(const bj::value& v, const bj::array& loc, Issues& issues) {
    static const auto kFields = invite_config_fields();
    std::size_t before = issues.size();
    auto cfg = parse_model(v, loc, issues, kFields);
    if (!cfg || issues.size() != before) return std::nullopt;
    // Cross-field invariant: an invitable agent needs a description.
    if (cfg->at("invitable").as_bool()) {
        std::string_view desc;
        if (cfg->at("invite_description").is_string()) desc = cfg->at("invite_description").as_string();
        while (!desc.empty() && std::isspace(static_cast<unsigned char>(desc.front()))) desc.remove_prefix(1);
        while (!desc.empty() && std::isspace(static_cast<unsigned char>(desc.back()))) desc.remove_suffix(1);
        if (desc.empty()) {
            bj::object ctx;
            ctx["error"] = bj::object{};
            issues.add("value_error", loc,
                       "Value error, invite_description must be non-empty when invitable=True", v,
                       std::move(ctx));
            return std::nullopt;
        }
    }
    return cfg;
}

std::optional<bj::value> parse_sub(std::string_view key, const bj::value& v, const bj::array& loc,
                                   Issues& issues) {
    static const auto kContext = context_config_fields();
    static const auto kReact = react_config_fields();
    std::optional<bj::object> out;
    if (key == "context_config") out = parse_model(v, loc, issues, kContext);
    else if (key == "react_config") out = parse_model(v, loc, issues, kReact);
    else if (key == "invite_config") out = parse_invite_config(v, loc, issues);
    if (!out) return std::nullopt;
    return bj::value(std::move(*out));
}

bj::value default_sub(std::string_view key) {
    Issues ignored;
    return *parse_sub(key, bj::object{}, {}, ignored);
}

}  // namespace

bj::object to_json(const AgentRecord& r) {
    bj::object o;
    o["id"] = r.id;
    o["updated_at"] = clock::iso_utc(r.updated_us);
    o["created_at"] = clock::iso_utc(r.created_us);
    o["user_id"] = r.user_id;
    o["source"] = r.source;
    o["data"] = r.data;
    return o;
}

bj::object agent_view_json(const AgentRecord& r, bool editable) {
    bj::object o = to_json(r);
    o["editable"] = editable;
    return o;
}

bj::object agent_data_from_create(const bj::value& body, Issues& issues) {
    bj::array loc{"body"};
    const bj::object* obj = validation::as_model(body, loc, issues);
    bj::object data;
    data["id"] = new_id();
    if (!obj) return data;
    auto name_it = obj->find("name");
    if (name_it == obj->end()) issues.missing(loc_join(loc, "name"), body);
    else if (auto s = validation::as_string(name_it->value(), loc_join(loc, "name"), issues)) data["name"] = *s;

    auto sp = obj->find("system_prompt");
    if (sp == obj->end()) data["system_prompt"] = agent_data_defaults().at("system_prompt");
    else if (auto s = validation::as_string(sp->value(), loc_join(loc, "system_prompt"), issues)) data["system_prompt"] = *s;

    for (std::string_view key : {"context_config", "react_config", "invite_config"}) {
        auto it = obj->find(key);
        if (it == obj->end()) data[key] = default_sub(key);
        else if (auto v = parse_sub(key, it->value(), loc_join(loc, key), issues)) data[key] = std::move(*v);
    }
    return data;
}

bj::object parse_agent_update(const bj::value& body, Issues& issues) {
    bj::array loc{"body"};
    bj::object data;
    const bj::object* obj = validation::as_model(body, loc, issues);
    if (!obj) return data;
    for (std::string_view key : {"name", "system_prompt"}) {
        auto it = obj->find(key);
        if (it == obj->end() || it->value().is_null()) continue;
        if (auto s = validation::as_string(it->value(), loc_join(loc, key), issues)) data[key] = *s;
    }
    for (std::string_view key : {"context_config", "react_config", "invite_config"}) {
        auto it = obj->find(key);
        if (it == obj->end() || it->value().is_null()) continue;
        if (auto v = parse_sub(key, it->value(), loc_join(loc, key), issues)) data[key] = std::move(*v);
    }
    return data;
}

}  // namespace agentd::domain
