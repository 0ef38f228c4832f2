#pragma once
// Messages (`Msg`) and their content blocks.
//
// A message or block is a boost::json::object holding the reference's fields in
// its exact key order (data-model §2.2, §2.3): every declared field present,
// nulls included. This header offers typed constructors that produce those
// objects, pydantic-compatible readers for untrusted input, and accessors.
//
// Ids default to new_id() and timestamps to the local ISO time of now, as the
// reference's default factories do.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/validation.hpp"
#include "domain/model_reader.hpp"

namespace agentd::domain {

namespace bj = boost::json;

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

namespace block_type {
inline constexpr std::string_view kText = "text";
inline constexpr std::string_view kThinking = "thinking";
inline constexpr std::string_view kHint = "hint";
inline constexpr std::string_view kData = "data";
inline constexpr std::string_view kToolCall = "tool_call";
inline constexpr std::string_view kToolResult = "tool_result";
}  // namespace block_type

/// ToolCallState values (data-model §2.4).
namespace tool_call_state {
inline constexpr std::string_view kPending = "pending";
inline constexpr std::string_view kAsking = "asking";
inline constexpr std::string_view kAllowed = "allowed";
inline constexpr std::string_view kSubmitted = "submitted";
inline constexpr std::string_view kFinished = "finished";
}  // namespace tool_call_state

/// ToolResultState values.
namespace tool_result_state {
inline constexpr std::string_view kSuccess = "success";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kInterrupted = "interrupted";
inline constexpr std::string_view kDenied = "denied";
inline constexpr std::string_view kRunning = "running";
}  // namespace tool_result_state

/// The output of a tool call closed by an interrupt (or by the repair of a
/// crashed run): what the model and the message log show for it.
inline constexpr std::string_view kInterruptedToolText =
    "<system-reminder>The tool call has been interrupted by the user.</system-reminder>";

/// The enumerations in the reference's declaration order (used in error messages).
inline constexpr std::string_view kRoles[] = {"user", "assistant", "system"};
inline constexpr std::string_view kToolCallStates[] = {"pending", "asking", "allowed", "submitted",
                                                       "finished"};
inline constexpr std::string_view kToolResultStates[] = {"success", "error", "interrupted",
                                                         "denied", "running"};
inline constexpr std::string_view kReplyFinishedReasons[] = {"completed", "interrupted",
                                                             "exceed_max_iters", "error"};
inline constexpr std::string_view kErrorTypes[] = {"authentication",  "permission", "rate_limit",
                                                   "invalid_request", "upstream",   "connection",
                                                   "internal",        "setup",      "unknown"};
inline constexpr std::string_view kPermissionBehaviors[] = {"allow", "deny", "ask", "passthrough"};

/// `Usage`: token counts summed over a reply's model calls.
struct Usage {
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t cache_input_tokens = 0;
    std::int64_t cache_creation_input_tokens = 0;

    bj::object to_json() const;
    /// Reads a canonical (trusted) usage object; missing counters are 0.
    static Usage from_json(const bj::object& o);
    Usage& operator+=(const Usage& other);
};

// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------

/// Identity of a new block: empty fields are generated (new id, local now).
struct BlockStamp {
    std::string id{};
    std::string created_at{};
};

bj::object text_block(std::string_view text, BlockStamp stamp = {});
/// `extra` holds provider keys (a signature, redacted data); they follow the
/// declared fields, in their order.
bj::object thinking_block(std::string_view thinking, BlockStamp stamp = {},
                          const bj::object& extra = {});
/// `hint` is a string or an array of text/data blocks. finished_at = created_at.
bj::object hint_block(bj::value hint, bj::value source = nullptr, BlockStamp stamp = {});
bj::object base64_source(std::string_view data, std::string_view media_type);
/// `url` is stored as given; use normalize_url() first for untrusted text.
bj::object url_source(std::string_view url, std::string_view media_type);
bj::object data_block(bj::object source, bj::value name = nullptr, BlockStamp stamp = {});
/// A tool call; `id` is the provider's call id. created_at empty → now.
bj::object tool_call_block(std::string_view id, std::string_view name, std::string_view input,
                           std::string_view state = tool_call_state::kPending,
                           bj::array suggested_rules = {}, std::string created_at = {});
/// A tool result; `id` equals the tool call id, `output` is a string or an array
/// of text/data blocks. created_at empty → now.
bj::object tool_result_block(std::string_view id, std::string_view name, bj::value output,
                             std::string_view state = tool_result_state::kRunning,
                             bj::object metadata = {}, std::string created_at = {});
/// A PermissionRule; `rule_content` is a string or null.
bj::object permission_rule(std::string_view tool_name, bj::value rule_content,
                           std::string_view behavior, std::string_view source);
/// An ErrorInfo.
bj::object error_info(std::string_view type, std::string_view message);

/// The optional fields of a new message. Empty id / created_at are generated.
struct MsgOptions {
    std::string id{};
    std::string created_at{};
    bj::object metadata{};
    bj::value usage = nullptr;
    bj::value finished_at = nullptr;  ///< user/system constructors default it to created_at
    bj::value finished_reason = nullptr;
    bj::value structured_output = nullptr;
    bj::value error = nullptr;
};

/// Msg with any role. Throws std::logic_error when the blocks break the role
/// constraints (a programmer error: untrusted input goes through parse_msg).
bj::object make_msg(std::string_view name, bj::array content, std::string_view role,
                    MsgOptions options = {});
/// UserMsg: finished_at defaults to created_at; only text and data blocks.
bj::object user_msg(std::string_view name, bj::array content, MsgOptions options = {});
bj::object user_msg(std::string_view name, std::string_view text, MsgOptions options = {});
/// AssistantMsg: finished_at stays null unless given.
bj::object assistant_msg(std::string_view name, bj::array content, MsgOptions options = {});
/// SystemMsg: finished_at defaults to created_at; only text blocks.
bj::object system_msg(std::string_view name, bj::array content, MsgOptions options = {});
bj::object system_msg(std::string_view name, std::string_view text, MsgOptions options = {});

// ---------------------------------------------------------------------------
// Accessors
// ---------------------------------------------------------------------------

/// A string field of a canonical object, or "" when absent / not a string.
std::string_view str_field(const bj::object& o, std::string_view key);

/// The message's content array (empty static array when malformed).
const bj::array& content_of(const bj::object& msg);
bj::array& content_of(bj::object& msg);

/// The first block of `type` with `id` (the reference's lookup rule), or null.
bj::object* find_block(bj::object& msg, std::string_view type, std::string_view id);
const bj::object* find_block(const bj::object& msg, std::string_view type, std::string_view id);

/// Blocks of one type, in content order.
std::vector<const bj::object*> blocks_of_type(const bj::object& msg, std::string_view type);
std::vector<bj::object*> blocks_of_type(bj::object& msg, std::string_view type);
bool has_blocks(const bj::object& msg, std::string_view type);

inline std::vector<const bj::object*> tool_calls(const bj::object& msg) {
    return blocks_of_type(msg, block_type::kToolCall);
}

/// Calls that park the reply: `asking`, or `submitted` with no tool_result of the
/// same id in the message (data-model §2.4).
std::vector<const bj::object*> awaiting_tool_calls(const bj::object& msg);

/// The text blocks' texts joined by `separator`; nullopt when there are none
/// (Msg.get_text_content).
std::optional<std::string> text_content(const bj::object& msg, std::string_view separator = "\n");

/// Adds `usage` to the message's usage (creating it when null).
void add_usage(bj::object& msg, const Usage& usage);

// ---------------------------------------------------------------------------
// Reading untrusted input (pydantic lax mode, as FastAPI validates bodies)
// ---------------------------------------------------------------------------

/// Msg. Checks the role constraints after the fields (value_error at `loc`).
std::optional<ReadModel> read_msg(const bj::value& input, const bj::array& loc,
                                  validation::Issues& issues);
/// Any content block (the six-member union).
std::optional<ReadModel> read_content_block(const bj::value& input, const bj::array& loc,
                                            validation::Issues& issues);
std::optional<ReadModel> read_tool_call_block(const bj::value& input, const bj::array& loc,
                                              validation::Issues& issues);
std::optional<ReadModel> read_tool_result_block(const bj::value& input, const bj::array& loc,
                                                validation::Issues& issues);
std::optional<ReadModel> read_permission_rule(const bj::value& input, const bj::array& loc,
                                              validation::Issues& issues);

/// Validates an incoming Msg and returns its canonical JSON (defaults filled,
/// unknown keys dropped except on thinking blocks). nullopt after recording issues.
std::optional<bj::object> parse_msg(const bj::value& input, const bj::array& loc,
                                    validation::Issues& issues);

/// The label pydantic gives Msg inside a union (its role validator wraps it).
inline constexpr std::string_view kMsgUnionLabel = "function-after[validate_role_content(), Msg]";

/// pydantic AnyUrl: the normalised URL text, or the parse error wording
/// ("relative URL without a base", "empty host", ...) in `error`.
std::optional<std::string> normalize_url(std::string_view text, std::string* error = nullptr);

}  // namespace agentd::domain
