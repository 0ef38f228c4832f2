#pragma once
// Token estimates and the truncation of large tool results (spec/models.md §8,
// spec/runtime.md §8.3). No provider tokenizer is used, as in the reference:
// tokens = round(utf8 bytes / 4) + 2000 per data block.
#include <boost/json.hpp>
#include <cstdint>
#include <string_view>

namespace agentd::agent {

/// Estimated tokens of a string, a block, an array of blocks or a message.
std::int64_t estimate_tokens(const boost::json::value& v);

/// A message's estimated tokens and its image data blocks (top level, and in
/// tool results and hints), counted in one walk.
struct ContextCost {
    std::int64_t tokens = 0;
    std::int64_t images = 0;
};
ContextCost estimate_cost(const boost::json::value& v);

/// The marker appended to a truncated tool result kept in context.
inline constexpr std::string_view kTruncatedReminder =
    "\n<<<TRUNCATED>>>\n<system-reminder>The remaining content has been omitted for limited context."
    "</system-reminder>";

/// Returns `output` (a string or an array of text/data blocks) cut to about
/// `limit` tokens, with the marker appended; unchanged when within the limit.
boost::json::value truncate_tool_output(const boost::json::value& output, std::int64_t limit);

}  // namespace agentd::agent
