#include "service/run_dispatchers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <condition_variable>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "bus/memory/memory_bus.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/error.hpp"
#include "common/secret_box.hpp"
#include "domain/credential.hpp"
#include "domain/message.hpp"
#include "service/inbox.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace agentd::service {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// Answers every call with one text and remembers what each call's context held.
class EchoModel final : public model::ChatModel {
public:
    explicit EchoModel(std::shared_ptr<std::vector<std::string>> seen) : seen_(std::move(seen)) {}
    const std::string& model_name() const override { return name_; }
    asio::awaitable<model::ModelResponse> call(const model::ChatRequest& request, const model::ChunkSink& on_chunk,
                                               CancellationPtr) override {
        {
            std::lock_guard lock(mutex());
            seen_->push_back(request.context ? bj::serialize(*request.context) : std::string());
        }
        model::ModelChunk chunk;
        chunk.text = "noted";
        on_chunk(chunk);
        model::ModelResponse r;
        r.content.push_back(bj::object{{"type", "text"}, {"text", "noted"}});
        co_return r;
    }
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }

private:
    std::string name_ = "echo-model";
    std::shared_ptr<std::vector<std::string>> seen_;
};

/// Holds a launch inside the model factory, where the session's lock is already
/// taken but the run has not started, until the test opens it.
struct LaunchGate {
    std::mutex mutex;
    std::condition_variable changed;
    bool armed = false, entered = false, open = false;

    void pass() {
        std::unique_lock lock(mutex);
        if (!armed) return;
        entered = true;
        changed.notify_all();
        changed.wait(lock, [this] { return open; });
    }
    bool wait_entered() {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(5), [this] { return entered; });
    }
    void release() {
        std::lock_guard lock(mutex);
        open = true;
        changed.notify_all();
    }
};

/// Answers its first call with a call of a tool nobody registered (after running
/// `during_first_call`), and every later one with a text.
class ToolThenTextModel final : public model::ChatModel {
public:
    ToolThenTextModel(std::shared_ptr<std::atomic<int>> calls, std::function<void()> during_first_call)
        : calls_(std::move(calls)), during_first_call_(std::move(during_first_call)) {}
    const std::string& model_name() const override { return name_; }
    asio::awaitable<model::ModelResponse> call(const model::ChatRequest&, const model::ChunkSink&,
                                               CancellationPtr) override {
        model::ModelResponse r;
        if (++*calls_ == 1) {
            during_first_call_();
            r.content.push_back(bj::object{{"type", "tool_call"}, {"id", "call-1"}, {"name", "nowhere"}, {"input", "{}"}});
        } else {
            r.content.push_back(bj::object{{"type", "text"}, {"text", "done"}});
        }
        co_return r;
    }

private:
    std::string name_ = "tool-then-text";
    std::shared_ptr<std::atomic<int>> calls_;
    std::function<void()> during_first_call_;
};

SecretBox test_secret_box() {
    std::array<unsigned char, SecretBox::kKeyBytes> key{};
    key.fill(7);
    return SecretBox(key);
}

class RunDispatchersTest : public ::testing::Test {
protected:
    RunDispatchersTest()
        : dir_(fs::temp_directory_path() / ("agentd-dispatch-test-" + new_id())),
          storage_((fs::create_directories(dir_), dir_ / "agentd.db"), test_secret_box(), 2),
          guard_(asio::make_work_guard(io_)),
          chat_(storage_, bus_, io_.get_executor(), pool_,
                [seen = seen_, gate = gate_, other = other_model_](
                    asio::any_io_executor, const bj::object&, const std::string&, const bj::object&,
                    std::unique_ptr<model::ChatModel>) -> std::unique_ptr<model::ChatModel> {
                    gate->pass();
                    if (*other) return (*other)();
                    return std::make_unique<EchoModel>(seen);
                },
                nullptr, ChatOptions{}),
          tasks_(bus_, pool_.get_executor()),
          dispatchers_(bus_, storage_, chat_, tasks_, io_.get_executor(), pool_.get_executor()) {
        storage_.migrate();
        domain::AgentRecord a;
        a.id = "agent-1";
        a.user_id = "alice";
        a.created_us = a.updated_us = clock::now_us();
        a.data = bj::object{{"id", a.id},
                            {"name", "Friday"},
                            {"system_prompt", "You help."},
                            {"react_config", bj::object{{"max_iters", 5}, {"interruption_message", "stopped"}}},
                            {"context_config", bj::object{{"trigger_ratio", 0.8},
                                                          {"reserve_ratio", 0.1},
                                                          {"compression_prompt", ""},
                                                          {"summary_template", ""}}}};
        storage_.insert_agent(a);
        validation::Issues issues;
        auto data = domain::parse_credential_data(
            bj::object{{"id", "cred-1"}, {"type", "openai_credential"}, {"api_key", "sk-test"}}, issues);
        domain::CredentialRecord c;
        c.user_id = "alice";
        c.id = "cred-1";
        c.data = *data;
        storage_.upsert_credential(c);
        domain::SessionRecord s;
        s.id = "sess-1";
        s.user_id = "alice";
        s.agent_id = "agent-1";
        s.created_us = s.updated_us = clock::now_us();
        s.config = bj::object{{"workspace_id", "w"},
                              {"name", "n"},
                              {"cwd", nullptr},
                              {"chat_model_config", bj::object{{"type", "openai_credential"},
                                                               {"credential_id", "cred-1"},
                                                               {"model", "gpt-4.1-mini"},
                                                               {"parameters", bj::object{}}}},
                              {"fallback_chat_model_config", nullptr},
                              {"tts_model_config", nullptr},
                              {"knowledge_config", nullptr}};
        s.state = domain::SessionState::fresh();
        storage_.insert_session(s);
        io_thread_ = std::thread([this] { io_.run(); });
    }

    ~RunDispatchersTest() override {
        for (int i = 0; i < 200 && chat_.active_runs() > 0; ++i) std::this_thread::sleep_for(10ms);
        guard_.reset();
        io_.stop();
        io_thread_.join();
        pool_.join();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    static std::string trigger(const std::string& session, const std::string& kind, bj::value input = nullptr) {
        return json::write(bj::object{{"user_id", "alice"},
                                      {"session_id", session},
                                      {"agent_id", "agent-1"},
                                      {"kind", kind},
                                      {"input", std::move(input)}});
    }

    std::vector<bj::object> events(const std::string& session) {
        std::vector<bj::object> out;
        for (const auto& e : bus_.read_log(bus::session_events_key(session), std::nullopt, 1000))
            out.push_back(json::parse(e.payload).value->as_object());
        return out;
    }

    /// Waits (bounded) until the session's stream shows a REPLY_END and its run is over.
    bool wait_reply_end(const std::string& session) {
        for (int i = 0; i < 500; ++i) {
            bool ended = false;
            for (const auto& e : events(session))
                if (e.at("type") == "REPLY_END") ended = true;
            if (ended && chat_.active_runs() == 0 && !bus_.is_locked(bus::session_lock_key(session))) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    fs::path dir_;
    storage::sqlite::SqliteStorage storage_;
    bus::MemoryBus bus_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    asio::thread_pool pool_{2};
    std::shared_ptr<std::vector<std::string>> seen_ = std::make_shared<std::vector<std::string>>();
    std::shared_ptr<LaunchGate> gate_ = std::make_shared<LaunchGate>();
    /// When set, makes the runs' model instead of EchoModel.
    std::shared_ptr<std::function<std::unique_ptr<model::ChatModel>()>> other_model_ =
        std::make_shared<std::function<std::unique_ptr<model::ChatModel>()>>();
    ChatService chat_;
    BackgroundTasks tasks_;
    RunDispatchers dispatchers_;
    std::thread io_thread_;
};

TEST_F(RunDispatchersTest, MalformedTriggersAreSkipped) {
    for (const std::string& raw : {std::string("not json"), std::string("[]"), std::string(R"({"session_id": "sess-1"})"),
                                  trigger("sess-1", "explode"), trigger("sess-1", "resume"),
                                  trigger("sess-1", "resume", bj::object{{"type", "NOT_AN_EVENT"}}),
                                  trigger("sess-1", "message", bj::object{{"role", "tool"}})}) {
        EXPECT_EQ(dispatchers_.dispatch(raw), RunDispatchers::Dispatch::kDone) << raw;
    }
    EXPECT_EQ(chat_.active_runs(), 0u);
    EXPECT_TRUE(events("sess-1").empty());
}

TEST_F(RunDispatchersTest, ATriggerForABusySessionIsRetried) {
    auto token = bus_.try_lock(bus::session_lock_key("sess-1"), 1min);
    ASSERT_TRUE(token);
    EXPECT_EQ(dispatchers_.dispatch(trigger("sess-1", "wake")), RunDispatchers::Dispatch::kRetry);
    bj::object msg = domain::user_msg("user", std::string_view("hi"));
    EXPECT_EQ(dispatchers_.dispatch(trigger("sess-1", "message", msg)), RunDispatchers::Dispatch::kRetry);
    bus_.unlock(bus::session_lock_key("sess-1"), *token);
}

TEST_F(RunDispatchersTest, ATriggerForADeletedSessionEndsWithAnErrorOnItsStream) {
    EXPECT_EQ(dispatchers_.dispatch(trigger("gone-1", "wake")), RunDispatchers::Dispatch::kDone);
    auto evs = events("gone-1");
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].at("type"), "REPLY_END");
    EXPECT_EQ(evs[0].at("session_id"), "gone-1");
    EXPECT_EQ(evs[0].at("reply_id"), "");
    EXPECT_EQ(evs[0].at("finished_reason"), "error");
    EXPECT_EQ(evs[0].at("error"), (bj::object{{"type", "internal"}, {"message", "Session no longer exists."}}));
}

TEST_F(RunDispatchersTest, AWakeWithAnEmptyInboxStartsNothing) {
    EXPECT_EQ(dispatchers_.dispatch(trigger("sess-1", "wake")), RunDispatchers::Dispatch::kDone);
    EXPECT_EQ(chat_.active_runs(), 0u);
    EXPECT_FALSE(bus_.is_locked(bus::session_lock_key("sess-1")));
    EXPECT_TRUE(events("sess-1").empty());
    EXPECT_TRUE(seen_->empty());
}

TEST_F(RunDispatchersTest, AWakeRunTakesTheInboxAndAnswers) {
    inbox::deliver(bus_, "alice", "sess-1", "agent-1",
                   domain::hint_block(bj::value("<system-notification>build finished</system-notification>"),
                                      bj::value(R"({"label": "tool_output", "sublabel": "Bash · c1"})")));
    auto queued = bus_.queue_drain(inbox::kWakeupQueue);
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(dispatchers_.dispatch(queued[0]), RunDispatchers::Dispatch::kDone);
    ASSERT_TRUE(wait_reply_end("sess-1"));
    std::vector<std::string> types;
    for (const auto& e : events("sess-1")) types.emplace_back(e.at("type").as_string());
    ASSERT_GE(types.size(), 3u);
    EXPECT_EQ(types.front(), "REPLY_START");
    EXPECT_NE(std::find(types.begin(), types.end(), "HINT_BLOCK"), types.end());
    EXPECT_EQ(types.back(), "REPLY_END");
    std::lock_guard lock(EchoModel::mutex());
    ASSERT_EQ(seen_->size(), 1u);
    EXPECT_NE((*seen_)[0].find("build finished"), std::string::npos);
    EXPECT_EQ(bus_.queue_length(inbox::inbox_key("sess-1")), 0u);
    EXPECT_FALSE(bus_.hash_get(inbox::consumer_key("sess-1"), "running")) << "the run kept its inbox registration";
}

TEST_F(RunDispatchersTest, AMessageTriggerStartsATurnWithThatMessage) {
    bj::object msg = domain::user_msg("user", std::string_view("hello from a channel"));
    EXPECT_EQ(dispatchers_.dispatch(trigger("sess-1", "message", msg)), RunDispatchers::Dispatch::kDone);
    ASSERT_TRUE(wait_reply_end("sess-1"));
    std::lock_guard lock(EchoModel::mutex());
    ASSERT_EQ(seen_->size(), 1u);
    EXPECT_NE((*seen_)[0].find("hello from a channel"), std::string::npos);
}

// Not the dispatchers' own behaviour, but their harness is the one that runs a
// ChatService: an interrupt that arrives while a launch holds the lock but has
// not started the run yet must still end that run's reply.
TEST_F(RunDispatchersTest, AnInterruptDuringTheLaunchEndsTheReplyAsInterrupted) {
    gate_->armed = true;
    bj::object msg = domain::user_msg("user", std::string_view("stop me early"));
    std::thread launcher([&] { dispatchers_.dispatch(trigger("sess-1", "message", msg)); });
    ASSERT_TRUE(gate_->wait_entered());
    EXPECT_EQ(chat_.interrupt("alice", "sess-1"), (bj::object{{"session_id", "sess-1"}}));
    gate_->release();
    launcher.join();
    ASSERT_TRUE(wait_reply_end("sess-1"));
    std::string reason;
    for (const auto& e : events("sess-1"))
        if (e.at("type") == "REPLY_END") reason = std::string(e.at("finished_reason").as_string());
    EXPECT_EQ(reason, "interrupted");
    std::lock_guard lock(EchoModel::mutex());
    EXPECT_TRUE(seen_->empty()) << "the model was called after the interrupt";
}

// A new message for a session that a run of this process holds is answered 409
// at once, without the short wait that lets a PATCH finish.
TEST_F(RunDispatchersTest, AMessageForASessionRunningHereIsRefusedAtOnce) {
    gate_->armed = true;
    bj::object first = domain::user_msg("user", std::string_view("first"));
    std::thread launcher([&] { dispatchers_.dispatch(trigger("sess-1", "message", first)); });
    ASSERT_TRUE(gate_->wait_entered());  // the run holds the session
    domain::ChatRequest second;
    second.agent_id = "agent-1";
    second.session_id = "sess-1";
    second.input = domain::MessagesInput{bj::array{domain::user_msg("user", std::string_view("second"))}};
    // Waiting would take 50 ms each time; the quickest of three tries is
    // measured, so that one stall of a loaded machine cannot fail the test.
    auto quickest = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
        const auto started = std::chrono::steady_clock::now();
        ErrorCode code = ErrorCode::kInternal;
        try {
            chat_.start("alice", second);
        } catch (const Error& e) {
            code = e.code();
        }
        quickest = std::min(quickest, std::chrono::steady_clock::now() - started);
        EXPECT_EQ(code, ErrorCode::kConflict);
    }
    gate_->release();
    launcher.join();
    EXPECT_LT(quickest, std::chrono::milliseconds(40));
    ASSERT_TRUE(wait_reply_end("sess-1"));
}

// A session deleted under its run (without the run being cancelled: a DELETE
// that gave up waiting, an agent's delete racing a new session) stops the run
// at its next step instead of letting it call the model and tools again.
TEST_F(RunDispatchersTest, ARunWhoseSessionIsDeletedStopsAtItsNextStep) {
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto* storage = &storage_;
    *other_model_ = [calls, storage] {
        return std::make_unique<ToolThenTextModel>(calls, [storage] { storage->delete_session("alice", "sess-1"); });
    };
    bj::object msg = domain::user_msg("user", std::string_view("work on it"));
    EXPECT_EQ(dispatchers_.dispatch(trigger("sess-1", "message", msg)), RunDispatchers::Dispatch::kDone);
    ASSERT_TRUE(wait_reply_end("sess-1"));
    EXPECT_EQ(calls->load(), 1) << "the model was called again for a deleted session";
    std::string reason;
    for (const auto& e : events("sess-1"))
        if (e.at("type") == "REPLY_END") reason = std::string(e.at("finished_reason").as_string());
    EXPECT_EQ(reason, "interrupted");
    EXPECT_FALSE(storage_.get_session("alice", "sess-1", false));
}

TEST_F(RunDispatchersTest, AResumeThatNothingAwaitsIsDroppedNotRetried) {
    bj::object confirm{{"type", "USER_CONFIRM_RESULT"},
                       {"reply_id", "r1"},
                       {"confirm_results", bj::array{bj::object{{"confirmed", true},
                                                                {"tool_call", bj::object{{"type", "tool_call"},
                                                                                         {"id", "c1"},
                                                                                         {"name", "Bash"},
                                                                                         {"input", "{}"}}}}}}};
    EXPECT_EQ(dispatchers_.dispatch(trigger("sess-1", "resume", confirm)), RunDispatchers::Dispatch::kDone);
    EXPECT_EQ(chat_.active_runs(), 0u);
    EXPECT_FALSE(bus_.is_locked(bus::session_lock_key("sess-1")));
}

TEST_F(RunDispatchersTest, StartedDispatchersFollowTheBusUntilStopped) {
    // A trigger queued before start is taken by the first drain.
    inbox::deliver(bus_, "alice", "sess-1", "agent-1", domain::hint_block(bj::value("first")));
    dispatchers_.start();
    ASSERT_TRUE(wait_reply_end("sess-1"));
    // A delivery afterwards nudges the listener.
    const auto before = events("sess-1").size();
    inbox::deliver(bus_, "alice", "sess-1", "agent-1", domain::hint_block(bj::value("second")));
    bool second = false;
    for (int i = 0; i < 500 && !second; ++i) {
        auto evs = events("sess-1");
        second = evs.size() > before && evs.back().at("type") == "REPLY_END" && chat_.active_runs() == 0;
        if (!second) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(second) << "the second delivery started no run";
    {
        std::lock_guard lock(EchoModel::mutex());
        ASSERT_EQ(seen_->size(), 2u);
        EXPECT_NE((*seen_)[1].find("second"), std::string::npos);
    }
    dispatchers_.stop();
    for (int i = 0; i < 300 && !dispatchers_.idle(); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(dispatchers_.idle());
}

}  // namespace
}  // namespace agentd::service
