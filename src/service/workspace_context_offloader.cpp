#include "service/workspace_context_offloader.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "tool/builtin/file_tool_pool.hpp"
#include "workspace/context_files.hpp"

namespace agentd::service {

namespace bj = boost::json;

WorkspaceContextOffloader::WorkspaceContextOffloader(std::shared_ptr<workspace::Workspace> workspace,
                                                     std::string session_id)
    : workspace_(std::move(workspace)), session_id_(std::move(session_id)) {}

// A file that cannot be written costs the agent the path in its notice, not
// the reply: each failure is logged and answered with "nothing stored".

boost::asio::awaitable<std::string> WorkspaceContextOffloader::offload_context(
    const std::vector<const bj::object*>& messages) {
    auto job = [&]() -> std::string {
        try {
            return workspace::ContextFiles(*workspace_, session_id_).append_context(messages);
        } catch (const std::exception& e) {
            spdlog::warn("session {}: the compressed context was not saved to the workspace: {}", session_id_, e.what());
            return {};
        }
    };
    co_return co_await tool::on_file_tool_pool(job);
}

boost::asio::awaitable<std::string> WorkspaceContextOffloader::offload_tool_result(const std::string& call_id,
                                                                                  const bj::value& output) {
    auto job = [&]() -> std::string {
        try {
            return workspace::ContextFiles(*workspace_, session_id_).write_tool_result(call_id, output);
        } catch (const std::exception& e) {
            spdlog::warn("session {}: the truncated result of tool call {} was not saved to the workspace: {}",
                         session_id_, call_id, e.what());
            return {};
        }
    };
    co_return co_await tool::on_file_tool_pool(job);
}

boost::asio::awaitable<bj::object> WorkspaceContextOffloader::offload_data_block(const bj::object& block) {
    auto job = [&]() -> bj::object {
        try {
            return workspace::ContextFiles(*workspace_, session_id_).store_data_block(block);
        } catch (const std::exception& e) {
            spdlog::warn("session {}: a data block was not saved to the workspace: {}", session_id_, e.what());
            return block;
        }
    };
    co_return co_await tool::on_file_tool_pool(job);
}

}  // namespace agentd::service
