#include "service/chat_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/react_agent.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"
#include "common/run_on.hpp"
#include "service/crash_repair.hpp"
#include "service/replay_mark.hpp"
#include "domain/event.hpp"
#include "domain/message.hpp"
#include "domain/reply_builder.hpp"
#include "model/error_classification.hpp"
#include "model/model_factory.hpp"
#include "net/http_client.hpp"
#include "service/agent_service.hpp"
#include "service/background_tasks.hpp"
#include "service/inbox.hpp"
#include "service/input_media.hpp"
#include "service/session_event_stream.hpp"
#include "service/workspace_context_offloader.hpp"

namespace agentd::service {

namespace asio = boost::asio;
namespace ev = domain::event;

namespace {

}  // namespace

bj::object classify_error(std::exception_ptr error, bool setup) {
    const auto info = setup ? model::classify_setup_error(error) : model::classify_error(error);
    return domain::error_info(std::string(model::to_string(info.type)), info.message);
}

// ---- one run --------------------------------------------------------------------

namespace {

/// The model of a run that only closes a parked reply (an interrupt): such a
/// run makes no model call, and this one says so if asked.
class ClosingOnlyModel final : public model::ChatModel {
public:
    const std::string& model_name() const override { return name_; }
    asio::awaitable<model::ModelResponse> call(const model::ChatRequest&, const model::ChunkSink&,
                                               CancellationPtr) override {
        throw model::ModelError(0, false, "no model is configured for closing a parked reply");
    }

private:
    std::string name_;
};

}  // namespace

struct ChatService::RunContext : agent::ReplySink {
    ChatService* service = nullptr;
    std::string user_id;
    std::string session_id;
    std::string lock_token;
    domain::AgentRecord agent;
    domain::SessionRecord session;
    bj::array context;
    bj::array inputs;
    /// The inputs as the context keeps them, when some attachment had to be
    /// replaced for the model (input_media.hpp); the log keeps `inputs`.
    std::optional<bj::array> model_inputs;
    const bj::array& context_inputs() const { return model_inputs ? *model_inputs : inputs; }
    bj::object chat_credential;
    std::optional<bj::object> fallback_credential;
    CancellationPtr cancel = std::make_shared<Cancellation>();
    std::optional<bj::object> continuation;  ///< the event resuming a parked reply (Case B)
    bool close_parked = false;  ///< a new message arrived while parked: close that reply first
    bool closing_only = false;  ///< an interrupt closing a parked reply: no model is called
    std::int64_t context_size = 32768;  ///< the provider class's window (compaction's base)
    std::optional<bj::object> reply_log;  ///< the message-log copy, folded from events
    asio::any_io_executor strand;  ///< where the run goes on
    std::unique_ptr<model::ChatModel> chat_model;  ///< made at launch; null when that failed
    std::exception_ptr setup_error;                ///< why it (or the workspace) failed
    std::shared_ptr<workspace::Workspace> workspace;  ///< got at launch, with workspaces on
    /// A new message's reply, opened and persisted with its input at launch.
    std::optional<agent::ReactAgent::Opening> opening;
    std::vector<bj::object> pending_log_extra;  ///< other log messages to write at the next step
    std::chrono::steady_clock::time_point last_renewal = std::chrono::steady_clock::now();
    /// REPLY_END (and anything after it) waits for the step that persists it: a
    /// client that saw the end of a reply reads the finished reply back.
    std::vector<bj::object> held_events;
    bool reply_start_sent = false;  ///< a REPLY_START went out through emit()
    /// The newest event this run published, and the REPLY_START of the reply
    /// not ended as of it: each stored step marks them for cursor-less streams
    /// (replay_mark.hpp).
    std::optional<bus::EntryId> last_published;
    std::optional<bus::LogEntry> open_reply_start;

    void publish(const bj::object& event) {
        std::string payload = json::write(event, json::Style::kPython);
        const auto type = ev::type_of(event);
        const bus::EntryId id = service->publish(session_id, payload);
        last_published = id;
        if (type == ev::type::kReplyStart) open_reply_start = bus::LogEntry{id, std::move(payload)};
        else if (type == ev::type::kReplyEnd) open_reply_start.reset();
    }

    void emit(const bj::object& event) override {
        auto type = ev::type_of(event);
        if (type == ev::type::kReplyStart) {
            reply_log = domain::start_reply(event);
            reply_start_sent = true;
        } else if (reply_log) {
            domain::append_event(*reply_log, event);
        }
        if (type == ev::type::kReplyEnd || !held_events.empty())
            held_events.push_back(event);
        else
            publish(event);
        renew_if_due();
    }

    asio::awaitable<std::vector<bj::object>> drain_inbox() override {
        // Before every reasoning step: called in place, like publish(), since the
        // in-memory bus never blocks (a networked bus moves these calls to the pool).
        std::vector<std::string> raw = inbox::take(service->bus_, session_id);
        std::vector<bj::object> hints;
        for (const auto& text : raw) {
            // Producers may be other processes: what is not a hint block is dropped, not trusted.
            auto parsed = json::parse(text);
            if (parsed.value && parsed.value->is_object() && json::str_at(parsed.value->get_object(), "type") == "hint") {
                validation::Issues issues;
                auto block = domain::read_content_block(*parsed.value, bj::array{}, issues);
                if (block && block->value.is_object()) {
                    hints.push_back(std::move(block->value.get_object()));
                    continue;
                }
            }
            spdlog::warn("session {}: dropped an inbox entry that is not a hint block", session_id);
        }
        co_return hints;
    }

    void release_held_events() {
        for (const auto& e : held_events) publish(e);
        held_events.clear();
    }

    void notify(const bj::object& event) override {
        if (!held_events.empty())
            held_events.push_back(event);
        else
            publish(event);
    }

    asio::awaitable<void> checkpoint(std::vector<const bj::object*>& changed, bool replace_context) override {
        // The messages are borrowed: the run waits here until they are stored.
        storage::StepDelta delta;
        delta.context_upserts.reserve(changed.size());
        for (const auto* m : changed) delta.context_upserts.push_back(storage::MessageRef::borrowed(*m));
        delta.replace_context = replace_context;
        if (reply_log) delta.log_upserts.push_back(storage::MessageRef::borrowed(*reply_log));
        for (auto& m : pending_log_extra) delta.log_upserts.push_back(std::move(m));
        pending_log_extra.clear();
        delta.state = session.state;
        delta.tail_status = domain::derive_tail_status(context);
        // Everything a co_await expression touches is a named local: GCC 12 may
        // destroy temporaries inside co_await expressions twice.
        // What this step holds: every event published so far (the held ones go out after it).
        ReplayMark mark{last_published, open_reply_start};
        mark_step_storing(service->bus_, session_id);
        auto* storage = &service->storage_;
        auto job = [storage, &delta, this] { return storage->persist_step(user_id, session_id, delta); };
        const bool stored = co_await service->on_pool(job);
        if (stored) write_replay_mark(service->bus_, session_id, mark);
        if (!stored && !cancel->requested()) {
            // The session was deleted under the run (a DELETE waits for a run
            // only so long; an agent's delete may take a session created since
            // it cancelled the others): nothing more can be stored, so the run
            // stops here rather than go on calling the model and running tools.
            spdlog::warn("session {}: deleted during its run; the run stops", session_id);
            cancel->request();
        }
        release_held_events();
        renew_if_due();
    }

    void renew_if_due() {
        auto now = std::chrono::steady_clock::now();
        if (now - last_renewal < service->options_.lock_ttl / 3) return;
        last_renewal = now;
        if (!service->bus_.renew_lock(bus::session_lock_key(session_id), lock_token, service->options_.lock_ttl))
            spdlog::warn("session {}: run lock lost", session_id);
    }
};

ChatService::ChatService(storage::Storage& storage, bus::MessageBus& bus, asio::any_io_executor io,
                         asio::thread_pool& blocking, ModelFactory models, ToolkitFactory tools, ChatOptions options,
                         workspace::WorkspaceManager* workspaces, BackgroundTasks* background)
    : storage_(storage), bus_(bus), io_(std::move(io)), blocking_(blocking), models_(std::move(models)),
      tools_(std::move(tools)), options_(options), workspaces_(workspaces), background_(background) {}

ChatService::~ChatService() = default;


template <typename F>
asio::awaitable<std::invoke_result_t<F>> ChatService::on_pool(F& fn) {
    co_return co_await run_on(blocking_, fn);
}

bus::EntryId ChatService::publish(const std::string& session_id, const std::string& payload) {
    return bus_.append_and_publish(bus::session_events_key(session_id), payload, options_.log_max_len);
}

std::size_t ChatService::active_runs() {
    std::lock_guard lock(runs_mutex_);
    return runs_.size();
}

bool ChatService::runs_here(const std::string& session_id) {
    std::lock_guard lock(runs_mutex_);
    return runs_.contains(session_id);
}

bj::object ChatService::start(const std::string& user_id, const domain::ChatRequest& request) {
    return *launch(user_id, request, nullptr, false, true);
}

bool ChatService::start_triggered(const std::string& user_id, const domain::ChatRequest& request, bool wake,
                                  const bj::object* interrupt_event) {
    return launch(user_id, request, interrupt_event, wake).has_value();
}

bool ChatService::cancel_run(const std::string& session_id) {
    CancellationPtr cancel;
    {
        std::lock_guard lock(runs_mutex_);
        auto it = runs_.find(session_id);
        if (it == runs_.end()) return false;
        cancel = it->second;
    }
    cancel->request();
    return true;
}

ChatService::CrashRecovery ChatService::recover_crashed_run(const std::string& user_id, const std::string& session_id,
                                                           bj::array& context, const std::string& state_reply_id,
                                                           const std::string& agent_name) {
    CrashRecovery out;
    std::optional<RepairedTail> repaired = repair_context_tail(context);
    if (repaired) {
        out.delta.context_upserts.push_back(repaired->message);
        spdlog::warn("session {}: closed tool calls a crashed run left open", session_id);
    }
    // A parked reply (calls asking or submitted) only moves on the answer it
    // awaits, an interrupt, or a new message (which closes it first).
    out.parked = [&] {
        if (context.empty() || !context.back().is_object()) return false;
        const auto& tail = context.back().get_object();
        return json::str_at(tail, "role") == "assistant" && json::str_at(tail, "name") == agent_name &&
               !domain::awaiting_tool_calls(tail).empty();
    }();
    // A reply left without REPLY_END by a crash is marked interrupted in the
    // log. Whether it is parked is read from the context: the log copy of an
    // external call already holds the result block TOOL_RESULT_START opened.
    if (!out.parked && !state_reply_id.empty()) {  // a session's first run has no reply to look at
        // Decided on the reply's head (the reply may be long); read whole only
        // to mark it. Both reads are under the lock: nothing changes it between.
        auto head = storage_.get_message_without_content(user_id, session_id, state_reply_id);
        if (head && head->contains("finished_reason") && head->at("finished_reason").is_null() &&
            json::str_at(*head, "role") == "assistant") {
            if (auto last = storage_.get_message(user_id, session_id, state_reply_id)) {
                close_cut_tool_calls(*last);
                (*last)["finished_reason"] = "interrupted";
                (*last)["finished_at"] = (*last)["created_at"];
                out.delta.log_upserts.push_back(std::move(*last));
                out.closed_reply = state_reply_id;
            }
        }
    } else if (out.parked && repaired && !state_reply_id.empty()) {
        // A parked reply stays open; its copy in the log only loses the
        // approved calls the crash cut, closed as the context's were.
        if (auto last = storage_.get_message(user_id, session_id, state_reply_id)) {
            close_cut_tool_calls(*last, &repaired->closed);
            out.delta.log_upserts.push_back(std::move(*last));
        }
    }
    return out;
}

std::optional<bj::object> ChatService::launch(const std::string& user_id, const domain::ChatRequest& request,
                                              const bj::object* internal_event, bool wake, bool from_client) {
    const auto* messages = internal_event ? nullptr : std::get_if<domain::MessagesInput>(&request.input);
    std::optional<bj::object> continuation;
    if (internal_event) continuation = *internal_event;
    else if (const auto* c = std::get_if<domain::ConfirmResultInput>(&request.input)) continuation = c->event;
    else if (const auto* x = std::get_if<domain::ExternalResultInput>(&request.input)) continuation = x->event;
    auto ctx = std::make_shared<RunContext>();
    ctx->service = this;
    ctx->user_id = user_id;
    ctx->session_id = request.session_id;

    auto session = storage_.get_session(user_id, request.session_id, false);
    if (!session) throw Error::not_found(not_found_detail("Session", request.session_id));
    auto agent = storage_.get_agent(user_id, request.agent_id);
    if (!agent) throw Error::not_found(not_found_detail("Agent", request.agent_id));
    if (session->agent_id != request.agent_id)
        throw Error::not_found(not_found_detail("Session", request.session_id));
    // Closing a parked reply on an interrupt calls no model, so it needs neither
    // the model configuration nor its credentials: the user may have removed
    // them while the reply waited, and must still be able to stop it.
    ctx->closing_only = internal_event && ev::type_of(*internal_event) == ev::type::kUserInterrupt;
    const auto& chat_cfg = session->config.at("chat_model_config");
    if (!chat_cfg.is_object() && !ctx->closing_only)
        throw Error(std::vector<ValidationIssue>{ValidationIssue{
                        "value_error", bj::array{"body", "session_id"},
                        "Value error, No model configuration found for agent " + request.agent_id,
                        bj::value(request.session_id),
                        bj::object{{"error", bj::object{}}}}});
    auto credential_of = [&](const bj::value& cfg) {
        std::string cred_id(cfg.at("credential_id").as_string());
        auto cred = storage_.get_credential(user_id, cred_id);
        if (!cred) throw Error::not_found(not_found_detail("Credential", cred_id));
        return cred->data;
    };
    if (ctx->closing_only) {
        ctx->chat_model = std::make_unique<ClosingOnlyModel>();
    } else {
        ctx->chat_credential = credential_of(chat_cfg);
        // The provider class's window, as the reference builds its models
        // (spec/models.md, trap 6): a card's larger figure would put off
        // compaction past what many accounts accept.
        ctx->context_size = model::default_context_size(std::string(json::str_at(ctx->chat_credential, "type")));
        if (session->config.at("fallback_chat_model_config").is_object())
            ctx->fallback_credential = credential_of(session->config.at("fallback_chat_model_config"));
    }

    // A PATCH holds the lock for a few statements: that is waited out, not
    // answered 409. So is, briefly, the run that parked when an answer arrives
    // while it is still persisting and releasing the lock (a client can react to
    // REQUIRE_USER_CONFIRM within milliseconds); past that the answer is queued.
    // A run of this process holding it is answered at once: a client repeating
    // its message to a busy session must not keep a blocking-pool thread asleep
    // each time.
    const bool here = runs_here(request.session_id);
    const auto patience = continuation && from_client ? std::chrono::milliseconds(250)
                          : here                      ? std::chrono::milliseconds(0)
                                                      : std::chrono::milliseconds(50);
    auto token = bus::try_lock_briefly(bus_, bus::session_lock_key(request.session_id), options_.lock_ttl, patience);
    if (!token && continuation && from_client) {
        // A run still holds the session: a sibling call of the batch that asked
        // is running, or an approved call of the same reply. The answer is queued
        // as the reference queues every answer; the wake-up dispatcher starts it
        // (and checks it against the reply) once the session is free.
        inbox::enqueue_trigger(bus_, inbox::Trigger{user_id, request.session_id, request.agent_id, "resume",
                                                    bj::value(*continuation)});
        return bj::object{{"status", "started"}, {"session_id", request.session_id}};
    }
    if (!token)
        throw Error::conflict("Session " + py_repr(request.session_id) +
                              " already has an active chat run in this process.");
    ctx->lock_token = *token;
    // Cancellable from the moment the session is ours: an interrupt arriving
    // while the launch is still reading and storing finds the run, instead of a
    // lock that nobody in this process answers for.
    {
        std::lock_guard lock(runs_mutex_);
        runs_[request.session_id] = ctx->cancel;
    }
    const auto forget_run = [this, &ctx] {
        std::lock_guard lock(runs_mutex_);
        if (auto it = runs_.find(ctx->session_id); it != runs_.end() && it->second == ctx->cancel) runs_.erase(it);
    };
    try {
        // Everything from here on happens under the lock: reload what a previous
        // run may have changed, repair what a crashed one left, store the input.
        session = storage_.get_session(user_id, request.session_id, true);
        if (!session) throw Error::not_found(not_found_detail("Session", request.session_id));
        ctx->agent = *agent;
        ctx->context = session->context ? std::move(*session->context) : bj::array{};
        session->context.reset();
        ctx->session = std::move(*session);
        const std::string agent_name(json::str_at(ctx->agent.data, "name"));
        const std::string state_reply_id(json::str_at(ctx->session.state.reply_context, "reply_id"));
        CrashRecovery recovered = recover_crashed_run(user_id, request.session_id, ctx->context, state_reply_id, agent_name);
        storage::StepDelta recovery = std::move(recovered.delta);
        const bool parked = recovered.parked;
        if (continuation) {
            if (auto problem = agent::continuation_error(ctx->context, agent_name, *continuation))
                throw Error::conflict(*problem);
            auto event_reply = json::str_at(*continuation, "reply_id");
            if (ev::type_of(*continuation) != ev::type::kUserInterrupt && event_reply != state_reply_id)
                throw Error::conflict("Reply " + py_repr(std::string(event_reply)) + " is not awaiting a result.");
            ctx->continuation = std::move(continuation);
        } else if (wake && (parked || bus_.queue_length(inbox::inbox_key(request.session_id)) == 0)) {
            // Nothing to do now: a parked reply takes its inbox when it resumes,
            // and an empty inbox was drained by a run since the wake was queued.
            forget_run();
            bus_.unlock(bus::session_lock_key(request.session_id), ctx->lock_token);
            return std::nullopt;
        } else if (parked && !messages) {
            throw Error::conflict("Session " + py_repr(request.session_id) +
                                  " is waiting for a tool confirmation or an external execution result.");
        } else if (parked) {
            ctx->close_parked = true;
        }
        if (messages) ctx->inputs = messages->messages;
        ctx->strand = asio::make_strand(options_.run_executor ? options_.run_executor() : io_);
        if (!ctx->closing_only) make_chat_model(*ctx);
        if (workspaces_ && !ctx->setup_error) {
            // Got here, on the blocking pool, rather than by the run: a burst of
            // runs starting on the io threads would otherwise queue behind the
            // other sessions' launches for it.
            try {
                std::string workspace_id(json::str_at(ctx->session.config, "workspace_id"));
                ctx->workspace = workspaces_->get(user_id, ctx->agent.id, workspace_id);
            } catch (const std::exception& e) {
                spdlog::warn("session {}: workspace unavailable: {}", request.session_id, e.what());
                ctx->setup_error = std::current_exception();
            }
        }
        // The input is stored only once the run can start (spec: a setup failure
        // persists the error reply, not the messages that could not be answered).
        if (messages && !ctx->setup_error) {
            for (const auto& m : ctx->inputs)
                recovery.log_upserts.push_back(storage::MessageRef::borrowed(m.as_object()));
            if (ctx->chat_model)
                ctx->model_inputs = inputs_for_model(ctx->inputs, *ctx->chat_model, ctx->workspace.get(), request.session_id);
            if (!ctx->close_parked) {
                // The reply's start goes into the same step as its input: the run
                // reaches its first model call without another write (and without
                // waiting for the blocking pool behind other sessions' launches).
                ctx->opening = agent::ReactAgent::open_reply(ctx->session.state, ctx->context, ctx->context_inputs(),
                                                             request.session_id, agent_name);
                for (const auto& m : ctx->context_inputs())
                    recovery.context_upserts.push_back(storage::MessageRef::borrowed(m.as_object()));
                ctx->reply_log = domain::start_reply(ctx->opening->reply_start);
                recovery.log_upserts.push_back(storage::MessageRef::borrowed(*ctx->reply_log));
                recovery.state = ctx->session.state;
            }
        }
        recovery.tail_status = domain::derive_tail_status(ctx->context);
        if (!storage_.persist_step(user_id, request.session_id, recovery))
            throw Error::not_found(not_found_detail("Session", request.session_id));
        const std::string events_key = bus::session_events_key(request.session_id);
        bus_.persist_log(events_key);
        // What the session stores now holds every event in its log: a stream
        // opened without a cursor replays only what this run adds.
        ctx->last_published = bus_.last_log_id(events_key);
        write_replay_mark(bus_, request.session_id, ReplayMark{ctx->last_published, std::nullopt});
        // From here on this run drains the inbox; producers no longer wake the session.
        inbox::register_consumer(bus_, request.session_id);
    } catch (...) {
        forget_run();
        clear_replay_mark(bus_, request.session_id);
        bus_.unlock(bus::session_lock_key(request.session_id), ctx->lock_token);
        throw;
    }
    asio::co_spawn(ctx->strand, run(ctx), [sid = ctx->session_id](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            spdlog::error("session {}: run failed: {}", sid, ex.what());
        }
    });
    return bj::object{{"status", "started"}, {"session_id", request.session_id}};
}

void ChatService::make_chat_model(RunContext& ctx) {
    try {
        const auto& cfg = ctx.session.config.at("chat_model_config").as_object();
        std::unique_ptr<model::ChatModel> fallback;
        if (ctx.fallback_credential) {
            const auto& fcfg = ctx.session.config.at("fallback_chat_model_config").as_object();
            fallback = models_(ctx.strand, *ctx.fallback_credential, std::string(fcfg.at("model").as_string()),
                               fcfg.at("parameters").as_object(), nullptr);
        }
        ctx.chat_model = models_(ctx.strand, ctx.chat_credential, std::string(cfg.at("model").as_string()),
                                 cfg.at("parameters").as_object(), std::move(fallback));
    } catch (...) {
        ctx.setup_error = std::current_exception();
    }
}

asio::awaitable<void> ChatService::end_aborted_reply(RunContext& ctx, std::exception_ptr cause, bool in_setup) {
    // Something outside the reply's own steps failed: its tools or profile could
    // not be set up, or storing its end did. Clients still see the reply end;
    // what the store missed, the next run repairs as it does after a crash.
    if (ctx.opening && !ctx.reply_start_sent) ctx.emit(ctx.opening->reply_start);
    if (!ctx.reply_log || !json::str_at(*ctx.reply_log, "finished_reason").empty()) co_return;
    const std::string reply_id(json::str_at(*ctx.reply_log, "id"));
    ctx.emit(ev::reply_end(ctx.session_id, reply_id, "error", classify_error(cause, in_setup)));
    try {
        std::vector<const bj::object*> nothing;
        co_await ctx.checkpoint(nothing, false);
    } catch (const std::exception& e) {
        spdlog::error("session {}: the end of the aborted reply was not stored: {}", ctx.session_id, e.what());
    }
}

asio::awaitable<void> ChatService::run(std::shared_ptr<RunContext> ctx) {
    bool inbox_released = false;
    bool parked_at_end = false;
    // Until the agent is assembled (its tools and profile), a failure is one of
    // setting the session up, as the reference classifies it.
    bool assembled = false;
    std::exception_ptr aborted;
    try {
        std::unique_ptr<model::ChatModel> chat_model = std::move(ctx->chat_model);
        std::exception_ptr setup_error = ctx->setup_error;
        if (setup_error) {
            // Failure before a reply exists: a REPLY_START / REPLY_END(error) pair
            // named after the agent id, and the empty reply persisted.
            auto error = classify_error(setup_error, true);
            std::string reply_id = new_id();
            ctx->emit(ev::reply_start(ctx->session_id, reply_id, ctx->agent.id));
            ctx->emit(ev::reply_end(ctx->session_id, reply_id, "error", error));
            std::vector<const bj::object*> nothing;
            co_await ctx->checkpoint(nothing, false);
        } else {
            std::shared_ptr<workspace::Workspace> workspace = ctx->workspace;
            if (workspace) {
                // The workspace is a working directory of the session (accept_edits, dont_ask).
                permission::add_working_directory(ctx->session.state.permission_context, workspace->workdir(), "session");
            }
            agent::Toolkit toolkit;
            std::vector<std::shared_ptr<agent::Tool>> session_tools;
            std::optional<RunToolOffloader> offloader;
            if (background_) {
                session_tools.push_back(make_tool_stop(*background_, ctx->session_id));
                offloader.emplace(*background_, BackgroundTasks::Owner{ctx->user_id, ctx->session_id, ctx->agent.id},
                                  options_.tool_offload_timeout, workspace);
            }
            if (tools_) tools_(toolkit, workspace, session_tools);
            else for (auto& t : session_tools) toolkit.add(t);
            agent::AgentProfile profile;
            profile.name = std::string(json::str_at(ctx->agent.data, "name"));
            profile.system_prompt = std::string(json::str_at(ctx->agent.data, "system_prompt")) +
                                    "\n\n<system-notification>You're within a session (id=" + ctx->session_id +
                                    ").</system-notification>";
            // Then the workspace's own part (spec/runtime.md §4.4), as the reference joins them.
            if (workspace) profile.system_prompt += "\n" + workspace->instructions();
            const auto& react = ctx->agent.data.at("react_config").as_object();
            if (react.contains("max_iters") && react.at("max_iters").is_int64())
                profile.max_iters = react.at("max_iters").as_int64();
            profile.interruption_message = std::string(json::str_at(react, "interruption_message"));
            const auto& context_cfg = ctx->agent.data.at("context_config").as_object();
            if (context_cfg.contains("tool_result_limit") && context_cfg.at("tool_result_limit").is_int64())
                profile.tool_result_limit = context_cfg.at("tool_result_limit").as_int64();
            if (context_cfg.contains("max_image_num") && context_cfg.at("max_image_num").is_int64())
                profile.max_image_num = context_cfg.at("max_image_num").as_int64();
            profile.trigger_ratio = context_cfg.at("trigger_ratio").to_number<double>();
            profile.reserve_ratio = context_cfg.at("reserve_ratio").to_number<double>();
            profile.compression_prompt = std::string(json::str_at(context_cfg, "compression_prompt"));
            profile.summary_template = std::string(json::str_at(context_cfg, "summary_template"));
            if (context_cfg.contains("summary_schema") && context_cfg.at("summary_schema").is_object())
                profile.summary_schema = context_cfg.at("summary_schema").as_object();
            profile.context_size = ctx->context_size;
            std::optional<WorkspaceContextOffloader> context_files;
            if (workspace) context_files.emplace(workspace, ctx->session_id);
            agent::ReactAgent agent(profile, *chat_model, toolkit, ctx->session_id, ctx->session.state, ctx->context,
                                    *ctx, ctx->cancel);
            agent.set_workspace(workspace.get());
            if (offloader) agent.set_offloader(&*offloader);
            if (context_files) agent.set_context_offloader(&*context_files);
            assembled = true;
            std::exception_ptr failure;
            try {
                if (ctx->continuation || ctx->close_parked) {
                    // Case B: the stored reply is continued in place; clients get a
                    // REPLY_START with the reply id they already hold.
                    std::string reply_id(json::str_at(ctx->session.state.reply_context, "reply_id"));
                    auto* storage = &storage_;
                    auto load = [storage, &ctx, &reply_id] { return storage->get_message(ctx->user_id, ctx->session_id, reply_id); };
                    ctx->reply_log = co_await on_pool(load);
                    const auto type = ctx->continuation ? ev::type_of(*ctx->continuation) : ev::type::kUserInterrupt;
                    if (ctx->continuation && type != ev::type::kUserInterrupt) {
                        // The stored reply takes the answer in too (asking calls become
                        // allowed or finished), so an interrupt before an approved call
                        // starts cannot leave it asking on an ended reply.
                        if (ctx->reply_log) domain::append_event(*ctx->reply_log, *ctx->continuation);
                        ctx->publish(*ctx->continuation);
                    }
                    ctx->publish(ev::reply_start(ctx->session_id, reply_id, profile.name));
                    bj::object event = ctx->continuation ? *ctx->continuation : ev::user_interrupt(reply_id);
                    co_await agent.resume(event);
                }
                if (ctx->opening) co_await agent.reply_opened(*ctx->opening);
                else if (!ctx->continuation) co_await agent.reply(ctx->context_inputs());
                // What reached the inbox after the reply's last drain is this
                // run's to handle: no producer woke the session meanwhile.
                // A closing-only run has no model: what waits in the inbox wakes the
                // session once it lets go (the hand-back below), as a normal run.
                while (!ctx->closing_only && !ctx->cancel->requested() && !agent.parked()) {
                    // Uncontended, this is a few bus operations: done here, without a
                    // trip through the blocking pool. Only a held inbox lock (a
                    // producer delivering right now) is waited for there.
                    auto* bus = &bus_;
                    std::optional<bool> pending = inbox::try_pending_or_release(*bus, ctx->session_id);
                    if (!pending) {
                        auto check = [bus, &ctx] { return inbox::pending_or_release(*bus, ctx->session_id); };
                        pending = co_await on_pool(check);
                    }
                    if (!*pending) {
                        inbox_released = true;
                        break;
                    }
                    const bj::array no_input;
                    co_await agent.reply(no_input);
                }
            } catch (const std::exception& e) {
                spdlog::warn("session {}: reply failed: {}", ctx->session_id, e.what());
                failure = std::current_exception();
            }
            parked_at_end = agent.parked();
            if (failure) {
                auto error = classify_error(failure, false);
                if (!ctx->reply_log || json::str_at(*ctx->reply_log, "finished_reason").empty())
                    ctx->emit(ev::reply_end(ctx->session_id, agent.reply_id(), "error", error));
                std::vector<const bj::object*> nothing;
                co_await ctx->checkpoint(nothing, false);
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("session {}: run aborted: {}", ctx->session_id, e.what());
        aborted = std::current_exception();
    }
    if (aborted) co_await end_aborted_reply(*ctx, aborted, !assembled);
    if (!inbox_released) {
        // Interrupted, failed or parked: hand the inbox back. Payloads that wait
        // wake the session, unless the reply is parked (it drains them on resume).
        auto* bus = &bus_;
        auto hand_back = [bus, &ctx, parked_at_end] {
            if (parked_at_end) inbox::release(*bus, ctx->session_id);
            else inbox::abandon_consumer(*bus, ctx->user_id, ctx->session_id, ctx->agent.id);
        };
        try {
            co_await on_pool(hand_back);
        } catch (const std::exception& e) {
            spdlog::error("session {}: inbox hand-back failed: {}", ctx->session_id, e.what());
        }
    }
    ctx->release_held_events();
    finish_run(ctx->session_id, ctx->lock_token);
}

void ChatService::finish_run(const std::string& session_id, const std::string& lock_token) {
    bus_.expire_log(bus::session_events_key(session_id), options_.log_retention);
    clear_replay_mark(bus_, session_id);
    {
        std::lock_guard lock(runs_mutex_);
        runs_.erase(session_id);
    }
    bus_.unlock(bus::session_lock_key(session_id), lock_token);
}

bj::object ChatService::interrupt(const std::string& user_id, const std::string& session_id) {
    if (!storage_.get_session(user_id, session_id, false))
        throw Error::not_found(not_found_detail("Session", session_id));
    CancellationPtr cancel;
    {
        std::lock_guard lock(runs_mutex_);
        auto it = runs_.find(session_id);
        if (it != runs_.end()) cancel = it->second;
    }
    if (cancel) {
        cancel->request();
        return bj::object{{"session_id", session_id}};
    }
    const std::string lock_key = bus::session_lock_key(session_id);
    if (bus_.is_locked(lock_key)) {
        // The owning process's cancel dispatcher cancels it.
        bus_.broadcast(bus::kSessionInterruptChannel,
                       json::write(bj::object{{"session_id", session_id}}, json::Style::kPython));
        // Or the holder is a PATCH, for a few statements: once it is gone, a
        // parked reply is closed below as if the lock had been free.
        if (!bus::wait_unlocked(bus_, lock_key)) return bj::object{{"session_id", session_id}};
    }
    auto session = storage_.get_session(user_id, session_id, true);
    if (session && session->tail_status == "idle") {
        // Nothing runs and nothing awaits, but a run that died mid-reply may
        // have left it unfinished: closed now, as the next run would, so that
        // Stop ends what the client still shows in progress.
        close_crashed_reply(user_id, *session);
    } else if (session) {
        // Parked: a short run closes the awaiting calls as interrupted. An idle
        // session has nothing to interrupt, and unlike the reference no stray
        // continuation REPLY_START is published for it.
        domain::ChatRequest request;
        request.agent_id = session->agent_id;
        request.session_id = session_id;
        std::string reply_id(json::str_at(session->state.reply_context, "reply_id"));
        const bj::object event = ev::user_interrupt(reply_id);
        try {
            launch(user_id, request, &event);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::kConflict) throw;  // raced with another run: it owns the session now
        }
    }
    return bj::object{{"session_id", session_id}};
}

void ChatService::close_crashed_reply(const std::string& user_id, domain::SessionRecord& session) {
    const std::string reply_id(json::str_at(session.state.reply_context, "reply_id"));
    if (reply_id.empty()) return;
    auto head = storage_.get_message_without_content(user_id, session.id, reply_id);
    if (!head || !head->contains("finished_reason") || !head->at("finished_reason").is_null()) return;
    const std::string lock_key = bus::session_lock_key(session.id);
    auto token = bus::try_lock_briefly(bus_, lock_key, options_.lock_ttl, std::chrono::milliseconds(50));
    if (!token) return;  // a run took the session: it repairs what it finds
    const bus::HeldLock held(bus_, lock_key, *token);
    // Read again under the lock: a run may have ended or started meanwhile.
    auto fresh = storage_.get_session(user_id, session.id, true);
    if (!fresh) return;
    bj::array context = fresh->context ? std::move(*fresh->context) : bj::array{};
    const std::string fresh_reply(json::str_at(fresh->state.reply_context, "reply_id"));
    auto agent = storage_.get_agent(user_id, fresh->agent_id);
    const std::string agent_name(agent ? json::str_at(agent->data, "name") : std::string_view());
    CrashRecovery recovered = recover_crashed_run(user_id, session.id, context, fresh_reply, agent_name);
    if (recovered.closed_reply.empty()) return;
    recovered.delta.tail_status = domain::derive_tail_status(context);
    if (!storage_.persist_step(user_id, session.id, recovered.delta)) return;
    publish(session.id, json::write(ev::reply_end(session.id, recovered.closed_reply, "interrupted"), json::Style::kPython));
}

std::shared_ptr<http::StreamBody> ChatService::stream(const std::string& session_id,
                                                      std::optional<bus::EntryId> resume_after) {
    return std::make_shared<SessionEventStream>(bus_, session_id, resume_after, options_.heartbeat);
}

void ChatService::cancel_all() {
    std::lock_guard lock(runs_mutex_);
    for (auto& [sid, cancel] : runs_) cancel->request();
}

}  // namespace agentd::service
