#include "service/input_media.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "common/json_access.hpp"
#include "domain/message.hpp"
#include "workspace/context_files.hpp"

namespace agentd::service {

namespace bj = boost::json;

namespace {

bool unsupported(const bj::value& block, const model::ChatModel& model) {
    if (!block.is_object() || json::str_at(block.get_object(), "type") != "data") return false;
    const auto* source = block.get_object().if_contains("source");
    if (!source || !source->is_object()) return false;
    return !model.accepts_input_media(json::str_at(source->get_object(), "media_type"));
}

/// The reminder that stands for `block` in the context.
std::string reminder_for(const bj::object& block, const workspace::Workspace* workspace, const std::string& session_id) {
    const auto& source = block.at("source").get_object();
    std::string url;
    if (json::str_at(source, "type") == "url") {
        url = json::str_at(source, "url");
    } else if (workspace) {
        try {
            bj::object saved = workspace::ContextFiles(*workspace, session_id).store_data_block(block);
            url = json::str_at(saved.at("source").get_object(), "url");
        } catch (const std::exception& e) {
            spdlog::warn("session {}: an attachment the model cannot take was not saved to the workspace: {}",
                         session_id, e.what());
        }
    }
    const std::string name(json::str_at(block, "name"));
    const std::string named = name.empty() ? "" : "named '" + name + "' ";
    if (!url.empty()) return "<system-reminder>An attached file " + named + "is saved into " + url + ".</system-reminder>";
    return "<system-reminder>An unsupported input file " + named + "is attached with media type '" +
           std::string(json::str_at(source, "media_type")) + "'.</system-reminder>";
}

}  // namespace

std::optional<bj::array> inputs_for_model(const bj::array& inputs, const model::ChatModel& model,
                                          const workspace::Workspace* workspace, const std::string& session_id) {
    const auto needs_change = [&](const bj::value& message) {
        if (!message.is_object()) return false;
        const auto* content = message.get_object().if_contains("content");
        if (!content || !content->is_array()) return false;
        for (const auto& b : content->get_array())
            if (unsupported(b, model)) return true;
        return false;
    };
    bool any = false;
    for (const auto& m : inputs) any = any || needs_change(m);
    if (!any) return std::nullopt;

    bj::array out = inputs;
    for (auto& m : out) {
        if (!needs_change(m)) continue;
        for (auto& b : m.get_object()["content"].get_array())
            if (unsupported(b, model)) b = domain::text_block(reminder_for(b.get_object(), workspace, session_id));
    }
    return out;
}

}  // namespace agentd::service
