// Chat-runtime micro benchmark: the service's own time per agent step.
//
// One 20-step tool-calling turn (19 rounds of debug_echo + a final text answer)
// runs through the real agentd::agent::ReactAgent with the real debug tools. The
// model is an in-process script (no HTTP, no provider formatting: that cost is
// measured end to end by bench/runtime/run.sh), and the ReplySink does what the
// chat service's RunContext does (service/chat_service.cpp):
//   emit()       folds the event into the message-log copy of the reply,
//                serialises it with json::write(event, Style::kPython) and appends
//                it to a MemoryBus log + live channel;
//   checkpoint() builds the StepDelta (the changed context messages and the reply's
//                log copy, both borrowed; the state, the tail status) and runs
//                SqliteStorage::persist_step on a blocking thread pool, resuming on
//                the run's strand.
// The SQLite file is real (WAL, synchronous=NORMAL, as agentd opens it) in a
// temporary folder.
//
// Benchmark AgentTurn/history:N seeds the session with N prior messages (context
// table and message log, through Storage::persist_step), loads them back with
// get_session(with_context) as ChatService::start does, then times whole turns.
// Benchmark AgentTurnLargeResults/result_kb:K runs the same turn on the 10-message
// session with K KB more in every echo text.
// Counters (per step = turn / 20):
//   step_us        mean service time per step (the whole turn / 20)
//   step_p50_us, step_p99_us   per-turn percentiles, divided by 20
//   persist_us     time per step inside checkpoint() (persist_step + pool hop)
//   emit_us        time per step inside emit() (fold + serialise + bus append)
//   checkpoints, events, event_bytes   per turn
//   load_ms        one get_session(with_context) of the seeded session
// The profile uses a 1,000,000-token context window (a catalogued 1M model) so
// that 10,000 messages of history do not trigger compaction: the turn is the same
// turn at both sizes.
//
// Build: target agentd_runtime_bench (bench/runtime/*.cpp + agentd_lib + benchmark).
// Run:   agentd_runtime_bench --benchmark_min_time=2 --benchmark_out=r.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "agent/react_agent.hpp"
#include "agent/toolkit.hpp"
#include "bus/memory/memory_bus.hpp"
#include "bus/message_bus.hpp"
#include "common/cancellation.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/secret_box.hpp"
#include "common/validation.hpp"
#include "domain/agent.hpp"
#include "domain/event.hpp"
#include "domain/message.hpp"
#include "domain/reply_builder.hpp"
#include "domain/session.hpp"
#include "model/chat_model.hpp"
#include "service/inbox.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/storage.hpp"
#include "tool/debug_tools.hpp"

namespace {

namespace asio = boost::asio;
namespace bj = boost::json;
namespace fs = std::filesystem;
namespace ev = agentd::domain::event;
using Clock = std::chrono::steady_clock;

constexpr int kSteps = 20;                 // model calls per turn: 19 tool rounds + the answer
constexpr const char* kUser = "bench";
constexpr std::int64_t kContextWindow = 1'000'000;
constexpr std::size_t kLogMaxLen = 1000;   // ChatOptions::log_max_len
constexpr std::size_t kBlockingThreads = 4;  // agentd's blocking pool on 2 cores: max(4, 2 * io threads)

double us_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// ---- the model ------------------------------------------------------------------------

/// Replays canned responses; streams each as one chunk (as a provider whose whole
/// answer arrives in one frame would).
class ScriptedModel final : public agentd::model::ChatModel {
public:
    explicit ScriptedModel(std::vector<agentd::model::ModelResponse> script) : script_(std::move(script)) {}
    const std::string& model_name() const override { return name_; }
    asio::awaitable<agentd::model::ModelResponse> call(const agentd::model::ChatRequest& request,
                                                       const agentd::model::ChunkSink& on_chunk,
                                                       agentd::CancellationPtr cancel) override {
        if (next_ >= script_.size()) throw agentd::model::ModelError(500, false, "bench script exhausted");
        agentd::model::ModelResponse r = script_[next_++];
        agentd::model::ModelChunk chunk;
        for (const auto& b : r.content) {
            const auto& o = b.as_object();
            if (o.at("type") == "text") chunk.text += o.at("text").as_string();
            if (o.at("type") == "tool_call")
                chunk.tool_calls.push_back({std::string(o.at("id").as_string()), std::string(o.at("name").as_string()),
                                            std::string(o.at("input").as_string())});
        }
        chunk.usage = r.usage;
        if (!request.structured_schema) on_chunk(chunk);
        co_return r;
    }
    std::size_t calls() const { return next_; }

private:
    std::string name_ = "bench-scripted";
    std::vector<agentd::model::ModelResponse> script_;
    std::size_t next_ = 0;
};

/// `pad_bytes`: added to each echo text, so that every step adds that much twice (the call's
/// input and the echoed result) to the reply (BM_AgentTurnLargeResults).
std::vector<agentd::model::ModelResponse> turn_script(std::int64_t turn, std::size_t pad_bytes) {
    std::vector<agentd::model::ModelResponse> out;
    for (int i = 0; i + 1 < kSteps; ++i) {
        agentd::model::ModelResponse r;
        std::string id = "call_t" + std::to_string(turn) + "_" + std::to_string(i);
        std::string input = "{\"text\": \"step " + std::to_string(i) +
                            ": the quick brown fox jumps over the lazy dog, twice over." + std::string(pad_bytes, '.') +
                            "\"}";
        r.content.push_back(bj::object{{"type", "tool_call"}, {"id", id}, {"name", "debug_echo"}, {"input", input}});
        r.usage.input_tokens = 1200 + 40 * i;
        r.usage.output_tokens = 24;
        out.push_back(std::move(r));
    }
    agentd::model::ModelResponse last;
    last.content.push_back(bj::object{{"type", "text"}, {"text", "All nineteen echoes came back; the bench turn is done."}});
    last.usage.input_tokens = 2000;
    last.usage.output_tokens = 14;
    out.push_back(std::move(last));
    return out;
}

// ---- the sink: ChatService::RunContext without the lock renewal -------------------------

// A plain coroutine function, not a capturing coroutine lambda (GCC 12), as in chat_service.cpp.
template <typename F>
asio::awaitable<std::invoke_result_t<F>> invoke_as_coroutine(F* fn) {
    co_return (*fn)();
}

template <typename F>
asio::awaitable<std::invoke_result_t<F>> on_pool(asio::thread_pool& pool, F& fn) {
    co_return co_await asio::co_spawn(pool, invoke_as_coroutine(&fn), asio::use_awaitable);
}

struct Stats {
    double emit_us = 0;
    double persist_us = 0;
    std::int64_t events = 0;
    std::int64_t event_bytes = 0;
    std::int64_t checkpoints = 0;
    bool persist_failed = false;
    std::string last_type;
    std::string last_reason;
};

class BenchSink final : public agentd::agent::ReplySink {
public:
    BenchSink(agentd::storage::Storage& storage, agentd::bus::MessageBus& bus, asio::thread_pool& pool,
              std::string session_id, agentd::domain::SessionState& state, bj::array& context, Stats& stats)
        : storage_(storage), bus_(bus), pool_(pool), session_id_(std::move(session_id)),
          events_key_(agentd::bus::session_events_key(session_id_)), state_(state), context_(context), stats_(stats) {}

    void emit(const bj::object& event) override {
        auto t0 = Clock::now();
        auto type = ev::type_of(event);
        if (type == ev::type::kReplyStart) reply_log_ = agentd::domain::start_reply(event);
        else if (reply_log_) agentd::domain::append_event(*reply_log_, event);
        std::string payload = agentd::json::write(event, agentd::json::Style::kPython);
        bus_.append_and_publish(events_key_, payload, kLogMaxLen);
        stats_.emit_us += us_since(t0);
        ++stats_.events;
        stats_.event_bytes += static_cast<std::int64_t>(payload.size());
        stats_.last_type = std::string(type);
        auto it = event.find("finished_reason");
        stats_.last_reason = (it != event.end() && it->value().is_string()) ? std::string(it->value().get_string()) : "";
    }

    // As the run does before every reasoning step (an empty inbox here).
    asio::awaitable<std::vector<bj::object>> drain_inbox() override {
        auto t0 = Clock::now();
        (void)agentd::service::inbox::take(bus_, session_id_);
        stats_.emit_us += us_since(t0);
        co_return std::vector<bj::object>{};
    }

    asio::awaitable<void> checkpoint(std::vector<const bj::object*>& changed, bool replace_context) override {
        auto t0 = Clock::now();
        agentd::storage::StepDelta delta;
        for (const auto* m : changed) delta.context_upserts.push_back(agentd::storage::MessageRef::borrowed(*m));
        delta.replace_context = replace_context;
        if (reply_log_) delta.log_upserts.push_back(agentd::storage::MessageRef::borrowed(*reply_log_));
        delta.state = state_;
        delta.tail_status = agentd::domain::derive_tail_status(context_);
        auto* storage = &storage_;
        const std::string* user = &user_id_;
        const std::string* sid = &session_id_;
        auto job = [storage, user, sid, &delta] { return storage->persist_step(*user, *sid, delta); };
        bool ok = co_await on_pool(pool_, job);
        if (!ok) stats_.persist_failed = true;
        stats_.persist_us += us_since(t0);
        ++stats_.checkpoints;
    }

private:
    agentd::storage::Storage& storage_;
    agentd::bus::MessageBus& bus_;
    asio::thread_pool& pool_;
    std::string user_id_ = kUser;
    std::string session_id_;
    std::string events_key_;
    agentd::domain::SessionState& state_;
    bj::array& context_;
    Stats& stats_;
    std::optional<bj::object> reply_log_;
};

// ---- one seeded session per history size ----------------------------------------------

agentd::SecretBox bench_secret_box() {
    std::array<unsigned char, agentd::SecretBox::kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 13 + 5);
    return agentd::SecretBox(key);
}

/// About 200 bytes of prose (~50 tokens): a realistic chat message.
std::string history_text(std::int64_t i) {
    return "Message " + std::to_string(i) +
           " of the seeded history: the user and the assistant discussed the deployment plan, the "
           "database migration and the rollout window; nothing here needs a tool.";
}

struct Fixture {
    fs::path dir;
    std::unique_ptr<agentd::storage::sqlite::SqliteStorage> storage;
    agentd::bus::MemoryBus bus;
    asio::thread_pool pool{kBlockingThreads};
    asio::io_context io;
    std::string session_id;
    agentd::domain::SessionState seed_state;
    bj::array seed_context;
    agentd::agent::AgentProfile profile;
    agentd::agent::Toolkit toolkit;
    double load_ms = 0;
    std::int64_t turns = 0;

    explicit Fixture(std::int64_t history) {
        dir = fs::temp_directory_path() / ("agentd-runtime-bench-" + agentd::new_id());
        fs::create_directories(dir);
        storage = std::make_unique<agentd::storage::sqlite::SqliteStorage>(dir / "agentd.db", bench_secret_box(),
                                                                            kBlockingThreads);
        storage->migrate();

        // The agent as POST /agent/ {"name": "bench"} creates it.
        agentd::validation::Issues issues;
        bj::value body = bj::object{{"name", "bench"}};
        bj::object data = agentd::domain::agent_data_from_create(body, issues);
        if (!issues.empty()) throw std::runtime_error("agent_data_from_create reported issues");
        agentd::domain::AgentRecord agent;
        agent.id = std::string(data.at("id").as_string());
        agent.user_id = kUser;
        agent.created_us = agent.updated_us = agentd::clock::now_us();
        agent.data = data;
        storage->insert_agent(agent);

        agentd::domain::SessionRecord session;
        session.id = agentd::new_id();
        session.user_id = kUser;
        session.agent_id = agent.id;
        session.created_us = session.updated_us = agentd::clock::now_us();
        session.config = bj::object{{"workspace_id", "bench"}, {"name", "bench"}, {"cwd", nullptr}};
        session.state = agentd::domain::SessionState::fresh();
        if (!storage->insert_session(session)) throw std::runtime_error("insert_session failed");
        session_id = session.id;

        // Prior history, through the storage API: context rows and the message log.
        agentd::storage::StepDelta seed;
        for (std::int64_t i = 0; i < history; ++i) {
            std::string text = history_text(i);
            bj::object msg = (i % 2 == 0)
                                 ? agentd::domain::user_msg("user", std::string_view(text))
                                 : agentd::domain::assistant_msg("bench", bj::array{agentd::domain::text_block(text)});
            seed.context_upserts.push_back(msg);
            seed.log_upserts.push_back(std::move(msg));
        }
        seed.tail_status = "idle";
        if (!storage->persist_step(kUser, session_id, seed)) throw std::runtime_error("seeding persist_step failed");

        // Loaded back as ChatService::start loads it.
        auto t0 = Clock::now();
        auto loaded = storage->get_session(kUser, session_id, true);
        load_ms = us_since(t0) / 1000.0;
        if (!loaded || !loaded->context) throw std::runtime_error("get_session(with_context) returned nothing");
        if (static_cast<std::int64_t>(loaded->context->size()) != history)
            throw std::runtime_error("loaded context has " + std::to_string(loaded->context->size()) +
                                     " messages, seeded " + std::to_string(history));
        seed_context = std::move(*loaded->context);
        seed_state = loaded->state;

        // The profile as ChatService::run builds it from the agent's data.
        profile.name = "bench";
        profile.system_prompt = std::string(data.at("system_prompt").as_string()) +
                                "\n\n<system-notification>You're within a session (id=" + session_id +
                                ").</system-notification>";
        const auto& react = data.at("react_config").as_object();
        if (react.contains("max_iters") && react.at("max_iters").is_int64())
            profile.max_iters = react.at("max_iters").as_int64();
        if (react.contains("interruption_message") && react.at("interruption_message").is_string())
            profile.interruption_message = std::string(react.at("interruption_message").as_string());
        const auto& cc = data.at("context_config").as_object();
        if (cc.contains("tool_result_limit") && cc.at("tool_result_limit").is_int64())
            profile.tool_result_limit = cc.at("tool_result_limit").as_int64();
        profile.trigger_ratio = cc.at("trigger_ratio").to_number<double>();
        profile.reserve_ratio = cc.at("reserve_ratio").to_number<double>();
        profile.compression_prompt = std::string(cc.at("compression_prompt").as_string());
        profile.summary_template = std::string(cc.at("summary_template").as_string());
        if (cc.contains("summary_schema") && cc.at("summary_schema").is_object())
            profile.summary_schema = cc.at("summary_schema").as_object();
        profile.context_size = kContextWindow;

        agentd::tool::add_debug_tools(toolkit);

        // One untimed turn first: a session with this much history got there
        // through runs, and they left their context scan in the state
        // (ReactAgent::store_context_scan), so a run reads only what is new.
        Stats warm;
        ScriptedModel model(turn_script(turns++, 0));
        BenchSink sink(*storage, bus, pool, session_id, seed_state, seed_context, warm);
        auto cancel = std::make_shared<agentd::Cancellation>();
        agentd::agent::ReactAgent warm_agent(profile, model, toolkit, session_id, seed_state, seed_context, sink, cancel);
        bj::array inputs{agentd::domain::user_msg("user", std::string_view("Warm the session up."))};
        auto guard = asio::make_work_guard(io);
        std::exception_ptr error;
        asio::co_spawn(asio::make_strand(io), warm_agent.reply(inputs), [&error, &guard](std::exception_ptr e) {
            error = e;
            guard.reset();
        });
        io.run();
        io.restart();
        if (error) std::rethrow_exception(error);
    }

    ~Fixture() {
        pool.join();
        storage.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::map<std::int64_t, std::unique_ptr<Fixture>>& fixtures() {
    static std::map<std::int64_t, std::unique_ptr<Fixture>> all;
    return all;
}

Fixture& fixture(std::int64_t history) {
    auto& f = fixtures()[history];
    if (!f) f = std::make_unique<Fixture>(history);
    return *f;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
}

void run_agent_turns(benchmark::State& state, std::int64_t history, std::size_t pad_bytes) {
    Fixture* fx = nullptr;
    try {
        fx = &fixture(history);
    } catch (const std::exception& e) {
        state.SkipWithError((std::string("setup failed: ") + e.what()).c_str());
        return;
    }
    Stats stats;
    std::vector<double> turn_us;
    std::string failure;
    for (auto _ : state) {
        // Untimed: a fresh copy of the loaded session, the scripted model, the input.
        bj::array context = fx->seed_context;
        agentd::domain::SessionState st = fx->seed_state;
        ScriptedModel model(turn_script(fx->turns++, pad_bytes));
        BenchSink sink(*fx->storage, fx->bus, fx->pool, fx->session_id, st, context, stats);
        auto cancel = std::make_shared<agentd::Cancellation>();
        agentd::agent::ReactAgent agent(fx->profile, model, fx->toolkit, fx->session_id, st, context, sink, cancel);
        bj::array inputs{agentd::domain::user_msg("user", std::string_view("Run the twenty-step bench turn."))};
        std::exception_ptr error;

        // The guard keeps run() going while a checkpoint is away on the blocking pool.
        auto guard = asio::make_work_guard(fx->io);
        auto t0 = Clock::now();
        asio::co_spawn(asio::make_strand(fx->io), agent.reply(inputs), [&error, &guard](std::exception_ptr e) {
            error = e;
            guard.reset();
        });
        fx->io.run();
        double us = us_since(t0);
        fx->io.restart();

        state.SetIterationTime(us / 1e6);
        turn_us.push_back(us);
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                failure = std::string("turn failed: ") + e.what();
            } catch (...) {
                failure = "turn failed";
            }
        } else if (model.calls() != static_cast<std::size_t>(kSteps)) {
            failure = "the model was called " + std::to_string(model.calls()) + " times, expected " +
                      std::to_string(kSteps);
        } else if (stats.last_type != "REPLY_END" || stats.last_reason != "completed") {
            failure = "the turn ended with " + stats.last_type + " (" + stats.last_reason + ")";
        } else if (stats.persist_failed) {
            failure = "persist_step returned false";
        } else if (context.size() != fx->seed_context.size() + 2) {
            // The input and the reply are appended; anything else means compaction ran.
            failure = "the context has " + std::to_string(context.size()) + " messages after the turn, expected " +
                      std::to_string(fx->seed_context.size() + 2);
        }
        if (!failure.empty()) {
            state.SkipWithError(failure.c_str());
            break;
        }
    }
    if (!failure.empty() || turn_us.empty()) return;
    const double n = static_cast<double>(turn_us.size());
    double total = 0;
    for (double t : turn_us) total += t;
    state.counters["history"] = static_cast<double>(history);
    state.counters["turns"] = n;
    state.counters["step_us"] = total / n / kSteps;
    state.counters["step_p50_us"] = percentile(turn_us, 0.50) / kSteps;
    state.counters["step_p99_us"] = percentile(turn_us, 0.99) / kSteps;
    state.counters["persist_us"] = stats.persist_us / n / kSteps;
    state.counters["emit_us"] = stats.emit_us / n / kSteps;
    state.counters["checkpoints"] = static_cast<double>(stats.checkpoints) / n;
    state.counters["events"] = static_cast<double>(stats.events) / n;
    state.counters["event_bytes"] = static_cast<double>(stats.event_bytes) / n;
    state.counters["load_ms"] = fx->load_ms;
}

void BM_AgentTurn(benchmark::State& state) { run_agent_turns(state, state.range(0), 0); }

// Each step adds result_kb KB to the reply twice (the call's input and its echo): a
// step must cost the same early and late in the turn (the reply is stored block by
// block, src/storage/sqlite/message_layout.hpp), not grow with the reply.
void BM_AgentTurnLargeResults(benchmark::State& state) {
    run_agent_turns(state, 10, static_cast<std::size_t>(state.range(0)) * 1024);
    state.counters["result_kb"] = static_cast<double>(state.range(0));
}

BENCHMARK(BM_AgentTurn)->ArgName("history")->Arg(10)->Arg(10000)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AgentTurnLargeResults)->ArgName("result_kb")->Arg(16)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    fixtures().clear();  // joins the pools and removes the temporary databases
    return 0;
}
