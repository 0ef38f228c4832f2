#pragma once
// GenerateStructuredOutput (spec/runtime.md §4.7): the tool a reply that must end
// with structured output is given. Its input schema is the required JSON schema
// (titles stripped); a call validates the input against the schema kept in
// state.reply_context.structured_schema, filling declared defaults, and stores
// the result in state.reply_context.structured_output.
//
// Read-only and concurrency-safe, always allowed: it only records the answer.
#include <boost/json.hpp>
#include <memory>
#include <string_view>

#include "agent/toolkit.hpp"

namespace agentd::agent {

inline constexpr std::string_view kStructuredOutputToolName = "GenerateStructuredOutput";

class StructuredOutputTool final : public Tool {
public:
    /// `schema` must satisfy check_structured_schema().
    explicit StructuredOutputTool(const bj::object& schema);

    const model::ToolSchema& schema() const override { return schema_; }
    bool uses_session_state() const override { return true; }  // writes reply_context
    bool concurrency_safe() const override { return true; }
    bool read_only() const override { return true; }
    permission::Decision check_permissions(const bj::object&,
                                           const permission::Context&) const override;
    boost::asio::awaitable<ToolOutcome> run(
        const bj::object& input, ToolContext& ctx,
        const std::function<void(const ToolChunk&)>& emit) override;

private:
    model::ToolSchema schema_;
};

/// Throws std::invalid_argument unless `schema` can be a tool's input schema:
/// `"type": "object"` with a `properties` object (spec/tools-workspace.md §1.1).
void check_structured_schema(const bj::object& schema);

}  // namespace agentd::agent
