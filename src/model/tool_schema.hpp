#pragma once
// Tool schemas and tool_choice (spec/models.md §3.5, §5.6): the OpenAI function
// form every provider starts from, `$ref` inlining, Gemini's schema subset, and
// the validation of a forced tool name.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_model.hpp"
#include "model/request_body.hpp"

namespace agentd::model {

// The `tools` member of each provider's request, as JSON text that requests
// share. A server sends the same few tool lists over and over (the built-in
// tools, each agent's MCP tools), so the texts of recent lists are kept: finding
// a list again costs comparing names and descriptions; rendering it escapes and
// copies every description and schema into fresh memory, and a burst of calls
// would hold one copy per call. Thread-safe.

/// `[{"type":"function","function":{"name","description","parameters"}}, ...]`.
ToolsText openai_tools_json(const std::vector<ToolSchema>& tools, bool flatten_refs);
/// `[{"name","description","input_schema"}, ...]`.
ToolsText anthropic_tools_json(const std::vector<ToolSchema>& tools);
/// `[{"functionDeclarations":[{"name","description","parameters"}, ...]}]`, each
/// schema flattened and cut to Gemini's subset.
ToolsText gemini_tools_json(const std::vector<ToolSchema>& tools);

/// Inlines local `$ref`s (`#/$defs/X`, `#/definitions/X`) and drops the
/// definition sections; siblings of a `$ref` override the resolved definition;
/// a cycle becomes `{"type":"object","description":"(circular: X)"}`.
/// Returns the input unchanged when it has no definitions.
bj::object flatten_json_schema(const bj::object& schema);

/// Gemini's subset: no `$schema`/`additionalProperties`, `type:"null"` →
/// `"object"`, `const` → `enum`, nullable `anyOf` collapsed; recursive.
bj::value sanitize_schema_for_gemini(const bj::value& schema);

/// "auto" | "none" | "required" | a forced tool name.
inline bool is_tool_choice_mode(const std::string& c) {
    return c == "auto" || c == "none" || c == "required";
}

/// Throws std::invalid_argument when `tool_choice` forces a tool that is not
/// in `tools` (only checked when tools are present, as the reference does).
void check_tool_choice(const ChatRequest& request);

}  // namespace agentd::model
