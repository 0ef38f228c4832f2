#pragma once
// Token estimates and the truncation of large tool results (spec/models.md §8,
// spec/runtime.md §8.3). No provider tokenizer is used, as in the reference:
// tokens = round(utf8 bytes / 4) + 2000 per data block.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
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

/// The marker appended to a truncated tool result kept in context, naming the
/// file that holds the rest (none when `offload_path` is empty).
std::string truncated_reminder(std::string_view offload_path);

/// A tool output split at the truncation limit: what stays in context and what
/// was cut.
struct ToolOutputCut {
    boost::json::value kept;  ///< a string, or an array of blocks; no marker yet
    boost::json::value rest;  ///< the same kind: the cut part of the boundary text and every later block
};

/// Splits `output` (a string or an array of text/data blocks) at about `limit`
/// tokens: whole leading blocks are kept while together they stay below it, a
/// text block across the limit is cut (never inside a UTF-8 sequence), any other
/// block across it goes whole to the rest. The head of a cut text joins a kept
/// text block right before it, its tail a text block right after it. Nothing
/// when the output is within the limit or nothing would be cut.
std::optional<ToolOutputCut> cut_tool_output(const boost::json::value& output, std::int64_t limit);

/// `kept` with `reminder` appended to its last block when that is text, else
/// as a new text block.
boost::json::value with_reminder(boost::json::value kept, std::string_view reminder);

}  // namespace agentd::agent
