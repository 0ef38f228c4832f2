#pragma once
// The Bash tool (spec/tools-workspace.md §4.1; permissions: runtime.md §7.4.1).
//
// Each call is a fresh `/bin/sh -c <command>` in the workspace's workdir: no
// shell state, no profile, the backend's environment. The model reads stdout
// then stderr (or a "Command failed" text), cut at 30000 code points; the exit
// code itself is never reported.
#include <memory>
#include <string>
#include <string_view>

#include "agent/toolkit.hpp"
#include "workspace/workspace.hpp"

namespace agentd::tool {

namespace bj = boost::json;

class BashTool final : public agent::Tool {
public:
    static constexpr std::size_t kMaxOutputChars = 30000;   ///< code points the model sees
    static constexpr std::size_t kStreamLimit = 256 * 1024;  ///< bytes kept per stream (> 4 × kMaxOutputChars)
    static constexpr std::int64_t kDefaultTimeoutMs = 120000;
    static constexpr std::int64_t kMaxTimeoutMs = 600000;

    /// Commands run in `workspace` (the run's workspace); when null, in
    /// ToolContext::workspace, and permission checks see no working directory.
    explicit BashTool(std::shared_ptr<workspace::Workspace> workspace);

    const model::ToolSchema& schema() const override;

    bool check_read_only(const bj::object& input) const override;
    permission::Decision check_permissions(const bj::object& input, const permission::Context& ctx) const override;
    bool match_rule(const std::string& rule_content, const bj::object& input) const override;
    std::vector<permission::Rule> suggestions(const bj::object& input) const override;

    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const std::function<void(const agent::ToolChunk&)>& emit) override;

private:
    std::shared_ptr<workspace::Workspace> workspace_;
};

/// What the model reads for a finished command: `error` is the result state.
struct BashReply {
    std::string text;
    bool error = false;
};

/// Steps 3–6 of §4.1 for one exec result (the timeout text included).
BashReply bash_reply(std::string_view command, std::int64_t timeout_ms, const workspace::ExecResult& result);

/// UTF-8 decoding with U+FFFD for each maximal invalid subsequence (Python's
/// errors="replace"), then "\r\n" → "\n".
std::string decode_command_output(std::string_view bytes);

/// `text` cut to `max_chars` code points plus "\n... (output truncated)" when longer.
std::string cap_output(std::string text, std::size_t max_chars);

}  // namespace agentd::tool
