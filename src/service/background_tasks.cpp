#include "service/background_tasks.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"
#include "domain/message.hpp"
#include "service/inbox.hpp"

namespace agentd::service {

namespace asio = boost::asio;

// ---- the registry ------------------------------------------------------------------

BackgroundTasks::BackgroundTasks(bus::MessageBus& bus, asio::any_io_executor blocking)
    : bus_(bus), blocking_(std::move(blocking)) {}

std::string BackgroundTasks::add(const Owner& owner, const std::string& tool_name, CancellationPtr cancel) {
    std::string id = new_id();
    {
        std::lock_guard lock(mutex_);
        tasks_.emplace(id, Entry{owner, std::move(cancel)});
        ++live_;
    }
    const double started_at =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    bus_.hash_set(background_tasks_key(owner.session_id), id,
                  json::write(bj::object{{"tool_name", tool_name}, {"agent_id", owner.agent_id}, {"started_at", started_at}},
                              json::Style::kPython),
                  kBackgroundTasksTtl);
    spdlog::info("session {}: tool '{}' moved to the background as task {}", owner.session_id, tool_name, id);
    return id;
}

void BackgroundTasks::finish(const std::string& task_id, const Owner& owner, std::optional<bj::object> result) {
    bool deliver = false;
    {
        std::lock_guard lock(mutex_);
        --live_;
        bool cancelled = cancelled_.erase(task_id) > 0;
        if (auto it = tasks_.find(task_id); it != tasks_.end()) {
            cancelled = cancelled || it->second.cancel->requested();
            tasks_.erase(it);
        }
        deliver = result && !cancelled && !stopping_;
    }
    bus_.hash_delete(background_tasks_key(owner.session_id), task_id);
    if (!deliver) {
        spdlog::info("session {}: background task {} ended without a result to deliver", owner.session_id, task_id);
        return;
    }
    // The hand-off takes the inbox lock: not on an io thread.
    asio::post(blocking_, [bus = &bus_, owner, payload = std::move(*result)] {
        try {
            inbox::deliver(*bus, owner.user_id, owner.session_id, owner.agent_id, payload);
        } catch (const std::exception& e) {
            spdlog::error("session {}: a background result could not be delivered: {}", owner.session_id, e.what());
        }
    });
}

bool BackgroundTasks::cancel(const std::string& task_id, const std::string& session_id) {
    CancellationPtr cancel;
    {
        std::lock_guard lock(mutex_);
        auto it = tasks_.find(task_id);
        if (it == tasks_.end() || it->second.owner.session_id != session_id) return false;
        cancel = std::move(it->second.cancel);
        tasks_.erase(it);
        cancelled_[task_id] = true;
    }
    cancel->request();
    return true;
}

bool BackgroundTasks::cancel(const std::string& task_id) {
    CancellationPtr cancel;
    {
        std::lock_guard lock(mutex_);
        auto it = tasks_.find(task_id);
        if (it == tasks_.end()) return false;
        cancel = it->second.cancel;
    }
    cancel->request();
    return true;
}

std::size_t BackgroundTasks::cancel_session(const std::string& session_id) {
    std::vector<CancellationPtr> hits;
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, entry] : tasks_)
            if (entry.owner.session_id == session_id) hits.push_back(entry.cancel);
    }
    for (auto& c : hits) c->request();
    return hits.size();
}

void BackgroundTasks::cancel_all() {
    std::vector<CancellationPtr> all;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (auto& [id, entry] : tasks_) all.push_back(entry.cancel);
    }
    for (auto& c : all) c->request();
}

std::size_t BackgroundTasks::running() {
    std::lock_guard lock(mutex_);
    return live_;
}

// ---- texts -------------------------------------------------------------------------

namespace {

/// Seconds as Python prints a float (10.0, 0.5).
std::string python_seconds(std::chrono::milliseconds timeout) {
    return json::format_double(static_cast<double>(timeout.count()) / 1000.0);
}

}  // namespace

std::string offload_placeholder(const std::string& tool_name, const std::string& task_id,
                                std::chrono::milliseconds timeout) {
    return "<system-reminder>Tool '" + tool_name + "' is running in background (id=" + task_id + ") for over " +
           python_seconds(timeout) +
           "s. You will be notified automatically when it finishes, so **DO NOT** poll, query, or wait for the "
           "result yourself. **DO NOT** call any waiting tool such as `bash sleep`. You have exactly two valid "
           "options:\n"
           "1. Continue with other independent tasks and ignore this tool for now; or\n"
           "2. If there is nothing else to do, simply give a text reply without calling any tool, which ends the "
           "current reasoning loop \u2014 just do nothing and end this run.\n"
           "</system-reminder>";
}

bj::object background_result_hint(const std::string& tool_name, const std::string& call_id, const bj::value& output) {
    const std::string source = json::write(
        bj::object{{"label", "tool_output"}, {"sublabel", tool_name + " \u00b7 " + call_id}}, json::Style::kPython);
    bj::array blocks;
    if (output.is_string()) {
        if (!output.get_string().empty()) blocks.push_back(domain::text_block(output.get_string()));
    } else if (output.is_array()) {
        blocks = output.get_array();
    }
    if (blocks.empty()) {
        return domain::hint_block(bj::value("<system-notification>Tool '" + tool_name +
                                            "' running in background (id=" + call_id +
                                            ") has completed with no output.</system-notification>"),
                                  bj::value(source));
    }
    const std::string prefix = "<system-notification>Tool '" + tool_name + "' running in background (id=" + call_id +
                               ") has completed.\n\nResult:\n\n";
    const std::string suffix = "</system-notification>";
    auto is_text = [](const bj::value& b) { return b.is_object() && json::str_at(b.get_object(), "type") == "text"; };
    if (is_text(blocks.front())) {
        auto& first = blocks.front().get_object();
        first["text"] = prefix + std::string(json::str_at(first, "text"));
    } else {
        blocks.insert(blocks.begin(), domain::text_block(prefix));
    }
    if (is_text(blocks.back())) {
        auto& last = blocks.back().get_object();
        last["text"] = std::string(json::str_at(last, "text")) + suffix;
    } else {
        blocks.push_back(domain::text_block(suffix));
    }
    return domain::hint_block(bj::value(std::move(blocks)), bj::value(source));
}

// ---- offloading --------------------------------------------------------------------

namespace {

/// One call run by the offloader. Shared by the waiting reply and the
/// coroutine running the tool; both live on the run's strand.
struct OffloadedCall {
    OffloadedCall(asio::any_io_executor ex, std::shared_ptr<agent::Tool> t, const bj::object& in,
                  const domain::SessionState& s, std::shared_ptr<workspace::Workspace> ws, const std::string& session_id)
        : tool(std::move(t)), input(in), state(s), workspace(std::move(ws)),
          ctx{session_id, state, cancel, workspace.get()}, wake(ex) {}

    std::shared_ptr<agent::Tool> tool;
    bj::object input;
    domain::SessionState state;  ///< a copy: offloadable tools do not use it
    std::shared_ptr<workspace::Workspace> workspace;
    CancellationPtr cancel = std::make_shared<Cancellation>();
    agent::ToolContext ctx;
    asio::steady_timer wake;  ///< the reply's wait: the deadline, or cancelled when the call ends
    std::vector<agent::ToolChunk> chunks;
    std::optional<agent::ToolOutcome> outcome;
    std::exception_ptr error;
    bool done = false;
    // Set when the call moved to the background.
    BackgroundTasks* tasks = nullptr;
    std::string task_id;
    BackgroundTasks::Owner owner;
    agent::ToolCallRef call;
};

asio::awaitable<void> drive(std::shared_ptr<OffloadedCall> job) {
    // Chunks are kept only while the reply may still want them.
    const std::function<void(const agent::ToolChunk&)> collect = [raw = job.get()](const agent::ToolChunk& c) {
        if (!raw->tasks) raw->chunks.push_back(c);
    };
    try {
        job->outcome = co_await job->tool->run(job->input, job->ctx, collect);
    } catch (const std::exception& e) {
        job->error = std::current_exception();
        if (job->tasks) spdlog::warn("background task {} failed: {}", job->task_id, e.what());
    }
    job->done = true;
    if (!job->tasks) {
        job->wake.cancel();
        co_return;
    }
    std::optional<bj::object> hint;
    if (job->outcome && !job->cancel->requested())
        hint = background_result_hint(job->call.name, job->call.id, job->outcome->output);
    job->tasks->finish(job->task_id, job->owner, std::move(hint));
}

}  // namespace

RunToolOffloader::RunToolOffloader(BackgroundTasks& tasks, BackgroundTasks::Owner owner,
                                   std::chrono::milliseconds timeout, std::shared_ptr<workspace::Workspace> workspace)
    : tasks_(tasks), owner_(std::move(owner)), timeout_(timeout), workspace_(std::move(workspace)) {}

asio::awaitable<agent::ToolOutcome> RunToolOffloader::run(std::shared_ptr<agent::Tool> tool, const bj::object& input,
                                                          const agent::ToolCallRef& call, agent::ToolContext& ctx,
                                                          const std::function<void(const agent::ToolChunk&)>& emit) {
    auto executor = co_await asio::this_coro::executor;
    auto job = std::make_shared<OffloadedCall>(executor, std::move(tool), input, ctx.state, workspace_, owner_.session_id);
    job->wake.expires_after(timeout_);
    {
        // Until the offload the call is part of the reply: its interrupt stops the tool.
        auto interrupt = Cancellation::on_cancel(ctx.cancel, [cancel = job->cancel] { cancel->request(); });
        asio::co_spawn(executor, drive(job), asio::detached);
        if (!job->done) {
            auto [ec] = co_await job->wake.async_wait(asio::as_tuple(asio::use_awaitable));
            (void)ec;
        }
    }
    if (job->done) {
        for (const auto& chunk : job->chunks) emit(chunk);
        job->chunks.clear();
        if (job->error) std::rethrow_exception(job->error);
        co_return std::move(*job->outcome);
    }
    job->owner = owner_;
    job->call = call;
    job->task_id = tasks_.add(owner_, call.name, job->cancel);
    job->tasks = &tasks_;
    job->chunks.clear();
    std::string text = offload_placeholder(call.name, job->task_id, timeout_);
    emit(agent::ToolChunk{text, std::nullopt});
    co_return agent::ToolOutcome{"success", bj::value(text), {}};
}

// ---- ToolStop ----------------------------------------------------------------------

namespace {

class ToolStop final : public agent::Tool {
public:
    ToolStop(BackgroundTasks& tasks, std::string session_id) : tasks_(tasks), session_id_(std::move(session_id)) {}

    const model::ToolSchema& schema() const override {
        static const model::ToolSchema kSchema{
            "ToolStop",
            "Stop a background tool execution by its task id. Use this when you want to cancel a previously "
            "offloaded tool that is still running in the background.",
            bj::object{{"properties", bj::object{{"task_id", bj::object{{"description",
                                                                          "The task id of the background tool to stop."},
                                                                         {"title", "Task Id"},
                                                                         {"type", "string"}}}}},
                       {"required", bj::array{"task_id"}},
                       {"title", "_ToolStopParams"},
                       {"type", "object"}}};
        return kSchema;
    }
    bool concurrency_safe() const override { return true; }
    permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
        return permission::Decision::allow("ToolStop is always allowed to be called.");
    }

    asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext&,
                                            const std::function<void(const agent::ToolChunk&)>& emit) override {
        const std::string task_id(json::str_at(input, "task_id"));
        agent::ToolOutcome outcome;
        if (tasks_.cancel(task_id, session_id_)) {
            outcome.output = "Task " + task_id + " stopped successfully.";
        } else if (tasks_.bus().hash_get(background_tasks_key(session_id_), task_id)) {
            // Another process runs it: that one cancels it on this signal.
            tasks_.bus().broadcast(kTaskCancelChannel,
                                   json::write(bj::object{{"task_id", task_id}}, json::Style::kPython));
            outcome.output = "Cancel request sent for task " + task_id + ". The owning worker will stop it shortly.";
        } else {
            outcome.state = "error";
            outcome.output = "TaskNotFoundError: The task " + task_id + " does not exist.";
        }
        emit(agent::ToolChunk{std::string(outcome.output.get_string()), std::nullopt});
        co_return outcome;
    }

private:
    BackgroundTasks& tasks_;
    std::string session_id_;
};

}  // namespace

std::shared_ptr<agent::Tool> make_tool_stop(BackgroundTasks& tasks, std::string session_id) {
    return std::make_shared<ToolStop>(tasks, std::move(session_id));
}

}  // namespace agentd::service
