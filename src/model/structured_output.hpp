#pragma once
// Structured output by forced tool call (spec/models.md §3.6): the request
// rewrite of one strategy, and reading the answer back.
#include <boost/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/chat_model.hpp"

namespace agentd::model {

inline constexpr const char* kStructuredOutputTool = "generate_structured_output";

/// The model produced no valid structured output with any strategy.
class StructuredOutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One rung of the ladder: forced tool call, auto, forced without thinking, no tool choice.
enum class StructuredStrategy { kForced, kAuto, kNoThinking, kNone, kExplicit };

/// The strategies to try, best first. `can_disable_thinking` adds kNoThinking;
/// a caller-chosen tool_choice replaces the ladder with kExplicit.
std::vector<StructuredStrategy> structured_strategies(const ChatRequest& request,
                                                      bool can_disable_thinking);

/// `request` with the single `generate_structured_output` tool (parameters =
/// the schema), the `<system-reminder>` instruction appended to the last user
/// message (or as a new user message), and the strategy's tool_choice.
/// Throws std::invalid_argument when there are no messages.
ChatRequest structured_request(const ChatRequest& request, StructuredStrategy strategy);

/// The arguments of the first `generate_structured_output` call, repaired and
/// checked against `schema`; nullopt when missing or invalid.
std::optional<bj::object> read_structured_output(const ModelResponse& response,
                                                 const bj::object& schema);

/// Whether `instance` is valid under `schema` (common/json_schema.hpp: the
/// keywords and semantics of the reference's jsonschema validation).
bool json_schema_accepts(const bj::object& schema, const bj::value& instance);

}  // namespace agentd::model
