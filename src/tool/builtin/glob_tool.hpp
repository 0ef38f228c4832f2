#pragma once
// Glob (spec/tools-workspace.md §4.6, Traps 7): files whose path below a base
// directory matches a pattern of `*`, `?` and `**` segments, newest first.
//
// Agentd decisions: `path` defaults to the workspace workdir (not the server's
// cwd) and is confined to the workspace; entries of a directory are visited in
// name order, so equal mtimes come out in a stable order.
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

class GlobTool final : public agent::Tool {
public:
    explicit GlobTool(std::shared_ptr<workspace::Workspace> workspace);

    const model::ToolSchema& schema() const override;
    bool concurrency_safe() const override { return true; }
    bool read_only() const override { return true; }
    permission::Decision check_permissions(const bj::object& input, const permission::Context& ctx) const override;
    /// The rule glob against `path`, then against `pattern`.
    bool match_rule(const std::string& rule_content, const bj::object& input) const override;
    /// `<absolute search dir>/**`.
    std::vector<permission::Rule> suggestions(const bj::object& input) const override;
    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const std::function<void(const agent::ToolChunk&)>& emit) override;

    /// How long one search may take (the reference's helper timeout).
    std::chrono::milliseconds timeout{30000};

private:
    std::shared_ptr<workspace::Workspace> workspace_;
};

/// The matching part of Glob, without the tool around it: paths (joined onto
/// `display_base`) of the files under `host_base` matching `pattern`, newest
/// first. `stop` is polled; when it returns true the walk ends early and
/// `stopped` is set.
struct GlobSearch {
    std::vector<std::string> paths;
    bool stopped = false;
};
GlobSearch glob_files(const std::string& pattern, const std::string& display_base, const std::string& host_base,
                      const std::function<bool()>& stop);

/// Whether `name` matches one pattern segment (`*` any run, `?` one character,
/// everything else literal; anchored, case-sensitive).
bool glob_segment_matches(std::string_view segment, std::string_view name);

}  // namespace agentd::tool
