#include "service/run_dispatchers.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"
#include "common/run_on.hpp"
#include "domain/chat_input.hpp"
#include "domain/event.hpp"
#include "domain/message.hpp"
#include "service/inbox.hpp"

namespace agentd::service {

namespace asio = boost::asio;
namespace ev = domain::event;

namespace {

std::string field(const bj::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

RunDispatchers::RunDispatchers(bus::MessageBus& bus, storage::Storage& storage, ChatService& chat,
                               BackgroundTasks& tasks, asio::any_io_executor io, asio::any_io_executor blocking)
    : bus_(bus), storage_(storage), chat_(chat), tasks_(tasks), strand_(asio::make_strand(io)),
      blocking_(std::move(blocking)) {}

RunDispatchers::~RunDispatchers() = default;

void RunDispatchers::start() {
    // Every subscription is live before this returns: a trigger queued or a
    // cancel broadcast afterwards is not missed.
    for (const std::string* channel :
         {&inbox::kWakeupSignal, &kSessionCancelChannel, &bus::kSessionInterruptChannel, &kTaskCancelChannel}) {
        channels_.push_back(*channel);
        subs_.push_back(bus_.subscribe(*channel, strand_));
    }
    active_ = static_cast<int>(subs_.size());
    for (std::size_t slot = 0; slot < subs_.size(); ++slot) asio::co_spawn(strand_, listen(slot), asio::detached);
}

void RunDispatchers::stop() {
    if (stopping_.exchange(true)) return;
    asio::post(strand_, [this] {
        for (const auto& s : subs_) s->cancel();
    });
}

asio::awaitable<void> RunDispatchers::listen(std::size_t slot) {
    const std::string channel = channels_[slot];
    const bool wakeups = channel == inbox::kWakeupSignal;
    try {
        if (wakeups) co_await drain();  // what was queued while no process listened
        while (!stopping_) {
            auto next = co_await subs_[slot]->next(std::chrono::seconds(30));
            if (next.status == bus::Subscription::Status::kTimeout) continue;
            if (next.status == bus::Subscription::Status::kClosed) {
                if (stopping_) break;
                // Dropped for falling behind: listen again, and look at the
                // queue, which is what the lost nudges pointed at.
                spdlog::warn("dispatcher on {} fell behind; subscribing again", channel);
                subs_[slot] = bus_.subscribe(channel, strand_);
                if (wakeups) co_await drain();
                continue;
            }
            if (wakeups) co_await drain();
            else on_cancel_signal(channel, next.message.payload);
        }
    } catch (const std::exception& e) {
        spdlog::error("dispatcher on {} stopped: {}", channel, e.what());
    }
    --active_;
}

asio::awaitable<void> RunDispatchers::drain() {
    std::vector<std::string> entries;
    while (entries.size() < kTriggerBatch) {
        auto entry = bus_.queue_pop(inbox::kWakeupQueue);
        if (!entry) break;
        entries.push_back(std::move(*entry));
    }
    for (auto& raw : entries) {
        if (stopping_) {
            bus_.queue_push(inbox::kWakeupQueue, raw);  // another process, or the next start, takes it
            continue;
        }
        auto job = [this, &raw] { return dispatch(raw); };
        Dispatch result = Dispatch::kDone;
        try {
            result = co_await run_on(blocking_, job);
        } catch (const std::exception& e) {
            spdlog::error("wake-up dispatcher: a trigger failed: {}", e.what());
        }
        if (result == Dispatch::kRetry) asio::co_spawn(strand_, retry_later(std::move(raw)), asio::detached);
    }
}

asio::awaitable<void> RunDispatchers::retry_later(std::string raw) {
    asio::steady_timer timer(strand_, kTriggerRetry);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
    // Queued again and nudged, as any trigger: whichever process is free takes it.
    bus_.queue_push(inbox::kWakeupQueue, raw);
    bus_.broadcast(inbox::kWakeupSignal, "{}");
}

RunDispatchers::Dispatch RunDispatchers::dispatch(const std::string& raw) {
    auto parsed = json::parse(raw);
    if (!parsed.value || !parsed.value->is_object()) {
        spdlog::warn("wake-up dispatcher: skipped a malformed trigger");
        return Dispatch::kDone;
    }
    const auto& entry = parsed.value->get_object();
    domain::ChatRequest request;
    const std::string user_id = field(entry, "user_id");
    request.session_id = field(entry, "session_id");
    request.agent_id = field(entry, "agent_id");
    if (user_id.empty() || request.session_id.empty() || request.agent_id.empty()) {
        spdlog::warn("wake-up dispatcher: skipped a trigger without user, session or agent");
        return Dispatch::kDone;
    }
    std::string kind = field(entry, "kind");
    if (kind.empty()) kind = "wake";
    const bj::value* input = entry.if_contains("input");
    const bool carries_input = kind == "resume" || kind == "message";
    if (!carries_input && kind != "wake") {
        spdlog::warn("session {}: skipped a trigger of unknown kind '{}'", request.session_id, kind);
        return Dispatch::kDone;
    }
    std::optional<bj::object> interrupt_event;
    if (carries_input) {
        if (!input || input->is_null()) {
            spdlog::warn("session {}: dropped a {} trigger without input", request.session_id, kind);
            return Dispatch::kDone;
        }
        validation::Issues issues;
        if (kind == "resume") {
            auto event = ev::parse_event(*input, bj::array{"input"}, issues);
            if (event && ev::type_of(*event) == ev::type::kUserInterrupt) interrupt_event = std::move(*event);
            else if (event && ev::type_of(*event) == ev::type::kUserConfirmResult)
                request.input = domain::ConfirmResultInput{std::move(*event)};
            else if (event) request.input = domain::ExternalResultInput{std::move(*event)};
            else {
                spdlog::warn("session {}: dropped a resume trigger whose input is no continuation event",
                             request.session_id);
                return Dispatch::kDone;
            }
        } else {
            const bj::value body = bj::object{{"agent_id", request.agent_id}, {"session_id", request.session_id},
                                              {"input", *input}};
            auto parsed_request = domain::parse_chat_request(body, issues);
            if (!parsed_request || !std::holds_alternative<domain::MessagesInput>(parsed_request->input)) {
                spdlog::warn("session {}: dropped a message trigger whose input is no message", request.session_id);
                return Dispatch::kDone;
            }
            request.input = std::move(parsed_request->input);
        }
    }
    const std::string lock_key = bus::session_lock_key(request.session_id);
    if (bus_.is_locked(lock_key)) return Dispatch::kRetry;
    auto session = storage_.get_session(user_id, request.session_id, false);
    if (!session || session->agent_id != request.agent_id) {
        // Queued before the session was deleted: whoever watches its stream learns why nothing happens.
        const bj::object end = ev::reply_end(request.session_id, "", "error",
                                             domain::error_info("internal", "Session no longer exists."));
        bus_.append_and_publish(bus::session_events_key(request.session_id), json::write(end, json::Style::kPython),
                                1000);
        spdlog::warn("session {}: dropped a {} trigger for a session that no longer exists", request.session_id, kind);
        return Dispatch::kDone;
    }
    try {
        bool started = chat_.start_triggered(user_id, request, kind == "wake",
                                             interrupt_event ? &*interrupt_event : nullptr);
        if (!started) spdlog::info("session {}: wake-up with nothing to do", request.session_id);
    } catch (const Error& e) {
        // Busy again (another run took the session meanwhile): try later. A
        // conflict with the session's state (nothing awaits this result) stays one.
        if (e.code() == ErrorCode::kConflict && bus_.is_locked(lock_key)) return Dispatch::kRetry;
        spdlog::warn("session {}: a {} trigger could not start a run: {}", request.session_id, kind, e.what());
    }
    return Dispatch::kDone;
}

void RunDispatchers::on_cancel_signal(const std::string& channel, const std::string& payload) {
    auto parsed = json::parse(payload);
    if (!parsed.value || !parsed.value->is_object()) return;
    const auto& body = parsed.value->get_object();
    if (channel == kTaskCancelChannel) {
        std::string task_id = field(body, "task_id");
        if (!task_id.empty()) tasks_.cancel(task_id);
        return;
    }
    std::string session_id = field(body, "session_id");
    if (session_id.empty()) return;
    chat_.cancel_run(session_id);
    if (channel == kSessionCancelChannel) tasks_.cancel_session(session_id);
}

}  // namespace agentd::service
