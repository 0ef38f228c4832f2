#pragma once
// Agent events (data-model §6): one factory per catalogue entry, producing the
// exact wire JSON, and readers for the events clients send in.
//
// Every event is a boost::json::object: `id`, `created_at` (local ISO time),
// `metadata`, then `type`, then the event's own fields in catalogue order, nulls
// included. Written with json::Style::kPython it is the SSE `data:` payload.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/validation.hpp"
#include "domain/message.hpp"

namespace agentd::domain::event {

namespace bj = boost::json;

namespace type {
inline constexpr std::string_view kReplyStart = "REPLY_START";
inline constexpr std::string_view kReplyEnd = "REPLY_END";
inline constexpr std::string_view kModelCallStart = "MODEL_CALL_START";
inline constexpr std::string_view kModelCallEnd = "MODEL_CALL_END";
inline constexpr std::string_view kTextBlockStart = "TEXT_BLOCK_START";
inline constexpr std::string_view kTextBlockDelta = "TEXT_BLOCK_DELTA";
inline constexpr std::string_view kTextBlockEnd = "TEXT_BLOCK_END";
inline constexpr std::string_view kDataBlockStart = "DATA_BLOCK_START";
inline constexpr std::string_view kDataBlockDelta = "DATA_BLOCK_DELTA";
inline constexpr std::string_view kDataBlockEnd = "DATA_BLOCK_END";
inline constexpr std::string_view kThinkingBlockStart = "THINKING_BLOCK_START";
inline constexpr std::string_view kThinkingBlockDelta = "THINKING_BLOCK_DELTA";
inline constexpr std::string_view kThinkingBlockEnd = "THINKING_BLOCK_END";
inline constexpr std::string_view kHintBlock = "HINT_BLOCK";
inline constexpr std::string_view kToolCallStart = "TOOL_CALL_START";
inline constexpr std::string_view kToolCallDelta = "TOOL_CALL_DELTA";
inline constexpr std::string_view kToolCallEnd = "TOOL_CALL_END";
inline constexpr std::string_view kToolResultStart = "TOOL_RESULT_START";
inline constexpr std::string_view kToolResultTextDelta = "TOOL_RESULT_TEXT_DELTA";
inline constexpr std::string_view kToolResultDataDelta = "TOOL_RESULT_DATA_DELTA";
inline constexpr std::string_view kToolResultEnd = "TOOL_RESULT_END";
inline constexpr std::string_view kExceedMaxIters = "EXCEED_MAX_ITERS";
inline constexpr std::string_view kRequireUserConfirm = "REQUIRE_USER_CONFIRM";
inline constexpr std::string_view kRequireExternalExecution = "REQUIRE_EXTERNAL_EXECUTION";
inline constexpr std::string_view kUserConfirmResult = "USER_CONFIRM_RESULT";
inline constexpr std::string_view kUserInterrupt = "USER_INTERRUPT";
inline constexpr std::string_view kExternalExecutionResult = "EXTERNAL_EXECUTION_RESULT";
inline constexpr std::string_view kCustom = "CUSTOM";
}  // namespace type

/// The envelope of a new event; empty id / created_at are generated.
struct Envelope {
    std::string id{};
    std::string created_at{};
    bj::object metadata{};
};

/// The event's `type` ("" when absent).
std::string_view type_of(const bj::object& event);
/// The event's `reply_id`, or nullopt for events without one (CUSTOM).
std::optional<std::string_view> reply_id_of(const bj::object& event);

// Factories, in catalogue order. String enums (role, finished_reason, state) are
// written as given; callers pass the reference's values.

bj::object reply_start(std::string_view session_id, std::string_view reply_id,
                       std::string_view name, std::string_view role = "assistant",
                       Envelope env = {});
/// `error` is an ErrorInfo object or null.
bj::object reply_end(std::string_view session_id, std::string_view reply_id,
                     std::string_view finished_reason = "completed", bj::value error = nullptr,
                     Envelope env = {});
bj::object model_call_start(std::string_view reply_id, std::string_view model_name,
                            Envelope env = {});
/// `finished_reason`: "completed" | "interrupted".
bj::object model_call_end(std::string_view reply_id, const Usage& usage,
                          std::string_view finished_reason = "completed", Envelope env = {});
bj::object text_block_start(std::string_view reply_id, std::string_view block_id,
                            Envelope env = {});
bj::object text_block_delta(std::string_view reply_id, std::string_view block_id,
                            std::string_view delta, Envelope env = {});
bj::object text_block_end(std::string_view reply_id, std::string_view block_id, Envelope env = {});
bj::object thinking_block_start(std::string_view reply_id, std::string_view block_id,
                                Envelope env = {});
bj::object thinking_block_delta(std::string_view reply_id, std::string_view block_id,
                                std::string_view delta, Envelope env = {});
bj::object thinking_block_end(std::string_view reply_id, std::string_view block_id,
                              Envelope env = {});
bj::object data_block_start(std::string_view reply_id, std::string_view block_id,
                            std::string_view media_type, Envelope env = {});
/// `data`: base64 of this chunk only (independently padded).
bj::object data_block_delta(std::string_view reply_id, std::string_view block_id,
                            std::string_view data, std::string_view media_type, Envelope env = {});
bj::object data_block_end(std::string_view reply_id, std::string_view block_id, Envelope env = {});
/// `hint`: a string or an array of text/data blocks; `source`: string or null.
bj::object hint_block(std::string_view reply_id, std::string_view block_id, bj::value hint,
                      bj::value source = nullptr, Envelope env = {});
bj::object tool_call_start(std::string_view reply_id, std::string_view tool_call_id,
                           std::string_view tool_call_name, Envelope env = {});
bj::object tool_call_delta(std::string_view reply_id, std::string_view tool_call_id,
                           std::string_view delta, Envelope env = {});
bj::object tool_call_end(std::string_view reply_id, std::string_view tool_call_id,
                         Envelope env = {});
bj::object tool_result_start(std::string_view reply_id, std::string_view tool_call_id,
                             std::string_view tool_call_name, Envelope env = {});
bj::object tool_result_text_delta(std::string_view reply_id, std::string_view tool_call_id,
                                  std::string_view delta, Envelope env = {});
/// Exactly one of `data` (base64) and `url` must be set (std::logic_error
/// otherwise). `block_id` empty → a new id.
bj::object tool_result_data_delta(std::string_view reply_id, std::string_view tool_call_id,
                                  std::string_view media_type, std::optional<std::string> data,
                                  std::optional<std::string> url, std::string block_id = {},
                                  Envelope env = {});
/// The envelope's `metadata` carries the tool result's metadata: `result_metadata`
/// replaces env.metadata.
bj::object tool_result_end(std::string_view reply_id, std::string_view tool_call_id,
                           std::string_view state, bj::object result_metadata = {},
                           Envelope env = {});
bj::object exceed_max_iters(std::string_view reply_id, std::string_view name, Envelope env = {});
/// `tool_calls`: tool_call blocks (state "asking", suggested_rules filled).
bj::object require_user_confirm(std::string_view reply_id, bj::array tool_calls, Envelope env = {});
/// `tool_calls`: tool_call blocks (state "submitted").
bj::object require_external_execution(std::string_view reply_id, bj::array tool_calls,
                                      Envelope env = {});
/// One entry of `confirm_results`; `rules` is an array of PermissionRule or null.
bj::object confirm_result(bool confirmed, bj::object tool_call, bj::value rules = nullptr);
bj::object user_confirm_result(std::string_view reply_id, bj::array confirm_results,
                               Envelope env = {});
/// `execution_results`: tool_result blocks whose id is the tool call id.
bj::object external_execution_result(std::string_view reply_id, bj::array execution_results,
                                     Envelope env = {});
bj::object user_interrupt(std::string_view reply_id, Envelope env = {});
/// CUSTOM has no reply_id and is never folded into a reply.
bj::object custom(std::string_view name, bj::object value = {}, Envelope env = {});

// Readers for inbound events (pydantic lax mode). Issues are located under `loc`.

std::optional<ReadModel> read_user_confirm_result(const bj::value& input, const bj::array& loc,
                                                  validation::Issues& issues);
std::optional<ReadModel> read_external_execution_result(const bj::value& input,
                                                        const bj::array& loc,
                                                        validation::Issues& issues);
std::optional<ReadModel> read_user_interrupt(const bj::value& input, const bj::array& loc,
                                             validation::Issues& issues);

/// An inbound event (USER_CONFIRM_RESULT, EXTERNAL_EXECUTION_RESULT or
/// USER_INTERRUPT). A `type` naming one of them selects that model and its issues
/// are located directly under `loc`; anything else is read as the union of the
/// three (issues carry the class name after `loc`). Returns the canonical event.
std::optional<bj::object> parse_event(const bj::value& input, const bj::array& loc,
                                      validation::Issues& issues);

}  // namespace agentd::domain::event
