#pragma once
// Write (spec/tools-workspace.md §4.4): replaces a file's content; an existing file must
// have been read (and not changed since). The result's metadata carries a
// difflib-style unified diff. The read cache is consulted, never refreshed.
#include <memory>
#include <string>
#include <vector>

#include "agent/toolkit.hpp"

namespace agentd::workspace {
class Workspace;
}

namespace agentd::tool {

namespace bj = boost::json;

class WriteTool final : public agent::Tool {
public:
    explicit WriteTool(std::shared_ptr<workspace::Workspace> workspace);

    const model::ToolSchema& schema() const override { return schema_; }
    bool uses_session_state() const override { return true; }  // the read cache
    /// Dangerous path → safety ask; accept_edits/dont_ask inside a working directory → allow.
    permission::Decision check_permissions(const bj::object& input, const permission::Context& ctx) const override;
    bool match_rule(const std::string& rule_content, const bj::object& input) const override;
    std::vector<permission::Rule> suggestions(const bj::object& input) const override;
    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const std::function<void(const agent::ToolChunk&)>& emit) override;

private:
    std::shared_ptr<workspace::Workspace> workspace_;
    model::ToolSchema schema_;
};

}  // namespace agentd::tool
