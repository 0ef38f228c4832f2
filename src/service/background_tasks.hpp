#pragma once
// Tool calls that outlive their reply (spec/runtime.md §9): a call still
// running after the offload timeout becomes a background task, the reply goes
// on with a placeholder result, and the real result reaches the session's
// inbox when the task ends. ToolStop cancels one; deleting the session or
// shutting down cancels them all.
#include <boost/asio/any_io_executor.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "agent/tool_offload.hpp"
#include "agent/toolkit.hpp"
#include "bus/message_bus.hpp"
#include "common/cancellation.hpp"
#include "service/bus_keys.hpp"
#include "workspace/workspace.hpp"

namespace agentd::service {

namespace bj = boost::json;

/// The background tasks of this process. Thread-safe.
class BackgroundTasks {
public:
    /// `blocking` runs the inbox hand-off of finished tasks.
    BackgroundTasks(bus::MessageBus& bus, boost::asio::any_io_executor blocking);

    struct Owner {
        std::string user_id;
        std::string session_id;
        std::string agent_id;
    };
    /// Registers a running call (locally and in the session's registry hash);
    /// returns its new task id.
    std::string add(const Owner& owner, const std::string& tool_name, CancellationPtr cancel);
    /// A task ended: forgets it. Its `result` (a hint block), when given, goes
    /// to the owner's inbox unless the task was cancelled or shutdown began.
    void finish(const std::string& task_id, const Owner& owner, std::optional<bj::object> result);

    /// Cancels the task when this process runs it for `session_id` (ToolStop).
    bool cancel(const std::string& task_id, const std::string& session_id);
    /// Cancels the task when this process runs it, whatever its session (bus signal).
    bool cancel(const std::string& task_id);
    /// Cancels every task of the session here; returns how many.
    std::size_t cancel_session(const std::string& session_id);
    /// Shutdown: cancels everything, and nothing is delivered from now on.
    void cancel_all();
    /// Tasks still running in this process (cancelled ones until they stop).
    std::size_t running();

    bus::MessageBus& bus() { return bus_; }

private:
    struct Entry {
        Owner owner;
        CancellationPtr cancel;
    };
    bus::MessageBus& bus_;
    boost::asio::any_io_executor blocking_;
    std::mutex mutex_;  // guards tasks_, cancelled_, live_ and stopping_
    std::unordered_map<std::string, Entry> tasks_;
    std::size_t live_ = 0;
    std::unordered_map<std::string, bool> cancelled_;  ///< tasks ToolStop removed before they ended
    bool stopping_ = false;
};

/// The offloading policy of one run: calls still running after `timeout` move
/// to `tasks`. Lives as long as the run; the tasks it created do not need it.
class RunToolOffloader final : public agent::ToolOffloader {
public:
    RunToolOffloader(BackgroundTasks& tasks, BackgroundTasks::Owner owner, std::chrono::milliseconds timeout,
                     std::shared_ptr<workspace::Workspace> workspace);
    boost::asio::awaitable<agent::ToolOutcome> run(std::shared_ptr<agent::Tool> tool, const bj::object& input,
                                                   const agent::ToolCallRef& call, agent::ToolContext& ctx,
                                                   const std::function<void(const agent::ToolChunk&)>& emit) override;

private:
    BackgroundTasks& tasks_;
    BackgroundTasks::Owner owner_;
    std::chrono::milliseconds timeout_;
    std::shared_ptr<workspace::Workspace> workspace_;
};

/// The placeholder result of an offloaded call (the reference's text).
std::string offload_placeholder(const std::string& tool_name, const std::string& task_id,
                                std::chrono::milliseconds timeout);
/// The inbox hint announcing a background call's result; `output` is the
/// outcome's output (a string or text/data blocks).
bj::object background_result_hint(const std::string& tool_name, const std::string& call_id, const bj::value& output);

/// ToolStop: cancels a background task of this session by its id.
std::shared_ptr<agent::Tool> make_tool_stop(BackgroundTasks& tasks, std::string session_id);

}  // namespace agentd::service
