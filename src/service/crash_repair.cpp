#include "service/crash_repair.hpp"

#include <algorithm>

#include "common/json_access.hpp"
#include "domain/event.hpp"
#include "domain/message.hpp"
#include "domain/reply_builder.hpp"

namespace agentd::service {

namespace ev = domain::event;

std::optional<RepairedTail> repair_context_tail(bj::array& context) {
    if (context.empty() || !context.back().is_object()) return std::nullopt;
    auto& msg = context.back().get_object();
    if (json::str_at(msg, "role") != "assistant") return std::nullopt;
    auto& content = domain::content_of(msg);
    bool parked = false;
    for (const auto& b : content) {
        if (!b.is_object() || json::str_at(b.get_object(), "type") != "tool_call") continue;
        const auto state = json::str_at(b.get_object(), "state");
        parked |= state == "asking" || state == "submitted";
    }
    std::vector<std::pair<std::string, std::string>> open;
    for (const auto& b : content) {
        if (!b.is_object() || json::str_at(b.get_object(), "type") != "tool_call") continue;
        const auto& call = b.get_object();
        if (parked && json::str_at(call, "state") != "allowed") continue;
        std::string id(json::str_at(call, "id"));
        if (!domain::find_block(msg, "tool_result", id)) open.emplace_back(id, std::string(json::str_at(call, "name")));
    }
    if (open.empty()) return std::nullopt;
    RepairedTail out;
    for (auto& [id, name] : open) {
        if (auto* call = domain::find_block(msg, "tool_call", id)) (*call)["state"] = "finished";
        content.push_back(domain::tool_result_block(id, name, bj::value(domain::kInterruptedToolText), "interrupted", {}));
        out.closed.push_back(std::move(id));
    }
    out.message = msg;
    return out;
}

void close_cut_tool_calls(bj::object& reply, const std::vector<std::string>* only) {
    const std::string reply_id(json::str_at(reply, "id"));
    struct Open {
        std::string id, name;
        bool started;  // a running result block exists
    };
    std::vector<Open> open;
    for (const auto& b : domain::content_of(reply)) {
        if (!b.is_object() || json::str_at(b.get_object(), "type") != "tool_call") continue;
        const auto& call = b.get_object();
        std::string id(json::str_at(call, "id"));
        if (only && std::find(only->begin(), only->end(), id) == only->end()) continue;
        const auto* result = domain::find_block(reply, "tool_result", id);
        if (result && json::str_at(*result, "state") != domain::tool_result_state::kRunning) continue;
        open.push_back({std::move(id), std::string(json::str_at(call, "name")), result != nullptr});
    }
    for (const auto& call : open) {
        if (!call.started) domain::append_event(reply, ev::tool_result_start(reply_id, call.id, call.name));
        domain::append_event(reply, ev::tool_result_text_delta(reply_id, call.id, domain::kInterruptedToolText));
        domain::append_event(reply, ev::tool_result_end(reply_id, call.id, "interrupted"));
    }
}

}  // namespace agentd::service
