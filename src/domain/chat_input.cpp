#include "domain/chat_input.hpp"

#include "domain/event.hpp"
#include "domain/message.hpp"
#include "domain/model_reader.hpp"

namespace agentd::domain {

using validation::Issues;
using validation::loc_join;

namespace {

// Branch order and labels are the reference's: Msg | list[Msg] |
// UserConfirmResultEvent | ExternalExecutionResultEvent (None is handled first).
enum Branch : std::size_t { kMsg, kMsgList, kConfirm, kExternal };

std::optional<ReadModel> read_msg_list(const bj::value& input, const bj::array& loc,
                                       Issues& issues) {
    static const ValueReader kList = list_reader(model_reader(read_msg));
    auto list = kList(input, loc, issues);
    if (!list) return std::nullopt;
    // Only a list can match this branch, so its fields-set count never matters.
    return ReadModel{std::move(*list), std::nullopt};
}

const std::string& msg_list_label() {
    static const std::string kLabel = "list[" + std::string(kMsgUnionLabel) + "]";
    return kLabel;
}

std::optional<ChatInput> read_input(const bj::value& input, const bj::array& loc, Issues& issues) {
    if (input.is_null()) return NoChatInput{};
    static const UnionBranch kBranches[] = {
        {kMsgUnionLabel, read_msg},
        {msg_list_label(), read_msg_list},
        {"UserConfirmResultEvent", event::read_user_confirm_result},
        {"ExternalExecutionResultEvent", event::read_external_execution_result},
    };
    auto match = read_smart_union(input, loc, issues, kBranches);
    if (!match) return std::nullopt;
    switch (match->branch) {
        case kMsg:
            return MessagesInput{bj::array{std::move(match->value)}, false};
        case kMsgList:
            return MessagesInput{std::move(match->value.get_array()), true};
        case kConfirm:
            return ConfirmResultInput{std::move(match->value.get_object())};
        default:
            return ExternalResultInput{std::move(match->value.get_object())};
    }
}

/// The reference's agent refuses, before its first step, input it could not
/// have produced from a user: a system message (which would sit beside the
/// agent's own system prompt) or tool calls, tool results and thinking. It
/// fails the turn after storing the message; here the request is refused and
/// nothing is stored.
void check_input_roles(const MessagesInput& input, const bj::value& sent, const bj::array& loc,
                       Issues& issues) {
    for (std::size_t i = 0; i < input.messages.size(); ++i) {
        const auto& msg = input.messages[i].as_object();
        bool refused = str_field(msg, "role") == "system";
        if (const auto* content = msg.if_contains("content"); content && content->is_array()) {
            for (const auto& block : content->get_array()) {
                const auto type = block.is_object() ? str_field(block.get_object(), "type") : std::string_view{};
                if (type == "tool_call" || type == "tool_result" || type == "thinking") refused = true;
            }
        }
        if (!refused) continue;
        issues.add("value_error", input.was_list ? loc_join(loc, i) : loc,
                   "Value error, Invalid message in the input: the message should have role 'user' or "
                   "'assistant', and should not contain tool calls, tool results or thinking blocks.",
                   input.was_list ? sent.as_array().at(i) : sent, bj::object{{"error", bj::object{}}});
    }
}

}  // namespace

std::optional<ChatRequest> parse_chat_request(const bj::value& body, Issues& issues) {
    const bj::array loc{"body"};
    const std::size_t before = issues.size();
    const bj::object* obj = validation::as_model(body, loc, issues);
    if (!obj) return std::nullopt;

    ChatRequest request;
    auto string_field = [&](std::string_view key, std::string& out) {
        auto it = obj->find(key);
        if (it == obj->end()) {
            issues.missing(loc_join(loc, key), body);
            return;
        }
        if (auto s = validation::as_string(it->value(), loc_join(loc, key), issues))
            out = std::move(*s);
    };
    string_field("agent_id", request.agent_id);
    string_field("session_id", request.session_id);

    // `input` is required even though null is a valid value.
    auto it = obj->find("input");
    if (it == obj->end()) {
        issues.missing(loc_join(loc, "input"), body);
    } else if (auto input = read_input(it->value(), loc_join(loc, "input"), issues)) {
        if (const auto* messages = std::get_if<MessagesInput>(&*input))
            check_input_roles(*messages, it->value(), loc_join(loc, "input"), issues);
        request.input = std::move(*input);
    }
    if (issues.size() != before) return std::nullopt;
    return request;
}

bj::value chat_input_json(const ChatInput& input) {
    struct Visitor {
        bj::value operator()(const NoChatInput&) const { return nullptr; }
        bj::value operator()(const MessagesInput& m) const {
            if (!m.was_list && m.messages.size() == 1) return m.messages.front();
            return m.messages;
        }
        bj::value operator()(const ConfirmResultInput& c) const { return c.event; }
        bj::value operator()(const ExternalResultInput& e) const { return e.event; }
    };
    return std::visit(Visitor{}, input);
}

}  // namespace agentd::domain
