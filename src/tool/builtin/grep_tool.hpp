#pragma once
// Grep (spec/tools-workspace.md §4.7, Traps 6): ripgrep's output for the
// reference's argument vector, produced natively by grep_search().
//
// Agentd decisions: `path` defaults to the workspace workdir (not the server's
// cwd) and is confined to the workspace; no rg process is run; results are in
// path order (deterministic).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/toolkit.hpp"

namespace agentd::workspace {
class Workspace;
}

namespace agentd::tool {

namespace bj = boost::json;

class GrepTool final : public agent::Tool {
public:
    explicit GrepTool(std::shared_ptr<workspace::Workspace> workspace);

    const model::ToolSchema& schema() const override;
    bool concurrency_safe() const override { return true; }
    bool read_only() const override { return true; }
    permission::Decision check_permissions(const bj::object& input, const permission::Context& ctx) const override;
    /// The rule glob against `path` (default: the workdir).
    bool match_rule(const std::string& rule_content, const bj::object& input) const override;
    /// `<absolute search path>/**`.
    std::vector<permission::Rule> suggestions(const bj::object& input) const override;
    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const std::function<void(const agent::ToolChunk&)>& emit) override;

    /// How long one search may take (the reference's rg timeout).
    std::chrono::milliseconds timeout{30000};

private:
    std::shared_ptr<workspace::Workspace> workspace_;
};

/// The reference's splitting of the `glob` argument: whitespace-separated
/// tokens; a token with both `{` and `}` is kept whole, others split on commas.
std::vector<std::string> split_grep_globs(std::string_view glob);

}  // namespace agentd::tool
