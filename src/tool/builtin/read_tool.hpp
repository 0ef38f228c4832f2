#pragma once
// Read (spec/tools-workspace.md §4.3): numbered text lines, images as data
// blocks; text reads fill the session's read cache (§4.10).
#include <memory>
#include <string>
#include <vector>

#include "agent/toolkit.hpp"

namespace agentd::workspace {
class Workspace;
}

namespace agentd::tool {

namespace bj = boost::json;

class ReadTool final : public agent::Tool {
public:
    struct Options {
        /// Longer lines are cut to this many code points and marked "[truncated]".
        std::size_t max_line_characters = 2000;
        /// Media types the model accepts (fnmatch patterns); images outside them are refused.
        std::vector<std::string> model_input_types{"image/png", "image/jpeg", "image/gif", "image/webp"};
    };

    explicit ReadTool(std::shared_ptr<workspace::Workspace> workspace);
    ReadTool(std::shared_ptr<workspace::Workspace> workspace, Options options);

    const model::ToolSchema& schema() const override { return schema_; }
    bool uses_session_state() const override { return true; }  // the read cache
    bool concurrency_safe() const override { return true; }
    bool read_only() const override { return true; }
    permission::Decision check_permissions(const bj::object& input, const permission::Context& ctx) const override;
    bool match_rule(const std::string& rule_content, const bj::object& input) const override;
    std::vector<permission::Rule> suggestions(const bj::object& input) const override;
    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const std::function<void(const agent::ToolChunk&)>& emit) override;

private:
    std::shared_ptr<workspace::Workspace> workspace_;
    Options options_;
    model::ToolSchema schema_;
};

}  // namespace agentd::tool
