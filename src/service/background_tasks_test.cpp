#include "service/background_tasks.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <thread>

#include "bus/memory/memory_bus.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"
#include "service/inbox.hpp"

namespace agentd::service {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// Emits "a", sleeps (cancellably), emits "b", succeeds.
class SlowTool final : public agent::Tool {
public:
    explicit SlowTool(std::chrono::milliseconds d, std::string output = "slow done")
        : delay_(d), output_(std::move(output)) {}
    const model::ToolSchema& schema() const override {
        static const model::ToolSchema kSchema{"slow", "Sleeps.", bj::object{{"type", "object"}}};
        return kSchema;
    }
    asio::awaitable<agent::ToolOutcome> run(const bj::object&, agent::ToolContext& ctx,
                                            const std::function<void(const agent::ToolChunk&)>& emit) override {
        emit(agent::ToolChunk{"a", std::nullopt});
        auto ex = co_await asio::this_coro::executor;
        auto timer = std::make_shared<asio::steady_timer>(ex, delay_);
        auto reg = Cancellation::on_cancel(ctx.cancel, [timer] {
            asio::post(timer->get_executor(), [timer] { timer->cancel(); });
        });
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        reg.reset();
        ++finished;
        if (ctx.cancel->requested()) co_return agent::ToolOutcome{"interrupted", bj::value("stopped"), {}};
        emit(agent::ToolChunk{"b", std::nullopt});
        co_return agent::ToolOutcome{"success", bj::value(output_), {}};
    }
    std::atomic<int> finished{0};

private:
    std::chrono::milliseconds delay_;
    std::string output_;
};

struct Fixture {
    asio::io_context io;
    asio::thread_pool pool{1};
    bus::MemoryBus bus;
    BackgroundTasks tasks{bus, pool.get_executor()};
    domain::SessionState state = domain::SessionState::fresh();
    CancellationPtr run_cancel = std::make_shared<Cancellation>();

    ~Fixture() {
        pool.join();
    }

    struct Result {
        std::optional<agent::ToolOutcome> outcome;
        std::vector<std::string> chunks;
    };

    /// Runs one call through an offloader with `timeout` until the call returns.
    Result call(std::shared_ptr<agent::Tool> tool, std::chrono::milliseconds timeout, const std::string& session = "s1",
                std::function<void()> meanwhile = {}) {
        RunToolOffloader offloader(tasks, BackgroundTasks::Owner{"u1", session, "a1"}, timeout, nullptr);
        Result r;
        agent::ToolContext ctx{session, state, run_cancel, nullptr};
        const std::function<void(const agent::ToolChunk&)> emit = [&r](const agent::ToolChunk& c) {
            r.chunks.push_back(c.text);
        };
        const bj::object input;
        const agent::ToolCallRef ref{"call_1", tool->schema().name};
        asio::co_spawn(asio::make_strand(io), offloader.run(tool, input, ref, ctx, emit),
                       [&r](std::exception_ptr e, agent::ToolOutcome o) {
                           if (!e) r.outcome = std::move(o);
                       });
        if (meanwhile) {
            io.run_for(10ms);
            meanwhile();
        }
        while (!r.outcome) io.run_one_for(1s);
        return r;
    }

    /// Lets background work finish (bounded).
    void settle(const std::function<bool()>& done) {
        // The io context stops whenever it runs out of work; the inbox hand-off
        // happens on the pool meanwhile.
        for (int i = 0; i < 300 && !done(); ++i) {
            io.restart();
            io.run_for(10ms);
            if (!done()) std::this_thread::sleep_for(2ms);
        }
        io.restart();
    }
};

TEST(BackgroundTasks, ACallThatEndsInTimeIsReturnedWithItsChunks) {
    Fixture f;
    auto tool = std::make_shared<SlowTool>(5ms);
    auto r = f.call(tool, 2s);
    ASSERT_TRUE(r.outcome);
    EXPECT_EQ(r.outcome->state, "success");
    EXPECT_EQ(r.outcome->output, "slow done");
    EXPECT_EQ(r.chunks, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(f.tasks.running(), 0u);
    EXPECT_EQ(f.bus.queue_length(inbox::inbox_key("s1")), 0u);
}

TEST(BackgroundTasks, ASlowCallMovesToTheBackgroundAndItsResultReachesTheInbox) {
    Fixture f;
    auto tool = std::make_shared<SlowTool>(150ms);
    auto r = f.call(tool, 30ms);
    ASSERT_TRUE(r.outcome);
    EXPECT_EQ(r.outcome->state, "success");
    const std::string text(r.outcome->output.as_string());
    ASSERT_EQ(r.chunks.size(), 1u);  // only the placeholder: the buffered "a" is not replayed
    EXPECT_EQ(r.chunks[0], text);
    EXPECT_EQ(text.rfind("<system-reminder>Tool 'slow' is running in background (id=", 0), 0u) << text;
    EXPECT_NE(text.find(") for over 0.03s. You will be notified automatically"), std::string::npos) << text;

    EXPECT_EQ(f.tasks.running(), 1u);
    auto registry = f.bus.hash_get_all(background_tasks_key("s1"));
    ASSERT_EQ(registry.size(), 1u);
    EXPECT_NE(text.find("(id=" + registry[0].first + ")"), std::string::npos);
    auto meta = json::parse(registry[0].second).value->as_object();
    EXPECT_EQ(meta.at("tool_name"), "slow");
    EXPECT_EQ(meta.at("agent_id"), "a1");
    EXPECT_TRUE(meta.at("started_at").is_double());

    f.settle([&] { return f.bus.queue_length(inbox::inbox_key("s1")) > 0; });
    EXPECT_EQ(f.tasks.running(), 0u);
    EXPECT_TRUE(f.bus.hash_get_all(background_tasks_key("s1")).empty());
    auto payloads = inbox::take(f.bus, "s1");
    ASSERT_EQ(payloads.size(), 1u);
    auto hint = json::parse(payloads[0]).value->as_object();
    EXPECT_EQ(hint.at("type"), "hint");
    EXPECT_EQ(hint.at("source"), R"({"label": "tool_output", "sublabel": "slow · call_1"})");
    const auto& blocks = hint.at("hint").as_array();
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].as_object().at("text"),
              "<system-notification>Tool 'slow' running in background (id=call_1) has completed.\n\nResult:\n\n"
              "slow done</system-notification>");
    // Nobody consumed the inbox: the session is woken.
    EXPECT_EQ(f.bus.queue_length(inbox::kWakeupQueue), 1u);
}

TEST(BackgroundTasks, AnInterruptBeforeTheOffloadStopsTheTool) {
    Fixture f;
    auto tool = std::make_shared<SlowTool>(5s);
    auto r = f.call(tool, 2s, "s1", [&] { f.run_cancel->request(); });
    ASSERT_TRUE(r.outcome);
    EXPECT_EQ(r.outcome->state, "interrupted");
    EXPECT_EQ(f.tasks.running(), 0u);
    EXPECT_EQ(tool->finished, 1);
}

TEST(BackgroundTasks, AnInterruptAfterTheOffloadLeavesTheTaskRunning) {
    Fixture f;
    auto tool = std::make_shared<SlowTool>(100ms);
    auto r = f.call(tool, 20ms);
    f.run_cancel->request();
    f.settle([&] { return f.bus.queue_length(inbox::inbox_key("s1")) > 0; });
    EXPECT_EQ(f.bus.queue_length(inbox::inbox_key("s1")), 1u);
}

TEST(BackgroundTasks, ToolStopCancelsATaskOfItsOwnSessionOnly) {
    Fixture f;
    auto tool = std::make_shared<SlowTool>(5s);
    f.call(tool, 20ms, "s1");
    auto registry = f.bus.hash_get_all(background_tasks_key("s1"));
    ASSERT_EQ(registry.size(), 1u);
    const std::string task_id = registry[0].first;

    auto stop = [&](const std::string& session, const std::string& id) {
        auto tool_stop = make_tool_stop(f.tasks, session);
        domain::SessionState st = domain::SessionState::fresh();
        agent::ToolContext ctx{session, st, nullptr, nullptr};
        std::optional<agent::ToolOutcome> out;
        const std::function<void(const agent::ToolChunk&)> emit = [](const agent::ToolChunk&) {};
        const bj::object input{{"task_id", id}};
        asio::co_spawn(f.io, tool_stop->run(input, ctx, emit), [&out](std::exception_ptr, agent::ToolOutcome o) { out = o; });
        while (!out) f.io.run_one_for(1s);
        return *out;
    };
    auto foreign = stop("s2", task_id);
    EXPECT_EQ(foreign.state, "error");
    EXPECT_EQ(foreign.output.as_string(), "TaskNotFoundError: The task " + task_id + " does not exist.");
    EXPECT_EQ(tool->finished, 0);

    auto own = stop("s1", task_id);
    EXPECT_EQ(own.state, "success");
    EXPECT_EQ(own.output.as_string(), "Task " + task_id + " stopped successfully.");
    f.settle([&] { return tool->finished == 1 && f.tasks.running() == 0; });
    EXPECT_EQ(tool->finished, 1);
    EXPECT_EQ(f.tasks.running(), 0u);
    f.pool.wait();
    EXPECT_EQ(f.bus.queue_length(inbox::inbox_key("s1")), 0u) << "a stopped task delivers nothing";
    EXPECT_TRUE(f.bus.hash_get_all(background_tasks_key("s1")).empty());

    auto again = stop("s1", task_id);
    EXPECT_EQ(again.state, "error");
}

TEST(BackgroundTasks, ToolStopOfATaskAnotherProcessRunsBroadcastsTheCancel) {
    Fixture f;
    asio::io_context listener_io;
    auto sub = f.bus.subscribe(kTaskCancelChannel, listener_io.get_executor());
    f.bus.hash_set(background_tasks_key("s1"), "remote-task", "{}");
    auto tool_stop = make_tool_stop(f.tasks, "s1");
    agent::ToolContext ctx{"s1", f.state, nullptr, nullptr};
    std::optional<agent::ToolOutcome> out;
    const std::function<void(const agent::ToolChunk&)> emit = [](const agent::ToolChunk&) {};
    const bj::object input{{"task_id", "remote-task"}};
    asio::co_spawn(f.io, tool_stop->run(input, ctx, emit), [&out](std::exception_ptr, agent::ToolOutcome o) { out = o; });
    while (!out) f.io.run_one_for(1s);
    EXPECT_EQ(out->state, "success");
    EXPECT_EQ(out->output, "Cancel request sent for task remote-task. The owning worker will stop it shortly.");
    std::optional<bus::Subscription::Next> got;
    asio::co_spawn(listener_io, sub->next(1s), [&got](std::exception_ptr, bus::Subscription::Next n) { got = n; });
    listener_io.run();
    ASSERT_TRUE(got);
    ASSERT_EQ(got->status, bus::Subscription::Status::kMessage);
    EXPECT_EQ(got->message.payload, R"({"task_id": "remote-task"})");
}

TEST(BackgroundTasks, SessionCancelAndShutdownCancelTasksWithoutDelivering) {
    Fixture f;
    auto t1 = std::make_shared<SlowTool>(5s);
    auto t2 = std::make_shared<SlowTool>(5s);
    f.call(t1, 20ms, "s1");
    f.call(t2, 20ms, "s2");
    EXPECT_EQ(f.tasks.running(), 2u);
    EXPECT_EQ(f.tasks.cancel_session("s1"), 1u);
    f.settle([&] { return t1->finished == 1; });
    EXPECT_EQ(t2->finished, 0);
    f.tasks.cancel_all();
    f.settle([&] { return f.tasks.running() == 0; });
    EXPECT_EQ(t2->finished, 1);
    f.pool.wait();
    EXPECT_EQ(f.bus.queue_length(inbox::inbox_key("s1")) + f.bus.queue_length(inbox::inbox_key("s2")), 0u);
}

TEST(BackgroundTasks, TheResultHintWrapsTextAndKeepsDataBlocks) {
    auto empty = background_result_hint("Bash", "c1", bj::value(""));
    EXPECT_EQ(empty.at("hint"), "<system-notification>Tool 'Bash' running in background (id=c1) has completed with "
                                "no output.</system-notification>");
    bj::array blocks{bj::object{{"type", "data"}, {"source", bj::object{{"type", "url"}, {"url", "u"}}}}};
    auto data = background_result_hint("Bash", "c1", bj::value(blocks));
    const auto& out = data.at("hint").as_array();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].as_object().at("text"),
              "<system-notification>Tool 'Bash' running in background (id=c1) has completed.\n\nResult:\n\n");
    EXPECT_EQ(out[1].as_object().at("type"), "data");
    EXPECT_EQ(out[2].as_object().at("text"), "</system-notification>");
}

TEST(BackgroundTasks, ThePlaceholderNamesTheTimeoutAsPythonPrintsIt) {
    EXPECT_NE(offload_placeholder("Bash", "t1", 10s).find("for over 10.0s."), std::string::npos);
    EXPECT_NE(offload_placeholder("Bash", "t1", 1500ms).find("for over 1.5s."), std::string::npos);
}

}  // namespace
}  // namespace agentd::service
