#pragma once
// Chat runs (spec/runtime.md §3): POST /chat/ validates and persists the input,
// takes the session's run lock and starts the run; the run streams the agent's
// events to the session log and live subscribers and persists after every step.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "agent/toolkit.hpp"
#include "bus/message_bus.hpp"
#include "common/cancellation.hpp"
#include "domain/chat_input.hpp"
#include "http/stream_body.hpp"
#include "model/chat_model.hpp"
#include "storage/storage.hpp"
#include "workspace/workspace.hpp"

namespace agentd::service {

namespace bj = boost::json;

struct ChatOptions {
    std::chrono::milliseconds lock_ttl{600'000};
    std::chrono::milliseconds log_retention{600'000};  ///< the event log outlives its run this long
    std::size_t log_max_len = 1000;
    std::chrono::milliseconds heartbeat{30'000};
    /// A tool call still running after this long moves to the background (spec/runtime.md §9.1).
    std::chrono::milliseconds tool_offload_timeout{10'000};
    /// Where each run goes on (a strand is made over it); unset: the `io`
    /// executor given to the service. The server hands out its io threads in turn.
    std::function<boost::asio::any_io_executor()> run_executor;
};

class BackgroundTasks;

/// Builds the model of a run from the decrypted credential payload.
using ModelFactory = std::function<std::unique_ptr<model::ChatModel>(
    boost::asio::any_io_executor, const bj::object& credential_data, const std::string& model,
    const bj::object& parameters, std::unique_ptr<model::ChatModel> fallback)>;
/// Adds the tools of a run to its toolkit; `workspace` is the session's (null
/// when the service runs without workspaces). `session_tools` are the run's
/// own (ToolStop), which go after the task tools (spec/runtime.md §3.3).
using ToolkitFactory = std::function<void(agent::Toolkit&, const std::shared_ptr<workspace::Workspace>& workspace,
                                          const std::vector<std::shared_ptr<agent::Tool>>& session_tools)>;

class ChatService {
public:
    ChatService(storage::Storage& storage, bus::MessageBus& bus, boost::asio::any_io_executor io,
                boost::asio::thread_pool& blocking, ModelFactory models, ToolkitFactory tools, ChatOptions options,
                workspace::WorkspaceManager* workspaces = nullptr, BackgroundTasks* background = nullptr);
    ~ChatService();

    /// POST /chat/. Blocking: call on the blocking pool. 404 for a missing session
    /// or agent, 422 without a model configuration, 409 while a run holds the
    /// session; otherwise the input is stored and the run started. A confirmation
    /// or external result resumes the parked reply (409 when nothing awaits it); a
    /// new message while parked first closes the parked reply as interrupted.
    bj::object start(const std::string& user_id, const domain::ChatRequest& request);

    /// POST /sessions/{id}/interrupt. Blocking. 404 when the session is not the
    /// caller's. A running reply is cancelled; a parked one is closed as interrupted.
    bj::object interrupt(const std::string& user_id, const std::string& session_id);

    /// Starts the run a trigger of the wake-up queue asks for (spec/runtime.md
    /// §10.2). Blocking. `interrupt_event` (a USER_INTERRUPT resume) replaces
    /// the request's input. Returns false, starting nothing, for a wake that
    /// finds nothing to do: the inbox is empty, or the reply is parked (its
    /// inbox is drained when it resumes). Throws like start(): a conflict
    /// while another run holds the session.
    bool start_triggered(const std::string& user_id, const domain::ChatRequest& request, bool wake,
                         const bj::object* interrupt_event);

    /// Cancels this process's run of the session, if any (the cancel
    /// dispatcher's signals). Non-blocking.
    bool cancel_run(const std::string& session_id);

    /// The SSE body of GET /sessions/{id}/stream (after the caller's 404 check).
    std::shared_ptr<http::StreamBody> stream(const std::string& session_id, std::optional<bus::EntryId> resume_after);

    /// Runs in flight in this process.
    std::size_t active_runs();
    /// Whether a run of this process holds `session_id` (from its lock to its end).
    bool runs_here(const std::string& session_id);

    /// Interrupts every run (non-blocking); they persist and release their locks.
    void cancel_all();

    struct RunContext;  // one run's loaded records and resources (chat_service.cpp)

private:
    /// start() with an internal continuation event (USER_INTERRUPT) instead of the request's input.
    /// With `wake`, returns nullopt instead of starting a run that has nothing to do.
    /// With `from_client`, a confirmation or external result meeting a run that
    /// holds the session is queued for it instead of answered 409.
    std::optional<bj::object> launch(const std::string& user_id, const domain::ChatRequest& request,
                                     const bj::object* internal_event, bool wake = false, bool from_client = false);
    boost::asio::awaitable<void> run(std::shared_ptr<RunContext> ctx);
    /// What a run that died mid-step left, repaired (under the session's lock):
    /// open tool calls closed in `context` and in the log, an unfinished reply
    /// that was not parked marked interrupted.
    struct CrashRecovery {
        storage::StepDelta delta;  ///< the rows to store
        bool parked = false;       ///< the reply still awaits an answer
        std::string closed_reply;  ///< the id of the reply marked interrupted, if any
    };
    /// Stop on an idle session: closes the reply a crashed run left unfinished
    /// (stored as interrupted, `REPLY_END interrupted` published), if any.
    void close_crashed_reply(const std::string& user_id, domain::SessionRecord& session);
    CrashRecovery recover_crashed_run(const std::string& user_id, const std::string& session_id, bj::array& context,
                                      const std::string& state_reply_id, const std::string& agent_name);
    /// After a run failed outside the reply's steps: the reply's REPLY_END (error),
    /// classified as a setup failure when `in_setup` (the agent was not assembled).
    boost::asio::awaitable<void> end_aborted_reply(RunContext& ctx, std::exception_ptr cause, bool in_setup);
    /// The run's chat model (with its fallback), or the setup error to report.
    void make_chat_model(RunContext& ctx);
    /// Executes `fn` on the blocking pool and resumes on the caller's executor.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F>> on_pool(F& fn);
    /// Appends `payload` (an event's JSON) to the session's log and sends it live.
    bus::EntryId publish(const std::string& session_id, const std::string& payload);
    void finish_run(const std::string& session_id, const std::string& lock_token);

    storage::Storage& storage_;
    bus::MessageBus& bus_;
    boost::asio::any_io_executor io_;
    boost::asio::thread_pool& blocking_;
    ModelFactory models_;
    ToolkitFactory tools_;
    ChatOptions options_;
    workspace::WorkspaceManager* workspaces_;
    BackgroundTasks* background_;

    std::mutex runs_mutex_;  // guards runs_
    std::unordered_map<std::string, CancellationPtr> runs_;  ///< session id -> its run's cancellation
};

/// The error classification of a failed run (api-core §8): {type, message} with the
/// reference's fixed sentences. `setup` marks failures before the reply started.
bj::object classify_error(std::exception_ptr error, bool setup);

}  // namespace agentd::service
