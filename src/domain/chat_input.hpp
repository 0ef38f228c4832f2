#pragma once
// The body of POST /chat/ (api-core §8): {agent_id, session_id, input}, where
// input is Msg | [Msg] | USER_CONFIRM_RESULT | EXTERNAL_EXECUTION_RESULT | null,
// read as pydantic's smart union with FastAPI's 422 locations ("body", ...).
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "common/validation.hpp"

namespace agentd::domain {

namespace bj = boost::json;

/// `input: null`: continue from the current state (drain the inbox).
struct NoChatInput {};

/// New user turn: one Msg or a list of them, each canonical (ids and
/// timestamps filled in).
struct MessagesInput {
    bj::array messages;
    bool was_list = false;  ///< the body held a list rather than one Msg
};

/// A confirmation answer: the canonical USER_CONFIRM_RESULT event.
struct ConfirmResultInput {
    bj::object event;
};

/// Results of externally executed tools: the canonical EXTERNAL_EXECUTION_RESULT event.
struct ExternalResultInput {
    bj::object event;
};

using ChatInput = std::variant<NoChatInput, MessagesInput, ConfirmResultInput, ExternalResultInput>;

struct ChatRequest {
    std::string agent_id;
    std::string session_id;
    ChatInput input;
};

/// Reads a parsed JSON body. Every problem is recorded in `issues` (locations
/// start with "body"); returns nullopt when there was any. USER_INTERRUPT is not
/// an accepted input (the union rejects it, as the reference does).
std::optional<ChatRequest> parse_chat_request(const bj::value& body, validation::Issues& issues);

/// The input as canonical JSON (null, a Msg, a list of Msg, or the event), e.g.
/// for a resume trigger payload.
bj::value chat_input_json(const ChatInput& input);

}  // namespace agentd::domain
