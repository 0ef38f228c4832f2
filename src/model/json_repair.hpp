#pragma once
// Tool-call arguments are the raw JSON text as streamed; an interrupted stream
// or a compaction cut can leave it truncated ('{"city": "Par'). Providers that
// want an object (Anthropic, Gemini, Ollama) get the best object we can recover.
#include <boost/json.hpp>
#include <optional>
#include <string_view>

namespace agentd::model {

/// Parses `text` as a JSON object; when that fails, completes a truncated
/// document (closes strings and containers, finishes partial literals, drops
/// dangling commas and keys) and tries again. nullopt when no object results.
std::optional<boost::json::object> parse_object_with_repair(std::string_view text);

/// parse_object_with_repair, degrading to {} (what the formatters send for an
/// unrecoverable argument string).
boost::json::object tool_input_object(std::string_view raw_input);

}  // namespace agentd::model
