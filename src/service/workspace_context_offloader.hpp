#pragma once
// The agent's ContextOffloader for a run: what leaves the context becomes files
// of the session's workspace (workspace/context_files.hpp), written on the
// file-tool pool.
#include <memory>
#include <string>

#include "agent/context_offloader.hpp"
#include "workspace/workspace.hpp"

namespace agentd::service {

class WorkspaceContextOffloader final : public agent::ContextOffloader {
public:
    WorkspaceContextOffloader(std::shared_ptr<workspace::Workspace> workspace, std::string session_id);

    boost::asio::awaitable<std::string> offload_context(
        const std::vector<const boost::json::object*>& messages) override;
    boost::asio::awaitable<std::string> offload_tool_result(const std::string& call_id,
                                                             const boost::json::value& output) override;
    boost::asio::awaitable<boost::json::object> offload_data_block(const boost::json::object& block) override;

private:
    std::shared_ptr<workspace::Workspace> workspace_;
    std::string session_id_;
};

}  // namespace agentd::service
