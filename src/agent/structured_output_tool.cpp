#include "agent/structured_output_tool.hpp"

#include <stdexcept>

#include "common/json_schema.hpp"

namespace agentd::agent {

namespace {

constexpr std::string_view kDescription =
    "Hands over the structured output that your current reply must produce.\n\n"
    "You are given this tool only while a structured output is required, and its input schema is "
    "that "
    "output: call it with the output as its input once you have what you need.\n"
    "While you have this tool, you MUST end your response by calling it. The call finishes your "
    "reply, and the structured output goes to the user.\n\n"
    "# When to use it\n"
    "- When you have gathered enough information and resources.\n";

}  // namespace

void check_structured_schema(const bj::object& schema) {
    const auto* type = schema.if_contains("type");
    const auto* properties = schema.if_contains("properties");
    if (!type || *type != "object" || !properties || !properties->is_object())
        throw std::invalid_argument(
            "A structured output schema must be an object schema: \"type\": \"object\" with a "
            "\"properties\" object.");
}

StructuredOutputTool::StructuredOutputTool(const bj::object& schema)
    : schema_{std::string(kStructuredOutputToolName), std::string(kDescription),
              json_schema::without_titles(schema)} {}

permission::Decision StructuredOutputTool::check_permissions(const bj::object&,
                                                             const permission::Context&) const {
    return permission::Decision::allow(std::string(kStructuredOutputToolName) +
                                       " is always allowed.");
}

boost::asio::awaitable<ToolOutcome> StructuredOutputTool::run(
    const bj::object& input, ToolContext& ctx, const std::function<void(const ToolChunk&)>& emit) {
    auto answer = [&](std::string state, std::string text) {
        emit(ToolChunk{text, std::nullopt});
        return ToolOutcome{std::move(state), bj::value(std::move(text)), {}};
    };
    // The schema of record is the reply's (it survives a reload; this tool is
    // rebuilt from it on every run).
    const auto* required = ctx.state.reply_context.if_contains("structured_schema");
    if (!required || !required->is_object())
        co_return answer("success", "No structured output is required for now.");
    bj::value output = input;
    auto violations = json_schema::validate_filling_defaults(required->get_object(), output);
    if (!violations.empty())
        co_return answer("error",
                         "ValidationError: Structured output validation failed with error: " +
                             json_schema::describe(violations));
    ctx.state.reply_context["structured_output"] = std::move(output);
    co_return answer("success", "Structured output generated successfully.");
}

}  // namespace agentd::agent
