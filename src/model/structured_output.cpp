#include "model/structured_output.hpp"

#include "common/json_schema.hpp"

#include <cmath>
#include <cstdint>
#include <string_view>

#include "common/json.hpp"
#include "model/history.hpp"
#include "model/json_repair.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model {

std::vector<StructuredStrategy> structured_strategies(const ChatRequest& request,
                                                      bool can_disable_thinking) {
    if (request.tool_choice) return {StructuredStrategy::kExplicit};
    std::vector<StructuredStrategy> out{StructuredStrategy::kForced, StructuredStrategy::kAuto};
    if (can_disable_thinking) out.push_back(StructuredStrategy::kNoThinking);
    out.push_back(StructuredStrategy::kNone);
    return out;
}

ChatRequest structured_request(const ChatRequest& request, StructuredStrategy strategy) {
    ChatRequest out = request;
    if (out.context) {  // this path edits the last message: work on a copy
        for (const auto& m : *out.context) out.messages.push_back(m);
        out.context = nullptr;
    }
    if (out.messages.empty())
        throw std::invalid_argument(
            "The input messages cannot be empty for the `generate_structured_output` method.");
    static constexpr std::string_view kInstruction =
        "<system-reminder>Now you **MUST** call the tool named 'generate_structured_output' to "
        "generate the "
        "structured output required by the user. DON'T do anything else.</system-reminder>";
    bj::object text_block{{"type", "text"}, {"text", kInstruction}};
    bj::value& last = out.messages.back();
    if (last.is_object() && str_at(last.get_object(), "role") == "user") {
        bj::array content = content_blocks_of(last.get_object());
        content.push_back(std::move(text_block));
        last.get_object()["content"] = std::move(content);
    } else {
        out.messages.push_back(
            bj::object{{"name", "user"}, {"role", "user"}, {"content", bj::array{text_block}}});
    }
    out.tools = {
        ToolSchema{kStructuredOutputTool,
                   "Call this function to generate structured output required by the user.",
                   request.structured_schema ? *request.structured_schema : bj::object{}}};
    switch (strategy) {
        case StructuredStrategy::kForced:
        case StructuredStrategy::kNoThinking:
            out.tool_choice = kStructuredOutputTool;
            break;
        case StructuredStrategy::kAuto:
            out.tool_choice = "auto";
            break;
        case StructuredStrategy::kNone:
            out.tool_choice.reset();
            break;
        case StructuredStrategy::kExplicit:
            break;
    }
    out.structured_schema.reset();
    return out;
}

std::optional<bj::object> read_structured_output(const ModelResponse& response,
                                                 const bj::object& schema) {
    for (const auto& bv : response.content) {
        if (!bv.is_object()) continue;
        const auto& block = bv.get_object();
        if (str_at(block, "type") != "tool_call" || str_at(block, "name") != kStructuredOutputTool)
            continue;
        auto parsed = parse_object_with_repair(str_at(block, "input"));
        if (!parsed || !json_schema_accepts(schema, *parsed)) return std::nullopt;
        return parsed;
    }
    return std::nullopt;
}

bool json_schema_accepts(const bj::object& schema, const bj::value& instance) {
    bj::value probe = instance;  // checked as the reference's jsonschema.validate, on a copy
    return json_schema::validate_filling_defaults(schema, probe).empty();
}

}  // namespace agentd::model
