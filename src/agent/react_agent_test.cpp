#include "agent/react_agent.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <algorithm>
#include <deque>
#include <limits>
#include <stdexcept>

#include "domain/event.hpp"
#include "domain/message.hpp"
#include "domain/session.hpp"

namespace agentd::agent {
namespace {

namespace asio = boost::asio;

/// A model that replays scripted responses and records what it was asked.
class ScriptedModel final : public model::ChatModel {
public:
    std::deque<model::ModelResponse> script;
    std::vector<model::ChatRequest> requests;
    std::vector<std::string> seen_contexts;  ///< each call's context as it was sent
    std::string name = "scripted";
    const std::string& model_name() const override { return name; }
    asio::awaitable<model::ModelResponse> call(const model::ChatRequest& request, const model::ChunkSink& on_chunk,
                                               CancellationPtr cancel) override {
        requests.push_back(request);
        seen_contexts.push_back(request.context ? bj::serialize(*request.context) : std::string());
        if (script.empty()) throw model::ModelError(500, true, "script exhausted");
        auto r = script.front();
        script.pop_front();
        model::ModelChunk chunk;
        for (const auto& b : r.content) {
            const auto& o = b.as_object();
            if (o.at("type") == "text") chunk.text += o.at("text").as_string();
            if (o.at("type") == "tool_call")
                chunk.tool_calls.push_back({std::string(o.at("id").as_string()), std::string(o.at("name").as_string()),
                                            std::string(o.at("input").as_string())});
        }
        if (!request.structured_schema) on_chunk(chunk);
        if (cancel && cancel->requested()) throw model::ModelInterrupted(r);
        co_return r;
    }
};

model::ModelResponse text(std::string t) {
    model::ModelResponse r;
    r.content.push_back(bj::object{{"type", "text"}, {"text", t}});
    r.usage.input_tokens = 10;
    r.usage.output_tokens = 2;
    return r;
}

model::ModelResponse calls(std::vector<std::pair<std::string, std::string>> named) {
    model::ModelResponse r;
    for (auto& [id, tool] : named)
        r.content.push_back(bj::object{{"type", "tool_call"}, {"id", id}, {"name", tool}, {"input", "{\"text\": \"x\"}"}});
    return r;
}

class RecordingSink final : public ReplySink {
public:
    std::vector<bj::object> events;
    int checkpoints = 0;
    bool replaced = false;
    std::vector<std::string> persisted_ids;  ///< ids of every context message a checkpoint wrote
    std::deque<std::vector<bj::object>> inbox;  ///< what successive drains return
    int drains = 0;
    void emit(const bj::object& event) override { events.push_back(event); }
    asio::awaitable<std::vector<bj::object>> drain_inbox() override {
        ++drains;
        std::vector<bj::object> out;
        if (!inbox.empty()) {
            out = std::move(inbox.front());
            inbox.pop_front();
        }
        co_return out;
    }
    asio::awaitable<void> checkpoint(std::vector<const bj::object*>& changed, bool replace_context) override {
        ++checkpoints;
        replaced = replaced || replace_context;
        for (const auto* m : changed) persisted_ids.emplace_back(m->at("id").as_string());
        co_return;
    }
    std::vector<std::string> types() const {
        std::vector<std::string> out;
        for (const auto& e : events) out.emplace_back(e.at("type").as_string());
        return out;
    }
};

/// Takes what leaves the context, records it and answers with made-up paths.
class RecordingOffloader final : public ContextOffloader {
public:
    std::vector<std::vector<std::string>> contexts;  ///< ids of each offload_context's messages
    std::vector<std::pair<std::string, bj::value>> results;
    std::vector<bj::object> data_blocks;
    asio::awaitable<std::string> offload_context(const std::vector<const bj::object*>& messages) override {
        auto& ids = contexts.emplace_back();
        for (const auto* m : messages) ids.emplace_back(m->at("id").as_string());
        co_return "/ws/sessions/s1/context.jsonl";
    }
    asio::awaitable<std::string> offload_tool_result(const std::string& call_id, const bj::value& output) override {
        results.emplace_back(call_id, output);
        co_return "/ws/sessions/s1/tool_result-" + call_id + ".txt";
    }
    asio::awaitable<bj::object> offload_data_block(const bj::object& block) override {
        data_blocks.push_back(block);
        bj::object out = block;
        out["source"] = domain::url_source("workspace:///data/" + std::to_string(data_blocks.size()) + ".png", "image/png");
        co_return out;
    }
};

/// Echoes its text; `concurrent` tools record overlap.
class EchoTool final : public Tool {
public:
    permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
        return permission::Decision::allow();
    }

public:
    explicit EchoTool(std::string name, bool concurrent = false) : schema_{std::move(name), "echo", {}}, concurrent_(concurrent) {}
    const model::ToolSchema& schema() const override { return schema_; }
    bool concurrency_safe() const override { return concurrent_; }
    int runs = 0;
    asio::awaitable<ToolOutcome> run(const bj::object& input, ToolContext& ctx,
                                     const std::function<void(const ToolChunk&)>& emit) override {
        ++runs;
        emit(ToolChunk{"echo", std::nullopt});
        if (trigger_cancel && ctx.cancel) ctx.cancel->request();
        co_return ToolOutcome{"success", bj::value("echo"), {}};
    }
    bool trigger_cancel = false;

private:
    model::ToolSchema schema_;
    bool concurrent_;
};

/// Answers every call with the same output (a string, streamed first, or blocks).
class FixedOutputTool final : public Tool {
public:
    FixedOutputTool(std::string name, bj::value output, std::string state = "success")
        : schema_{std::move(name), "", {}}, output_(std::move(output)), state_(std::move(state)) {}
    permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
        return permission::Decision::allow();
    }
    const model::ToolSchema& schema() const override { return schema_; }
    asio::awaitable<ToolOutcome> run(const bj::object&, ToolContext&,
                                     const std::function<void(const ToolChunk&)>& emit) override {
        if (output_.is_string()) emit(ToolChunk{std::string(output_.get_string()), std::nullopt});
        co_return ToolOutcome{state_, output_, {}};
    }

private:
    model::ToolSchema schema_;
    bj::value output_;
    std::string state_;
};

struct Harness {
    asio::io_context io;
    ScriptedModel model;
    Toolkit toolkit;
    RecordingSink sink;
    domain::SessionState state = domain::SessionState::fresh();
    bj::array context;
    CancellationPtr cancel = std::make_shared<Cancellation>();
    AgentProfile profile;
    ContextOffloader* context_offloader = nullptr;

    Harness() { profile.name = "Friday"; }

    void reply(const std::string& user_text, std::optional<bj::object> schema = std::nullopt) {
        ReactAgent agent(profile, model, toolkit, "s1", state, context, sink, cancel);
        agent.set_context_offloader(context_offloader);
        bj::array inputs{domain::user_msg("user", std::string_view(user_text))};
        run(agent, agent.reply(inputs, std::move(schema)));
    }

    /// A reply opened and persisted by the caller (the service's launch), then run.
    ReactAgent::Opening opened_reply(const std::string& user_text) {
        bj::array inputs{domain::user_msg("user", std::string_view(user_text))};
        auto opening = ReactAgent::open_reply(state, context, inputs, "s1", profile.name);
        ReactAgent agent(profile, model, toolkit, "s1", state, context, sink, cancel);
        run(agent, agent.reply_opened(opening));
        return opening;
    }

    /// A reply without input (a wake-up run).
    void wake() {
        ReactAgent agent(profile, model, toolkit, "s1", state, context, sink, cancel);
        const bj::array none;
        run(agent, agent.reply(none));
    }

    /// Continues the parked reply the way a new run does: a new agent on `kit`.
    void resume(Toolkit& kit, const bj::object& event) {
        ReactAgent agent(profile, model, kit, "s1", state, context, sink, cancel);
        agent.set_context_offloader(context_offloader);
        run(agent, agent.resume(event));
    }

    std::optional<bj::object> final_message;

private:
    void run(ReactAgent& agent, asio::awaitable<void> work) {
        std::exception_ptr error;
        asio::co_spawn(asio::make_strand(io), std::move(work), [&](std::exception_ptr e) { error = e; });
        io.run();
        io.restart();
        final_message = agent.final_message();
        if (error) std::rethrow_exception(error);
    }
};

model::ModelResponse call_with(std::string id, std::string tool, std::string input) {
    model::ModelResponse r;
    r.content.push_back(bj::object{{"type", "tool_call"}, {"id", id}, {"name", tool}, {"input", input}});
    return r;
}

std::vector<std::string> tool_names(const model::ChatRequest& request) {
    std::vector<std::string> out;
    for (const auto& t : request.tools) out.push_back(t.name);
    return out;
}

/// The text of the tool result `id` in the reply at the context's tail.
std::string result_text(const bj::array& context, std::string_view id) {
    const auto* result = domain::find_block(context.back().as_object(), "tool_result", id);
    if (!result) return "(no result)";
    const auto& output = result->at("output");
    if (output.is_string()) return std::string(output.as_string());
    std::string out;
    for (const auto& b : output.as_array()) out += b.at("text").as_string();
    return out;
}

/// The texts of the reply's hint blocks from `source`, in order.
std::vector<std::string> hints(const bj::array& context, std::string_view source) {
    std::vector<std::string> out;
    for (const auto& b : context.back().as_object().at("content").as_array()) {
        const auto& block = b.as_object();
        if (block.at("type") != "hint" || !block.at("source").is_string() || block.at("source").as_string() != source)
            continue;
        const auto& hint = block.at("hint");
        out.emplace_back(hint.is_string() ? hint.as_string() : hint.as_array().at(0).at("text").as_string());
    }
    return out;
}

TEST(ReactAgent, PlainTextReplyEventSequence) {
    Harness h;
    h.model.script.push_back(text("Hello there"));
    h.reply("hi");
    EXPECT_EQ(h.sink.types(), (std::vector<std::string>{"REPLY_START", "HINT_BLOCK", "MODEL_CALL_START",
                                                        "TEXT_BLOCK_START", "TEXT_BLOCK_DELTA", "TEXT_BLOCK_END",
                                                        "MODEL_CALL_END", "REPLY_END"}));
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
    ASSERT_EQ(h.context.size(), 2u);
    const auto& reply = h.context[1].as_object();
    EXPECT_EQ(reply.at("id"), h.state.reply_context.at("reply_id"));
    EXPECT_EQ(reply.at("usage").at("input_tokens"), 10);
    EXPECT_EQ(h.state.reply_context.at("cur_iter"), 1);
    // The conversation goes by reference (no copy per call): the user message and the reply.
    ASSERT_NE(h.model.requests.at(0).context, nullptr);
    EXPECT_EQ(h.model.requests.at(0).context, &h.context);
    EXPECT_TRUE(h.model.requests.at(0).messages.empty());
}

TEST(ReactAgent, AReplyOpenedByTheCallerRunsLikeReplyWithoutTheFirstCheckpoint) {
    Harness direct;
    direct.model.script.push_back(text("Hello there"));
    direct.reply("hi");

    Harness opened;
    opened.model.script.push_back(text("Hello there"));
    // What open_reply changes is what reply() persists in its first checkpoint.
    bj::array inputs{domain::user_msg("user", std::string_view("hi"))};
    domain::SessionState state = domain::SessionState::fresh();
    bj::array context;
    auto probe = ReactAgent::open_reply(state, context, inputs, "s1", "Friday");
    EXPECT_EQ(state.reply_context.at("reply_id"), bj::value(probe.reply_id));
    EXPECT_EQ(state.reply_context.at("cur_iter"), 0);
    ASSERT_EQ(context.size(), 1u);
    EXPECT_EQ(probe.reply_start.at("type"), "REPLY_START");
    EXPECT_EQ(probe.reply_start.at("reply_id"), bj::value(probe.reply_id));

    auto opening = opened.opened_reply("hi");
    EXPECT_EQ(opened.sink.types(), direct.sink.types());
    EXPECT_EQ(opened.sink.events.front(), bj::value(opening.reply_start));  // the caller's event, as built
    auto expected_context = direct.state.reply_context;  // the same but for the reply id
    expected_context["reply_id"] = opening.reply_id;
    EXPECT_EQ(opened.state.reply_context, expected_context);
    ASSERT_EQ(opened.context.size(), direct.context.size());
    auto block_types = [](const bj::value& message) {
        std::vector<std::string> out;
        for (const auto& b : message.at("content").as_array()) out.emplace_back(b.at("type").as_string());
        return out;
    };
    EXPECT_EQ(block_types(opened.context[1]), block_types(direct.context[1]));
    EXPECT_EQ(opened.context[1].at("id"), bj::value(opening.reply_id));
    // One checkpoint fewer, and the input is not written again: the caller stored it.
    EXPECT_EQ(opened.sink.checkpoints, direct.sink.checkpoints - 1);
    const auto input_id = opened.context[0].at("id").as_string();
    EXPECT_EQ(std::count(opened.sink.persisted_ids.begin(), opened.sink.persisted_ids.end(), input_id), 0);
    EXPECT_EQ(opened.sink.persisted_ids.back(), opening.reply_id);
}

TEST(ReactAgent, AFinalAnswerAndItsReplyEndShareOneCheckpoint) {
    Harness h;
    h.model.script.push_back(text("Hello there"));
    h.opened_reply("hi");
    // The answer and REPLY_END are one step: nothing is awaited between them.
    EXPECT_EQ(h.sink.checkpoints, 1);
    ASSERT_FALSE(h.sink.events.empty());
    EXPECT_EQ(h.sink.events.back().at("type"), "REPLY_END");
    EXPECT_EQ(h.sink.persisted_ids.back(), h.context.back().at("id").as_string());
    EXPECT_EQ(h.state.reply_context.at("cur_iter"), 1);

    // A tool round still checkpoints after its reasoning step and after acting.
    Harness tools;
    tools.toolkit.add(std::make_shared<EchoTool>("echo"));
    tools.model.script.push_back(calls({{"c1", "echo"}}));
    tools.model.script.push_back(text("done"));
    tools.opened_reply("go");
    EXPECT_EQ(tools.sink.checkpoints, 3);
}

TEST(ReactAgent, ToolRoundThenAnswerCountsTwoIterations) {
    Harness h;
    auto echo = std::make_shared<EchoTool>("echo");
    h.toolkit.add(echo);
    h.model.script.push_back(calls({{"c1", "echo"}}));
    h.model.script.push_back(text("done"));
    h.reply("go");
    EXPECT_EQ(echo->runs, 1);
    EXPECT_EQ(h.state.reply_context.at("cur_iter"), 2);
    const auto& content = h.context.back().as_object().at("content").as_array();
    const auto* call = domain::find_block(h.context.back().as_object(), "tool_call", "c1");
    ASSERT_NE(call, nullptr);
    EXPECT_EQ(call->at("state"), "finished");
    const auto* result = domain::find_block(h.context.back().as_object(), "tool_result", "c1");
    ASSERT_NE(result, nullptr);
    EXPECT_EQ(result->at("state"), "success");
    EXPECT_GE(content.size(), 4u);
    // The second request carries the call and its result.
    EXPECT_EQ(h.model.requests.size(), 2u);
    EXPECT_GE(h.sink.checkpoints, 3);
}

TEST(ReactAgent, UnknownToolGivesAnErrorResultAndTheReplyGoesOn) {
    Harness h;
    h.model.script.push_back(calls({{"c1", "nope"}}));
    h.model.script.push_back(text("sorry"));
    h.reply("go");
    const auto* result = domain::find_block(h.context.back().as_object(), "tool_result", "c1");
    ASSERT_NE(result, nullptr);
    EXPECT_EQ(result->at("state"), "error");
    EXPECT_NE(std::string(result->at("output").as_string()).find("ToolNotFoundError"), std::string::npos);
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

TEST(ReactAgent, IterationLimitEndsWithExceedMaxIters) {
    Harness h;
    h.profile.max_iters = 2;
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    for (int i = 0; i < 5; ++i) h.model.script.push_back(calls({{"c" + std::to_string(i), "echo"}}));
    h.reply("loop");
    auto types = h.sink.types();
    ASSERT_GE(types.size(), 2u);
    EXPECT_EQ(types[types.size() - 2], "EXCEED_MAX_ITERS");
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "exceed_max_iters");
    EXPECT_EQ(h.model.requests.size(), 2u);
}

TEST(ReactAgent, AnEmptyOrAudioOnlyResponseIsAFinalAnswer) {
    // Only a response made of thinking alone asks for another step; an empty
    // one, or one whose only block is audio (streamed, not kept), ends the reply.
    for (bool audio : {false, true}) {
        Harness h;
        model::ModelResponse response;
        if (audio) response.content.push_back(domain::data_block(domain::base64_source("aGk=", "audio/wav")));
        h.model.script.push_back(response);
        h.model.script.push_back(text("never asked for"));
        h.reply("hi");
        EXPECT_EQ(h.model.requests.size(), 1u) << (audio ? "audio" : "empty");
        ASSERT_FALSE(h.sink.events.empty());
        EXPECT_EQ(h.sink.events.back().at("type"), "REPLY_END");
        EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
        EXPECT_EQ(h.state.reply_context.at("cur_iter"), 1);
        ASSERT_TRUE(h.final_message);
        EXPECT_EQ(h.final_message->at("finished_reason"), "completed");
        // The answer is the response as it came: the audio too, which the context drops.
        EXPECT_EQ(h.final_message->at("content").as_array().size(), audio ? 1u : 0u);
    }
}

TEST(ReactAgent, AThinkingOnlyResponseIsNotAFinalAnswer) {
    Harness h;
    model::ModelResponse thinking;
    thinking.content.push_back(bj::object{{"type", "thinking"}, {"thinking", "hmm"}});
    h.model.script.push_back(thinking);
    h.model.script.push_back(text("answer"));
    h.reply("hi");
    EXPECT_EQ(h.model.requests.size(), 2u);
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
    EXPECT_EQ(h.final_message->at("content").as_array().at(0).at("text"), "answer");
}

TEST(ReactAgent, ConcurrentBatchRunsEveryCallAndKeepsResultsPaired) {
    Harness h;
    auto a = std::make_shared<EchoTool>("a", true);
    auto b = std::make_shared<EchoTool>("b", true);
    h.toolkit.add(a);
    h.toolkit.add(b);
    h.model.script.push_back(calls({{"c1", "a"}, {"c2", "b"}, {"c3", "a"}}));
    h.model.script.push_back(text("ok"));
    h.reply("parallel");
    EXPECT_EQ(a->runs, 2);
    EXPECT_EQ(b->runs, 1);
    for (const char* id : {"c1", "c2", "c3"}) {
        const auto* result = domain::find_block(h.context.back().as_object(), "tool_result", id);
        ASSERT_NE(result, nullptr) << id;
        EXPECT_EQ(result->at("state"), "success");
    }
}

TEST(ReactAgent, InterruptClosesOpenCallsAndEndsInterrupted) {
    Harness h;
    auto echo = std::make_shared<EchoTool>("echo");
    echo->trigger_cancel = true;  // the interrupt lands while the first call runs
    h.toolkit.add(echo);
    h.model.script.push_back(calls({{"c1", "echo"}, {"c2", "echo"}}));
    h.reply("go");
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "interrupted");
    const auto* second = domain::find_block(h.context.back().as_object(), "tool_result", "c2");
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->at("state"), "interrupted");
    // The call the interrupt cut ends with the notice, not with what the tool made of it.
    const auto* first = domain::find_block(h.context.back().as_object(), "tool_result", "c1");
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->at("state"), "interrupted");
    EXPECT_EQ(first->at("output"), bj::value(domain::kInterruptedToolText));
    bool notice_streamed = false;
    for (const auto& e : h.sink.events)
        notice_streamed |= e.at("type") == "TOOL_RESULT_TEXT_DELTA" && e.at("tool_call_id") == "c1" &&
                           e.at("delta") == bj::value(domain::kInterruptedToolText);
    EXPECT_TRUE(notice_streamed);
    // No call is left without a result.
    for (const auto* call : domain::tool_calls(h.context.back().as_object()))
        EXPECT_NE(domain::find_block(h.context.back().as_object(), "tool_result", call->at("id").as_string()), nullptr);
}

TEST(ReactAgent, ToolOutputsAreKeptAsTextBlocksEvenWhenEmptyOrFailed) {
    Harness h;
    h.toolkit.add(std::make_shared<FixedOutputTool>("quiet", bj::value("")));
    h.toolkit.add(std::make_shared<FixedOutputTool>("failing", bj::value("it broke"), "error"));
    h.model.script.push_back(calls({{"c1", "quiet"}, {"c2", "failing"}}));
    h.model.script.push_back(text("ok"));
    h.reply("go");
    const auto& reply = h.context.back().as_object();
    const auto* quiet = domain::find_block(reply, "tool_result", "c1");
    const auto* failing = domain::find_block(reply, "tool_result", "c2");
    ASSERT_TRUE(quiet && failing);
    ASSERT_TRUE(quiet->at("output").is_array()) << bj::serialize(quiet->at("output"));
    ASSERT_EQ(quiet->at("output").as_array().size(), 1u);
    EXPECT_EQ(quiet->at("output").as_array().at(0).at("type"), "text");
    EXPECT_EQ(quiet->at("output").as_array().at(0).at("text"), "");
    ASSERT_TRUE(failing->at("output").is_array()) << bj::serialize(failing->at("output"));
    EXPECT_EQ(failing->at("output").as_array().at(0).at("text"), "it broke");
    // The empty text is streamed too: the stored reply, rebuilt from the events, holds it.
    int empty_deltas = 0;
    for (const auto& e : h.sink.events)
        empty_deltas += e.at("type") == "TOOL_RESULT_TEXT_DELTA" && e.at("tool_call_id") == "c1" && e.at("delta") == "";
    EXPECT_EQ(empty_deltas, 1);
}

TEST(ReactAgent, LargeToolResultsAreTruncatedInContextOnly) {
    Harness h;
    h.profile.tool_result_limit = 100;
    h.toolkit.add(std::make_shared<FixedOutputTool>("big", bj::value(std::string(100000, 'z'))));
    h.model.script.push_back(calls({{"c1", "big"}}));
    h.model.script.push_back(text("ok"));
    h.reply("big");
    const auto* result = domain::find_block(h.context.back().as_object(), "tool_result", "c1");
    ASSERT_NE(result, nullptr);
    std::string kept(result->at("output").as_array().at(0).at("text").as_string());
    EXPECT_LT(kept.size(), 1000u);
    EXPECT_NE(kept.find("<<<TRUNCATED>>>"), std::string::npos);
    // The streamed delta carried everything.
    std::size_t streamed = 0;
    for (const auto& e : h.sink.events)
        if (e.at("type") == "TOOL_RESULT_TEXT_DELTA") streamed += e.at("delta").as_string().size();
    EXPECT_EQ(streamed, 100000u);
}

TEST(ReactAgent, TheCutPartOfALargeToolResultIsOffloadedAndNamed) {
    Harness h;
    RecordingOffloader offloader;
    h.context_offloader = &offloader;
    h.profile.tool_result_limit = 100;  // 400 bytes
    h.toolkit.add(std::make_shared<FixedOutputTool>(
        "big", bj::array{domain::text_block(std::string(300, 'a') + std::string(300, 'b')), domain::text_block("tail")}));
    h.model.script.push_back(calls({{"c1", "big"}}));
    h.model.script.push_back(text("ok"));
    h.reply("big");
    EXPECT_EQ(result_text(h.context, "c1"),
              std::string(300, 'a') + std::string(100, 'b') +
                  "\n<<<TRUNCATED>>>\n<system-reminder>The remaining content has been omitted for limited context. "
                  "You can refer to the file in '/ws/sessions/s1/tool_result-c1.txt' for the truncated content if "
                  "needed.</system-reminder>");
    // The offloader got exactly what the context lost: the rest of the boundary
    // block, joined to the text block after it as the reference does.
    ASSERT_EQ(offloader.results.size(), 1u);
    EXPECT_EQ(offloader.results[0].first, "c1");
    const auto& rest = offloader.results[0].second.as_array();
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].at("text"), bj::value(std::string(200, 'b') + "tail"));
}

TEST(ReactAgent, AnOffloaderThatStoredNothingLeavesTheNoticeWithoutAFile) {
    class NothingStored final : public ContextOffloader {
    public:
        asio::awaitable<std::string> offload_context(const std::vector<const bj::object*>&) override { co_return ""; }
        asio::awaitable<std::string> offload_tool_result(const std::string&, const bj::value&) override { co_return ""; }
        asio::awaitable<bj::object> offload_data_block(const bj::object& block) override { co_return block; }
    };
    Harness h;
    NothingStored offloader;
    h.context_offloader = &offloader;
    h.profile.tool_result_limit = 0;  // even "echo" is too long
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    h.model.script.push_back(calls({{"c1", "echo"}}));
    h.model.script.push_back(text("ok"));
    h.reply("go");
    EXPECT_EQ(result_text(h.context, "c1"), truncated_reminder(""));
}

TEST(ReactAgent, OldestImagesBeyondTheLimitAreReplacedInTheContextOnly) {
    Harness h;
    h.profile.max_image_num = 1;
    auto named = domain::data_block(domain::url_source("https://files.example/cat.png", "image/png"), "cat.png");
    auto plain = domain::data_block(domain::base64_source("aGk=", "image/jpeg"));
    auto pdf = domain::data_block(domain::base64_source("aGk=", "application/pdf"));
    auto user = domain::user_msg("user", bj::array{named, plain, pdf});
    auto earlier = domain::assistant_msg("Friday", bj::array{
        domain::data_block(domain::base64_source("aGk=", "image/png")),
        domain::tool_call_block("c0", "echo", "{}"),
        domain::tool_result_block("c0", "echo", bj::array{domain::text_block("shot"),
                                                          domain::data_block(domain::base64_source("aGk=", "image/gif"))},
                                  "success")});
    const std::string user_id(user.at("id").as_string()), earlier_id(earlier.at("id").as_string());
    h.context.push_back(user);
    h.context.push_back(earlier);
    h.model.script.push_back(text("ok"));
    h.reply("and now?");

    // Four images, one kept: the newest (nested in the tool result).
    const auto& u = h.context.at(0).as_object().at("content").as_array();
    EXPECT_EQ(u.at(0).at("type"), "text");
    EXPECT_EQ(u.at(0).at("text"), "<system-reminder>The image named 'cat.png' is offloaded into "
                                   "https://files.example/cat.png, you can refer to it when needed.</system-reminder>");
    EXPECT_EQ(u.at(1).at("type"), "text");
    EXPECT_EQ(u.at(1).at("text"), "<system-reminder>The image is removed to free up context space.</system-reminder>");
    EXPECT_EQ(u.at(2).at("type"), "data");  // not an image
    const auto& a = h.context.at(1).as_object().at("content").as_array();
    EXPECT_EQ(a.at(0).at("type"), "hint");  // top level of a non-user message
    EXPECT_EQ(a.at(0).at("hint"), "<system-reminder>The image is removed to free up context space.</system-reminder>");
    EXPECT_EQ(a.at(2).at("output").as_array().at(1).at("type"), "data");
    // The model saw the replaced context, and the changed older messages were persisted.
    ASSERT_EQ(h.model.requests.size(), 1u);
    auto persisted = [&](const std::string& id) {
        return std::count(h.sink.persisted_ids.begin(), h.sink.persisted_ids.end(), id);
    };
    EXPECT_EQ(persisted(user_id), 1);
    EXPECT_EQ(persisted(earlier_id), 1);
    // No event: the stored reply and the stream are untouched (the one hint is the runtime state).
    auto types = h.sink.types();
    EXPECT_EQ(std::count(types.begin(), types.end(), "HINT_BLOCK"), 1);
}

TEST(ReactAgent, AnExternalResultOverTheLimitKeepsItsRestInTheWorkspaceToo) {
    Harness h;
    RecordingOffloader offloader;
    h.context_offloader = &offloader;
    h.profile.tool_result_limit = 10;  // 40 bytes
    auto submitted = domain::tool_call_block("c2", "ext", "{}");
    submitted["state"] = "submitted";
    h.context.push_back(domain::user_msg("user", std::string_view("go")));
    auto parked = domain::assistant_msg("Friday", bj::array{submitted});
    parked["id"] = "r1";  // a reply's message carries the reply's id
    h.context.push_back(parked);
    h.state.reply_context["reply_id"] = "r1";
    h.model.script.push_back(text("thanks"));
    Toolkit kit;
    h.resume(kit, domain::event::external_execution_result(
                      "r1", bj::array{bj::object{{"type", "tool_result"}, {"id", "c2"}, {"name", "ext"},
                                                 {"output", std::string(100, 'x')}, {"state", "success"}}}));
    EXPECT_EQ(result_text(h.context, "c2"),
              std::string(40, 'x') + truncated_reminder("/ws/sessions/s1/tool_result-c2.txt"));
    ASSERT_EQ(offloader.results.size(), 1u);
    EXPECT_EQ(offloader.results[0].second, bj::value(std::string(60, 'x')));
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

TEST(ReactAgent, ImagesWithoutAUrlAreOffloadedBeforeTheyAreReplaced) {
    Harness h;
    RecordingOffloader offloader;
    h.context_offloader = &offloader;
    h.profile.max_image_num = 0;
    auto linked = domain::data_block(domain::url_source("https://files.example/cat.png", "image/png"), "cat.png");
    auto inline_image = domain::data_block(domain::base64_source("aGk=", "image/png"), "dog.png");
    h.context.push_back(domain::user_msg("user", bj::array{linked, inline_image}));
    h.model.script.push_back(text("ok"));
    h.reply("and now?");
    const auto& u = h.context.at(0).as_object().at("content").as_array();
    EXPECT_EQ(u.at(0).at("text"), "<system-reminder>The image named 'cat.png' is offloaded into "
                                   "https://files.example/cat.png, you can refer to it when needed.</system-reminder>");
    EXPECT_EQ(u.at(1).at("text"), "<system-reminder>The image named 'dog.png' is offloaded into "
                                   "workspace:///data/1.png, you can refer to it when needed.</system-reminder>");
    // Only the payload went to the offloader: a URL already says where the image is.
    ASSERT_EQ(offloader.data_blocks.size(), 1u);
    EXPECT_EQ(offloader.data_blocks[0].at("name"), "dog.png");
}

TEST(ReactAgent, ImagesWithinTheLimitAreLeftAlone) {
    Harness h;
    h.profile.max_image_num = 2;
    h.context.push_back(domain::user_msg("user", bj::array{
        domain::data_block(domain::base64_source("aGk=", "image/png")),
        domain::data_block(domain::base64_source("aGk=", "image/png"))}));
    h.model.script.push_back(text("ok"));
    h.reply("hi");
    const auto& u = h.context.at(0).as_object().at("content").as_array();
    EXPECT_EQ(u.at(0).at("type"), "data");
    EXPECT_EQ(u.at(1).at("type"), "data");
}

bj::object task(std::string id, std::string state) {
    return bj::object{{"id", id}, {"subject", "t" + id}, {"state", state}};
}

TEST(ReactAgentRuntimeState, OpenTasksAreRemindedOnceUntilTheContextShowsThem) {
    Harness h;
    h.state.tasks_context["tasks"] = bj::array{task("1", "pending"), task("2", "in_progress"), task("3", "pending"),
                                               task("4", "completed")};
    h.model.script.push_back(text("ok"));
    h.reply("go on");
    auto first = hints(h.context, kRuntimeStateSource);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_NE(first[0].find("<current-time>"), std::string::npos);
    EXPECT_NE(first[0].find("\n<tasks>You have 1 in-progress tasks and 2 pending tasks. Use `TaskList` to view them "
                            "if you don't know.</tasks>\n"),
              std::string::npos)
        << first[0];
    // The next reply: the time is recent and the tasks reminder is in context.
    h.model.script.push_back(text("ok"));
    h.reply("and?");
    EXPECT_TRUE(hints(h.context, kRuntimeStateSource).empty());
}

TEST(ReactAgentRuntimeState, ATaskToolCallInContextMeansTheAgentKnowsItsTasks) {
    Harness h;
    h.state.tasks_context["tasks"] = bj::array{task("1", "pending")};
    h.context.push_back(domain::assistant_msg("Friday", bj::array{domain::tool_call_block("c0", "TaskList", "{}", "finished")}));
    h.model.script.push_back(text("ok"));
    h.reply("go on");
    auto got = hints(h.context, kRuntimeStateSource);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].find("<tasks>"), std::string::npos) << got[0];
}

TEST(ReactAgentRuntimeState, ContextLengthIsReportedAtTheStartOfAReplyNearTheThreshold) {
    Harness h;
    h.profile.context_size = 1000;  // trigger 0.8 -> reported above (0.8 - 0.2) x 1000 = 600 tokens
    h.model.script.push_back(text("ok"));
    h.reply(std::string(3000, 'a'));
    auto got = hints(h.context, kRuntimeStateSource);
    ASSERT_EQ(got.size(), 1u);
    auto at = got[0].find("<context-length>Your current context contains ");
    ASSERT_NE(at, std::string::npos) << got[0];
    EXPECT_NE(got[0].find(" tokens. When reaching 800 tokens, your context will be compressed.</context-length>"),
              std::string::npos)
        << got[0];

    Harness small;
    small.profile.context_size = 1000;
    small.model.script.push_back(text("ok"));
    small.reply("short");
    auto none = hints(small.context, kRuntimeStateSource);
    ASSERT_EQ(none.size(), 1u);
    EXPECT_EQ(none[0].find("<context-length>"), std::string::npos);
}

TEST(ReactAgentRuntimeState, TheReportedContextLengthCountsToolSchemasAsTheReferenceDoes) {
    // The reference counts json.dumps of the tool list, with ", " and ": ":
    // [{"type": "function", "function": {"name": "echo", "description": "echo",
    // "parameters": {}}}] is 93 bytes (85 compact), 23 tokens; the input 600.
    Harness h;
    h.profile.context_size = 1000;
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    h.model.script.push_back(text("ok"));
    h.reply(std::string(2400, 'a'));
    auto got = hints(h.context, kRuntimeStateSource);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].find("<context-length>Your current context contains 623 tokens."), std::string::npos) << got[0];
}

class StrictTool final : public Tool {
public:
    permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
        return permission::Decision::allow();
    }
    model::ToolSchema s{"strict", "", bj::parse(R"({"type": "object", "properties": {"text": {"type": "string"},
        "count": {"type": "integer", "default": 1, "minimum": 0}}, "required": ["text"]})").as_object()};
    const model::ToolSchema& schema() const override { return s; }
    int runs = 0;
    bj::object last_input;
    asio::awaitable<ToolOutcome> run(const bj::object& input, ToolContext&,
                                     const std::function<void(const ToolChunk&)>&) override {
        ++runs;
        last_input = input;
        co_return ToolOutcome{"success", bj::value("ran"), {}};
    }
};

TEST(ReactAgentToolInput, ArgumentsThatAreNotAJsonObjectGetTheReferencesReminder) {
    Harness h;
    auto tool = std::make_shared<StrictTool>();
    h.toolkit.add(tool);
    h.model.script.push_back(call_with("c1", "strict", "not json"));
    h.model.script.push_back(call_with("c2", "strict", "[1, 2]"));
    h.model.script.push_back(call_with("c3", "strict", "{\"text\": \"a\",\n \"count\": }"));
    h.model.script.push_back(text("ok"));
    h.reply("go");
    EXPECT_EQ(tool->runs, 0);
    EXPECT_EQ(result_text(h.context, "c1"),
              "<system-reminder>Error: When decoding your tool arguments from JSON format to a Python dictionary, a "
              "JSONDecodeError was raised with message: Expecting value: line 1 column 1 (char 0).\n\nYour argument "
              "string is decoded by the following code snippet:\n```python\nimport json\n\nyour_tool_arguments = "
              "'not json'\njson.loads(your_tool_arguments)\n```\n\n**You should recorrect the arguments in JSON "
              "format.**</system-reminder>");
    EXPECT_NE(result_text(h.context, "c2").find("Error: Your argument string is decoded into a <class 'list'> object, "
                                                "but a dict object is expected!"),
              std::string::npos);
    EXPECT_NE(result_text(h.context, "c3").find("message: Expecting value: line 2 column 11 (char 24)."),
              std::string::npos)
        << result_text(h.context, "c3");
    const auto* r = domain::find_block(h.context.back().as_object(), "tool_result", "c1");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->at("state"), "error");
}

TEST(ReactAgentToolInput, LongArgumentsAreShownTruncated) {
    Harness h;
    h.toolkit.add(std::make_shared<StrictTool>());
    std::string args = "[" + std::string(300, '1');
    h.model.script.push_back(call_with("c1", "strict", args));
    h.model.script.push_back(text("ok"));
    h.reply("go");
    auto got = result_text(h.context, "c1");
    EXPECT_NE(got.find("code snippet(Because the JSON string is too long, a truncated label \"[TRUNCATE]\" is used "
                       "here to indicate the truncation):"),
              std::string::npos);
    EXPECT_NE(got.find("'[" + std::string(99, '1') + "[TRUNCATE]" + std::string(100, '1') + "'"), std::string::npos) << got;
}

TEST(ReactAgentToolInput, InputsAreValidatedAgainstTheToolsSchemaBeforeRunning) {
    Harness h;
    auto tool = std::make_shared<StrictTool>();
    h.toolkit.add(tool);
    h.model.script.push_back(call_with("c1", "strict", "{}"));
    h.model.script.push_back(call_with("c2", "strict", "{\"text\": 5}"));
    h.model.script.push_back(call_with("c3", "strict", "{\"text\": \"hi\", \"extra\": true}"));
    h.model.script.push_back(call_with("c4", "strict", "{\"text\": \"hi\", \"count\": -1}"));
    h.model.script.push_back(call_with("c5", "strict", "{\"count\": \"x\"}"));
    h.model.script.push_back(text("ok"));
    h.reply("go");
    EXPECT_EQ(result_text(h.context, "c1"), "Input validation failed for tool 'strict': 'text' is a required property");
    EXPECT_EQ(result_text(h.context, "c2"), "Input validation failed for tool 'strict': 5 is not of type 'string'");
    EXPECT_EQ(result_text(h.context, "c4"), "Input validation failed for tool 'strict': -1 is less than the minimum of 0");
    // Two failures: the one jsonschema's best_match picks (the shallower), not the first found.
    EXPECT_EQ(result_text(h.context, "c5"), "Input validation failed for tool 'strict': 'text' is a required property");
    // Valid (extra keys pass), and the tool gets the input as sent: defaults are its business.
    EXPECT_EQ(tool->runs, 1);
    EXPECT_EQ(result_text(h.context, "c3"), "ran");
    EXPECT_FALSE(tool->last_input.contains("count"));
}

TEST(ReactAgent, CompactionSummarisesOldMessagesWhenTheWindowFills) {
    Harness h;
    h.profile.context_size = 2000;
    h.profile.trigger_ratio = 0.5;
    h.profile.reserve_ratio = 0.1;
    h.profile.compression_prompt = "compress now";
    h.profile.summary_template = "<system-info>{task_overview}|{next_steps}</system-info>";
    h.profile.summary_schema = bj::object{{"type", "object"}};
    for (int i = 0; i < 10; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'a' + i))));
    // A file read before: once the summary replaces that, Write and Edit want it read again.
    h.state.tool_context["read_file_cache"] =
        bj::array{bj::object{{"file_path", "/ws/old.txt"}, {"lines", bj::array{}}, {"updated_at", 1.0}, {"bytes", 0}}};
    model::ModelResponse summary;
    summary.structured_output = bj::object{{"task_overview", "old work"}, {"next_steps", "continue"}};
    h.model.script.push_back(summary);
    h.model.script.push_back(text("fresh answer"));
    h.reply("latest question");
    ASSERT_GE(h.model.requests.size(), 2u);
    EXPECT_TRUE(h.model.requests[0].structured_schema.has_value());
    EXPECT_EQ(h.state.summary, "<system-info>old work|continue</system-info>");
    EXPECT_TRUE(h.state.tool_context.at("read_file_cache").as_array().empty());
    EXPECT_LT(h.context.size(), 5u);
    EXPECT_TRUE(h.sink.replaced);
    // The answering request starts with the summary as a user message.
    const auto& first = h.model.requests[1].messages.at(0).as_object();
    EXPECT_EQ(first.at("role"), "user");
    EXPECT_NE(bj::serialize(first).find("old work"), std::string::npos);
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

TEST(ReactAgent, CompactionKeepsTheReadCacheOfReadsStillInTheContext) {
    auto state = domain::SessionState::fresh();
    auto entry = [](const char* path) {
        return bj::object{{"file_path", path}, {"lines", bj::array{}}, {"updated_at", 1.0}, {"bytes", 0}};
    };
    state.tool_context["read_file_cache"] = bj::array{entry("/ws/a.txt"), entry("/ws/b.txt"), entry("/ws/c.txt")};
    const auto kept = bj::parse(R"([
        {"name":"a","role":"assistant","content":[
            {"type":"tool_call","id":"1","name":"Read","input":"{\"file_path\": \"/ws/b.txt\"}"},
            {"type":"tool_call","id":"2","name":"Write","input":"{\"file_path\": \"/ws/c.txt\"}"},
            {"type":"tool_call","id":"3","name":"Read","input":"not json"}]}])").as_array();
    domain::keep_read_cache_of_kept_reads(state, kept);
    const auto& cache = state.tool_context.at("read_file_cache").as_array();
    ASSERT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache[0].at("file_path"), "/ws/b.txt");
}

void compaction_profile(Harness& h) {
    h.profile.context_size = 4000;
    h.profile.trigger_ratio = 0.25;  // compaction from 1,000 tokens
    h.profile.reserve_ratio = 0.1;   // keeping 400
    h.profile.compression_prompt = "compress now";
    h.profile.summary_template = "{task_overview}";
    h.profile.summary_schema = bj::object{{"type", "object"}};
}

model::ModelResponse summary_of(std::string text) {
    model::ModelResponse r;
    r.structured_output = bj::object{{"task_overview", text}};
    return r;
}

TEST(ReactAgent, ALongReplyInProgressIsSplitByBlocks) {
    class MidTool final : public Tool {
    public:
        permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
            return permission::Decision::allow();
        }
        model::ToolSchema s{"mid", "", {}};
        const model::ToolSchema& schema() const override { return s; }
        asio::awaitable<ToolOutcome> run(const bj::object&, ToolContext&,
                                         const std::function<void(const ToolChunk&)>&) override {
            co_return ToolOutcome{"success", bj::value(std::string(800, 'm')), {}};  // 200 tokens
        }
    };
    Harness h;
    compaction_profile(h);
    h.toolkit.add(std::make_shared<MidTool>());
    for (int i = 1; i <= 5; ++i) h.model.script.push_back(call_with("c" + std::to_string(i), "mid", "{}"));
    h.model.script.push_back(summary_of("five rounds of mid"));
    h.model.script.push_back(text("done"));
    h.reply("go");

    ASSERT_EQ(h.model.requests.size(), 7u);
    const auto& compression = h.model.requests[5];
    ASSERT_TRUE(compression.structured_schema.has_value());
    // The user's message and the older part of the reply went to the summary...
    ASSERT_EQ(compression.messages.size(), 3u);
    const auto& older = compression.messages[1].as_object().at("content").as_array();
    EXPECT_EQ(older.size(), 9u);  // the time hint and four call/result pairs
    EXPECT_EQ(older.back().at("type"), "tool_result");
    EXPECT_EQ(older.back().at("id"), "c4");
    // ...and the reply, under its own id, keeps its newest blocks and goes on.
    ASSERT_EQ(h.context.size(), 1u);
    const auto& reply = h.context[0].as_object();
    EXPECT_EQ(reply.at("id"), h.state.reply_context.at("reply_id"));
    const auto& kept = reply.at("content").as_array();
    ASSERT_GE(kept.size(), 3u);
    EXPECT_EQ(kept[0].at("type"), "tool_call");
    EXPECT_EQ(kept[0].at("id"), "c5");
    EXPECT_EQ(kept[1].at("id"), "c5");
    EXPECT_EQ(kept.back().at("type"), "text");
    EXPECT_EQ(h.state.summary, "five rounds of mid");
    EXPECT_TRUE(h.sink.replaced);
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

TEST(ReactAgent, AKeptToolResultWhoseCallIsCompressedMovesIntoTheCompressedPart) {
    Harness h;
    compaction_profile(h);
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    const std::string big = "{\"text\": \"" + std::string(2000, 'x') + "\"}";  // ~500 tokens of input
    h.model.script.push_back(call_with("c1", "echo", big));
    h.model.script.push_back(call_with("c2", "echo", big));
    h.model.script.push_back(summary_of("two big calls"));
    h.model.script.push_back(text("done"));
    h.reply("go");

    ASSERT_EQ(h.model.requests.size(), 4u);
    const auto& compression = h.model.requests[2];
    ASSERT_TRUE(compression.structured_schema.has_value());
    // c2's small result fits the 400-token reserve, its 500-token call does not:
    // the result follows its call into the summary rather than the call staying.
    const auto& compressed =
        compression.messages.at(compression.messages.size() - 2).as_object().at("content").as_array();
    EXPECT_EQ(compressed.back().at("type"), "tool_result");
    EXPECT_EQ(compressed.back().at("id"), "c2");
    for (const auto& m : h.context)
        for (const auto& b : m.as_object().at("content").as_array())
            EXPECT_TRUE(b.at("type") != "tool_call" && b.at("type") != "tool_result") << bj::serialize(b);
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

TEST(ReactAgent, TheSplitIsRecheckedUntilNoKeptResultLacksItsCall) {
    // The reference's scenario (compress_context_test.py, "multi tool pairs
    // reaches stable boundary"): the budget keeps [tc2, r1, r2, text]; r1 moves
    // out, which orphans r2, which moves out too.
    Harness h;
    h.profile.context_size = 1000;
    h.profile.trigger_ratio = 0.1;   // compaction from 100 tokens
    h.profile.reserve_ratio = 0.09;  // keeping 90: the text, r2, r1 and tc2 (86), not tc1 (109)
    h.profile.compression_prompt = "compress now";
    h.profile.summary_template = "{task_overview}";
    h.profile.summary_schema = bj::object{{"type", "object"}};
    auto old_user = domain::user_msg("User", std::string_view(std::string(240, 'o')));
    auto input = [](char c) { return R"({"value": ")" + std::string(80, c) + R"("})"; };  // as json.dumps writes it
    auto first = domain::tool_call_block("tc1", "first_tool", input('a'), "finished");
    auto second = domain::tool_call_block("tc2", "second_tool", input('b'), "finished");
    std::string first_result, second_result;
    for (int i = 0; i < 8; ++i) {
        first_result += "first result ";
        second_result += "second result ";
    }
    auto result = [](const char* id, const char* name, const std::string& text) {
        return domain::tool_result_block(id, name, bj::array{domain::text_block(text)}, "success");
    };
    auto multi = domain::assistant_msg(
        "Friday", bj::array{first, second, result("tc1", "first_tool", first_result),
                            result("tc2", "second_tool", second_result), domain::text_block("Both tools completed.")});
    multi["id"] = "multi-tool-msg";
    h.context.push_back(old_user);
    h.context.push_back(multi);
    h.model.script.push_back(summary_of("two tools"));
    h.model.script.push_back(text("answer"));
    h.reply("latest question");

    ASSERT_EQ(h.model.requests.size(), 2u);
    const auto& compression = h.model.requests[0];
    ASSERT_TRUE(compression.structured_schema.has_value());
    ASSERT_EQ(compression.messages.size(), 3u);  // the old message, the multi-tool part, the prompt
    EXPECT_EQ(compression.messages[0].at("id"), old_user.at("id"));
    const auto& compressed = compression.messages[1].as_object();
    EXPECT_EQ(compressed.at("id"), "multi-tool-msg");
    std::vector<std::string> compressed_blocks;
    for (const auto& b : compressed.at("content").as_array())
        compressed_blocks.push_back(std::string(b.at("type").as_string()) + ":" + std::string(b.at("id").as_string()));
    EXPECT_EQ(compressed_blocks,
              (std::vector<std::string>{"tool_call:tc1", "tool_call:tc2", "tool_result:tc1", "tool_result:tc2"}));
    // Kept: the multi-tool message's text under its own id, the question, the new reply.
    ASSERT_EQ(h.context.size(), 3u);
    EXPECT_EQ(h.context[0].at("id"), "multi-tool-msg");
    const auto& kept = h.context[0].as_object().at("content").as_array();
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].at("text"), "Both tools completed.");
    EXPECT_EQ(h.context[1].as_object().at("content").as_array().at(0).at("text"), "latest question");
    EXPECT_EQ(h.state.summary, "two tools");
}

/// Fails the first `failures` compression requests (as a provider refuses one
/// over its window, or is down), then answers like the scripted model.
class FailsCompressions final : public model::ChatModel {
public:
    explicit FailsCompressions(std::size_t failures) : failures_(failures) {}
    ScriptedModel inner;
    std::vector<std::size_t> compression_sizes;  ///< messages of each compression request
    const std::string& model_name() const override { return inner.name; }
    asio::awaitable<model::ModelResponse> call(const model::ChatRequest& request, const model::ChunkSink& on_chunk,
                                               CancellationPtr cancel) override {
        if (request.structured_schema) {
            compression_sizes.push_back(request.messages.size());
            if (compression_sizes.size() <= failures_) throw model::ModelError(400, false, "context too long");
        }
        auto response = co_await inner.call(request, on_chunk, cancel);
        co_return response;
    }

private:
    std::size_t failures_;
};

/// One reply of an agent on `h`'s state and `model`, run to its end: how it ended.
std::exception_ptr reply_on(Harness& h, model::ChatModel& model, std::string_view text) {
    ReactAgent agent(h.profile, model, h.toolkit, "s1", h.state, h.context, h.sink, h.cancel);
    agent.set_context_offloader(h.context_offloader);
    bj::array inputs{domain::user_msg("user", text)};
    std::exception_ptr error;
    asio::co_spawn(asio::make_strand(h.io), agent.reply(inputs), [&](std::exception_ptr e) { error = e; });
    h.io.run();
    return error;
}

TEST(ReactAgent, AnOversizedCompressionRequestThatFailsIsRetriedWithoutItsOldestMessages) {
    Harness h;
    h.profile.context_size = 1000;
    h.profile.trigger_ratio = 0.5;   // compaction from 500 tokens, retry below it
    h.profile.reserve_ratio = 0.1;
    h.profile.compression_prompt = "compress now";
    h.profile.summary_template = "{task_overview}";
    h.profile.summary_schema = bj::object{{"type", "object"}};
    for (int i = 0; i < 12; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'a' + i))));
    FailsCompressions model(1);
    model.inner.script.push_back(summary_of("retried"));
    model.inner.script.push_back(text("done"));
    ASSERT_FALSE(reply_on(h, model, "next"));
    // 12 x ~100 tokens went out first (over the 1,000-token window), then only
    // the newest ones that fit under the 500-token trigger, the prompt kept.
    ASSERT_EQ(model.compression_sizes.size(), 2u);
    EXPECT_GE(model.compression_sizes[0], 12u);
    EXPECT_LT(model.compression_sizes[1], 6u);
    EXPECT_GE(model.compression_sizes[1], 2u);
    EXPECT_EQ(h.state.summary, "retried");
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

TEST(ReactAgent, ACompressionThatFailsCutsTheOldMessagesWithTheReferencesNotice) {
    Harness h;
    compaction_profile(h);
    for (int i = 0; i < 12; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'a' + i))));
    FailsCompressions model(std::numeric_limits<std::size_t>::max());
    model.inner.script.push_back(text("done"));
    ASSERT_FALSE(reply_on(h, model, "next"));
    EXPECT_EQ(h.state.summary, "<system-info>Some earlier messages were truncated for limited context.</system-info>");
    EXPECT_LE(h.context.size(), 5u);  // what fits the 400-token reserve, and the reply
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

/// Lets the user's interrupt land while the compression request is under way.
class InterruptsCompressions final : public model::ChatModel {
public:
    ScriptedModel inner;
    const std::string& model_name() const override { return inner.name; }
    asio::awaitable<model::ModelResponse> call(const model::ChatRequest& request, const model::ChunkSink& on_chunk,
                                               CancellationPtr cancel) override {
        if (request.structured_schema && cancel) cancel->request();
        auto response = co_await inner.call(request, on_chunk, cancel);
        co_return response;
    }
};

TEST(ReactAgent, AnInterruptDuringCompactionEndsTheReplyBeforeAnyModelCall) {
    Harness h;
    compaction_profile(h);
    for (int i = 0; i < 12; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'a' + i))));
    const bj::value summary_before = h.state.summary;
    InterruptsCompressions model;
    model.inner.script.push_back(summary_of("never applied"));
    model.inner.script.push_back(text("never asked for"));
    ASSERT_FALSE(reply_on(h, model, "next"));
    // Straight to the interrupted end: no runtime-state hint, no model call.
    EXPECT_EQ(h.sink.types(), (std::vector<std::string>{"REPLY_START", "REPLY_END"}));
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "interrupted");
    EXPECT_EQ(model.inner.requests.size(), 1u);
    EXPECT_EQ(h.state.summary, summary_before);
    EXPECT_EQ(h.context.size(), 13u);  // nothing was cut
    EXPECT_FALSE(h.sink.replaced);
}

TEST(ReactAgent, TheCompressedMessagesAreOffloadedAndTheSummaryNamesTheFileOnce) {
    Harness h;
    compaction_profile(h);
    RecordingOffloader offloader;
    h.context_offloader = &offloader;
    std::vector<std::string> first_ids;
    for (int i = 0; i < 12; ++i) {
        h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'a' + i))));
        first_ids.emplace_back(h.context.back().at("id").as_string());
    }
    // Both compressions fail: the second keeps the first's summary, which names the file already.
    FailsCompressions model(std::numeric_limits<std::size_t>::max());
    model.inner.script.push_back(text("done"));
    ASSERT_FALSE(reply_on(h, model, "next"));
    const std::string reminder =
        "<system-reminder>The compressed context is offloaded to '/ws/sessions/s1/context.jsonl', you can refer to "
        "it when needed.</system-reminder>";
    EXPECT_EQ(h.state.summary,
              bj::value("<system-info>Some earlier messages were truncated for limited context.</system-info>\n" +
                        reminder));
    ASSERT_EQ(offloader.contexts.size(), 1u);
    // The oldest messages went out, oldest first.
    ASSERT_GE(offloader.contexts[0].size(), 8u);
    EXPECT_EQ(offloader.contexts[0].front(), first_ids.front());
    EXPECT_EQ(offloader.contexts[0][7], first_ids[7]);

    for (int i = 0; i < 12; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'n'))));
    model.inner.script.push_back(text("done again"));
    h.io.restart();
    ASSERT_FALSE(reply_on(h, model, "more"));
    EXPECT_EQ(model.compression_sizes.size(), 2u);
    EXPECT_EQ(offloader.contexts.size(), 2u);
    const std::string summary(h.state.summary.as_string());
    EXPECT_EQ(summary.find(reminder), summary.rfind(reminder));
    EXPECT_NE(summary.find(reminder), std::string::npos);
}

TEST(ReactAgent, TheToolSchemasCountTowardsTheCompactionTrigger) {
    // 6 messages of ~100 tokens stay under the 1,000-token trigger, but not with
    // a tool whose description alone is ~1,000 tokens.
    auto run = [](bool with_big_tool) {
        Harness h;
        compaction_profile(h);  // compaction from 1,000 tokens
        auto tool = std::make_shared<EchoTool>("echo");
        if (with_big_tool)
            const_cast<model::ToolSchema&>(tool->schema()).description = std::string(4000, 'd');
        h.toolkit.add(tool);
        for (int i = 0; i < 6; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'a' + i))));
        h.model.script.push_back(summary_of("summarised"));
        h.model.script.push_back(text("answer"));
        h.model.script.push_back(text("answer"));
        h.reply("q");
        return h.model.requests.front().structured_schema.has_value();
    };
    EXPECT_FALSE(run(false));
    EXPECT_TRUE(run(true));
}

TEST(ReactAgent, TheSummaryTemplateIsFilledAsPythonsFormat) {
    Harness h;
    compaction_profile(h);
    h.profile.summary_template = "<s>{{done}} {task_overview} | {files}</s>";
    for (int i = 0; i < 4; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(1000, 'a' + i))));
    model::ModelResponse summary;
    summary.structured_output = bj::object{{"task_overview", "kept {files}"}, {"files", bj::array{"a.txt", "b.txt"}}};
    h.model.script.push_back(summary);
    h.model.script.push_back(text("answer"));
    h.reply("q");
    // One pass, braces doubled for a literal, a list as Python's str() shows it.
    EXPECT_NE(std::string(h.state.summary.as_string()).find("<s>{done} kept {files} | ['a.txt', 'b.txt']</s>"),
              std::string::npos)
        << h.state.summary;
}

TEST(ReactAgent, TheCompactionTriggerIsComparedWithItsFraction) {
    // 0.25 x 4,002 = 1,000.5: a context of exactly 1,000 tokens stays below it.
    auto compacts = [](std::int64_t context_size) {
        Harness h;
        compaction_profile(h);
        h.profile.context_size = context_size;
        for (int i = 0; i < 4; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(1000, 'a' + i))));
        h.model.script.push_back(summary_of("summarised"));
        h.model.script.push_back(text("answer"));
        h.model.script.push_back(text("answer"));
        h.reply("q");
        return h.model.requests.front().structured_schema.has_value();
    };
    EXPECT_FALSE(compacts(4002));
    EXPECT_TRUE(compacts(4000));  // 1,000 reaches 1,000
}

TEST(ReactAgent, ContinuationsMustMatchWhatTheReplyAwaits) {
    auto asking = domain::tool_call_block("c1", "debug_guarded", "{}");
    asking["state"] = "asking";
    auto submitted = domain::tool_call_block("c2", "debug_external", "{}");
    submitted["state"] = "submitted";
    bj::array context{domain::assistant_msg("Tester", bj::array{asking, submitted})};
    auto confirm = [](std::string id) {
        return domain::event::user_confirm_result(
            "r1", bj::array{domain::event::confirm_result(true, bj::object{{"id", id}, {"name", "x"}, {"input", "{}"}})});
    };
    auto external = [](std::string id) {
        return domain::event::external_execution_result(
            "r1", bj::array{bj::object{{"type", "tool_result"}, {"id", id}, {"name", "x"}, {"output", "ok"}, {"state", "success"}}});
    };
    EXPECT_FALSE(continuation_error(context, "Tester", confirm("c1")));
    EXPECT_FALSE(continuation_error(context, "Tester", external("c2")));
    EXPECT_TRUE(continuation_error(context, "Tester", confirm("c2")));   // submitted, not asking
    EXPECT_TRUE(continuation_error(context, "Tester", external("c1")));  // asking, not submitted
    EXPECT_TRUE(continuation_error(context, "Tester", confirm("zz")));
    EXPECT_TRUE(continuation_error(context, "Other", confirm("c1")));    // another agent's reply
    EXPECT_TRUE(continuation_error(bj::array{}, "Tester", confirm("c1")));
    EXPECT_FALSE(continuation_error(bj::array{}, "Tester", domain::event::user_interrupt("r1")));
}

// --- tool groups -------------------------------------------------------------------

TEST(ReactAgentToolGroups, AGroupsToolsAreUsableOnlyAfterResetToolsActivatesIt) {
    Harness h;
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    auto list = std::make_shared<EchoTool>("ScheduleList");
    h.toolkit.add_group(ToolGroup{"schedule_tools", "Create and manage schedules", "Times are UTC.", {list}});
    h.model.script.push_back(calls({{"c1", "ScheduleList"}}));
    h.model.script.push_back(call_with("c2", "reset_tools", R"({"schedule_tools": true})"));
    h.model.script.push_back(calls({{"c3", "ScheduleList"}}));
    h.model.script.push_back(text("done"));
    h.reply("list my schedules");

    EXPECT_EQ(result_text(h.context, "c1"),
              "ToolGroupInactiveError: The tool 'ScheduleList' in group 'schedule_tools' is currently inactive. "
              "You should first activate the group by calling the 'reset_tools' tool.");
    EXPECT_EQ(domain::find_block(h.context.back().as_object(), "tool_result", "c1")->at("state"), "error");
    EXPECT_EQ(result_text(h.context, "c2"),
              "The currently activated tool group(s): schedule_tools.\n<tool-instructions>\n"
              "The tool instructions are a collection of suggestions, rules and notifications about how to use the "
              "tools in the activated groups.\n<group name=\"schedule_tools\">Times are UTC.</group>\n"
              "</tool-instructions>");
    EXPECT_EQ(list->runs, 1);
    EXPECT_EQ(domain::activated_groups(h.state), (std::vector<std::string>{"schedule_tools"}));
    ASSERT_EQ(h.model.requests.size(), 4u);
    EXPECT_EQ(tool_names(h.model.requests[0]), (std::vector<std::string>{"reset_tools", "echo"}));
    EXPECT_EQ(tool_names(h.model.requests[1]), (std::vector<std::string>{"reset_tools", "echo"}));
    EXPECT_EQ(tool_names(h.model.requests[2]), (std::vector<std::string>{"reset_tools", "echo", "ScheduleList"}));
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");

    // The activation belongs to the session: the next reply starts with the group active.
    h.model.script.push_back(text("still here"));
    h.reply("again");
    EXPECT_EQ(tool_names(h.model.requests.back()), (std::vector<std::string>{"reset_tools", "echo", "ScheduleList"}));
}

TEST(ReactAgentToolGroups, WithoutGroupsThereIsNoResetTools) {
    Harness h;
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    h.model.script.push_back(call_with("c1", "reset_tools", "{}"));
    h.model.script.push_back(text("ok"));
    h.reply("go");
    EXPECT_EQ(tool_names(h.model.requests[0]), (std::vector<std::string>{"echo"}));
    EXPECT_EQ(result_text(h.context, "c1"), "ToolNotFoundError: The tool named 'reset_tools' doesn't exist.");
}

// --- structured output -----------------------------------------------------------

const bj::object kWeatherSchema = bj::parse(R"({
    "title": "Weather",
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "default": "C"}},
    "required": ["city"]
})").as_object();

/// A tool the permission engine asks the user about (the default opinion).
class GuardedTool final : public Tool {
public:
    model::ToolSchema s{"guarded", "asks first", {}};
    const model::ToolSchema& schema() const override { return s; }
    asio::awaitable<ToolOutcome> run(const bj::object&, ToolContext&, const std::function<void(const ToolChunk&)>& emit) override {
        emit(ToolChunk{"ran", std::nullopt});
        co_return ToolOutcome{"success", bj::value("ran"), {}};
    }
};

TEST(ReactAgentStructuredOutput, AValidatedOutputEndsTheReply) {
    Harness h;
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    h.model.script.push_back(call_with("g1", "GenerateStructuredOutput", R"({"city": 5})"));
    h.model.script.push_back(call_with("g2", "GenerateStructuredOutput", R"({"city": "Oslo"})"));
    h.reply("weather?", kWeatherSchema);

    ASSERT_EQ(h.model.requests.size(), 2u);
    for (const auto& request : h.model.requests) {
        EXPECT_EQ(tool_names(request), (std::vector<std::string>{"echo", "GenerateStructuredOutput"}));
        EXPECT_FALSE(request.tool_choice.has_value());
    }
    // The tool offers the schema without its titles.
    EXPECT_FALSE(h.model.requests[0].tools[1].parameters.contains("title"));
    EXPECT_EQ(h.state.reply_context.at("structured_schema"), bj::value(kWeatherSchema));
    // The agent validates every tool input against its schema first, as the
    // reference does; the tool's own ValidationError covers what reaches it.
    EXPECT_EQ(result_text(h.context, "g1"),
              "Input validation failed for tool 'GenerateStructuredOutput': 5 is not of type 'string'");
    EXPECT_EQ(domain::find_block(h.context.back().as_object(), "tool_result", "g1")->at("state"), "error");
    EXPECT_EQ(result_text(h.context, "g2"), "Structured output generated successfully.");
    EXPECT_EQ(bj::serialize(h.state.reply_context.at("structured_output")), R"({"city":"Oslo","unit":"C"})");
    EXPECT_EQ(h.state.reply_context.at("cur_iter"), 2);

    // One reminder per reasoning step, in the reply, with no event of its own.
    const std::string reminder =
        "<system-reminder>You're required to generate structured output by calling the 'GenerateStructuredOutput' "
        "tool. Call it when you are ready to generate the final structured output.</system-reminder>";
    EXPECT_EQ(structured_output_hint(false), reminder);
    EXPECT_EQ(hints(h.context, R"({"label": "System", "sublabel": "Structured Output Requirement"})"),
              (std::vector<std::string>{reminder, reminder}));
    auto types = h.sink.types();
    EXPECT_EQ(std::count(types.begin(), types.end(), "HINT_BLOCK"), 1);  // the runtime state only
    EXPECT_EQ(types.back(), "REPLY_END");
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");

    ASSERT_TRUE(h.final_message);
    const auto& msg = *h.final_message;
    EXPECT_EQ(msg.at("id"), h.state.reply_context.at("reply_id"));
    EXPECT_EQ(msg.at("role"), "assistant");
    EXPECT_EQ(msg.at("name"), "Friday");
    EXPECT_EQ(msg.at("content").as_array().at(0).at("text"), "The required structured output is generated.");
    EXPECT_EQ(msg.at("finished_reason"), "completed");
    EXPECT_EQ(bj::serialize(msg.at("structured_output")), R"({"city":"Oslo","unit":"C"})");
}

TEST(ReactAgentStructuredOutput, TextAnswersDoNotEndItAndTheLimitForcesTheToolThenGivesUp) {
    Harness h;
    h.profile.max_iters = 1;
    h.profile.structured_output_grace_iters = 2;
    h.model.script.push_back(text("let me think"));
    h.model.script.push_back(text("still thinking"));
    h.model.script.push_back(text("almost"));
    h.model.script.push_back(text("never asked for"));
    h.reply("weather?", kWeatherSchema);

    ASSERT_EQ(h.model.requests.size(), 3u);  // max_iters + grace reasoning steps
    EXPECT_FALSE(h.model.requests[0].tool_choice.has_value());
    EXPECT_EQ(h.model.requests[1].tool_choice, "GenerateStructuredOutput");
    EXPECT_EQ(h.model.requests[2].tool_choice, "GenerateStructuredOutput");
    const std::string forced =
        "<system-reminder>You're required to generate structured output by calling the 'GenerateStructuredOutput' "
        "tool. You have reached the maximum reasoning-acting iterations, so call this tool at once to generate the "
        "final structured output.</system-reminder>";
    EXPECT_EQ(structured_output_hint(true), forced);
    EXPECT_EQ(hints(h.context, kStructuredOutputSource),
              (std::vector<std::string>{structured_output_hint(false), forced, forced}));
    auto types = h.sink.types();
    ASSERT_GE(types.size(), 2u);
    EXPECT_EQ(types[types.size() - 2], "EXCEED_MAX_ITERS");
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "exceed_max_iters");
    EXPECT_EQ(h.state.reply_context.at("cur_iter"), 3);
    EXPECT_TRUE(h.state.reply_context.at("structured_output").is_null());
    ASSERT_TRUE(h.final_message);
    EXPECT_EQ(h.final_message->at("content").as_array().at(0).at("text"),
              "The maximum reasoning-acting iterations are exceeded.");
    EXPECT_EQ(h.final_message->at("finished_reason"), "exceed_max_iters");
    EXPECT_TRUE(h.final_message->at("structured_output").is_null());
}

TEST(ReactAgentStructuredOutput, TheForcedCallInTheGraceIterationsCompletesTheReply) {
    Harness h;
    h.profile.max_iters = 1;
    h.model.script.push_back(text("first, an answer in prose"));
    h.model.script.push_back(call_with("g1", "GenerateStructuredOutput", R"({"city": "Rome", "unit": "F"})"));
    h.reply("weather?", kWeatherSchema);
    ASSERT_EQ(h.model.requests.size(), 2u);
    EXPECT_EQ(h.model.requests[1].tool_choice, "GenerateStructuredOutput");
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
    EXPECT_EQ(bj::serialize(h.final_message->at("structured_output")), R"({"city":"Rome","unit":"F"})");
}

TEST(ReactAgentStructuredOutput, AContinuationKeepsTheParkedRepliesSchema) {
    Harness h;
    h.toolkit.add(std::make_shared<GuardedTool>());
    h.model.script.push_back(calls({{"c1", "guarded"}}));
    h.reply("weather?", kWeatherSchema);
    ASSERT_TRUE(h.final_message);
    EXPECT_EQ(h.final_message->at("content").as_array().at(0).at("text"),
              "I'm waiting for your permission or the external execution to finish.");
    EXPECT_TRUE(h.final_message->at("finished_reason").is_null());
    EXPECT_NE(h.sink.types().back(), "REPLY_END");

    // A new run builds a new toolkit; the agent equips it from the stored schema.
    Toolkit fresh;
    fresh.add(std::make_shared<GuardedTool>());
    h.model.script.push_back(call_with("g1", "GenerateStructuredOutput", R"({"city": "Lima"})"));
    const auto reply_id = std::string(h.state.reply_context.at("reply_id").as_string());
    h.resume(fresh, domain::event::user_confirm_result(
                        reply_id, bj::array{domain::event::confirm_result(
                                      true, bj::object{{"id", "c1"}, {"name", "guarded"}, {"input", "{\"text\": \"x\"}"}})}));
    EXPECT_EQ(result_text(h.context, "c1"), "ran");
    EXPECT_EQ(tool_names(h.model.requests.back()), (std::vector<std::string>{"guarded", "GenerateStructuredOutput"}));
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
    EXPECT_EQ(h.state.reply_context.at("reply_id").as_string(), reply_id);
    EXPECT_EQ(bj::serialize(h.final_message->at("structured_output")), R"({"city":"Lima","unit":"C"})");
}

TEST(ReactAgentStructuredOutput, ANonObjectSchemaIsRefusedBeforeAnythingHappens) {
    Harness h;
    EXPECT_THROW(h.reply("weather?", bj::object{{"type", "string"}}), std::invalid_argument);
    EXPECT_TRUE(h.sink.events.empty());
    EXPECT_TRUE(h.context.empty());
    EXPECT_TRUE(h.model.requests.empty());
}

TEST(ReactAgentStructuredOutput, APlainReplyAfterwardsHasNoStructuredOutputTool) {
    Harness h;
    h.model.script.push_back(call_with("g1", "GenerateStructuredOutput", R"({"city": "Oslo"})"));
    h.reply("weather?", kWeatherSchema);
    h.model.script.push_back(text("plain answer"));
    h.reply("thanks");
    EXPECT_TRUE(h.model.requests.back().tools.empty());
    EXPECT_TRUE(h.state.reply_context.at("structured_schema").is_null());
    EXPECT_TRUE(h.state.reply_context.at("structured_output").is_null());
    EXPECT_TRUE(hints(h.context, kStructuredOutputSource).empty());
    // The final message is the answer itself.
    ASSERT_TRUE(h.final_message);
    EXPECT_EQ(h.final_message->at("id"), h.state.reply_context.at("reply_id"));
    EXPECT_EQ(h.final_message->at("content").as_array().at(0).at("text"), "plain answer");
    EXPECT_EQ(h.final_message->at("finished_reason"), "completed");
    EXPECT_EQ(h.final_message->at("usage").at("input_tokens"), 10);
    EXPECT_TRUE(h.final_message->at("structured_output").is_null());
}


TEST(ReactAgentConfirmation, DeniedCallsAreClosedInTheOrderOfTheReply) {
    Harness h;
    auto asking = [](std::string id) {
        auto call = domain::tool_call_block(id, "guarded", "{}");
        call["state"] = "asking";
        return call;
    };
    h.context.push_back(domain::user_msg("user", std::string_view("go")));
    auto parked = domain::assistant_msg("Friday", bj::array{asking("c1"), asking("c2")});
    parked["id"] = "r1";
    h.context.push_back(parked);
    h.state.reply_context["reply_id"] = "r1";
    h.model.script.push_back(text("understood"));
    Toolkit kit;
    kit.add(std::make_shared<GuardedTool>());
    auto deny = [](std::string id) {
        return domain::event::confirm_result(false, bj::object{{"id", id}, {"name", "guarded"}, {"input", "{}"}});
    };
    // The client answers the second call first.
    h.resume(kit, domain::event::user_confirm_result("r1", bj::array{deny("c2"), deny("c1")}));
    std::vector<std::string> closed;
    for (const auto& e : h.sink.events)
        if (e.at("type") == "TOOL_RESULT_START") closed.emplace_back(e.at("tool_call_id").as_string());
    EXPECT_EQ(closed, (std::vector<std::string>{"c1", "c2"}));
    std::vector<std::string> results;
    for (const auto& b : h.context.back().as_object().at("content").as_array())
        if (b.at("type") == "tool_result") results.emplace_back(b.at("id").as_string());
    EXPECT_EQ(results, (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(result_text(h.context, "c1"),
              "<system-reminder>The execution of tool \"guarded\" is denied by user!</system-reminder>");
    EXPECT_EQ(h.sink.events.back().at("finished_reason"), "completed");
}

// The reference compares the state from before the answer was applied with
// the state once the turn is over: one notice, after the turn's own events.
TEST(ReactAgentConfirmation, ARuleAddedByAnApprovalIsAnnouncedOnceWhenTheTurnEnds) {
    Harness h;
    auto call = domain::tool_call_block("c1", "guarded", "{\"text\": \"x\"}");
    call["state"] = "asking";
    h.context.push_back(domain::user_msg("user", std::string_view("go")));
    auto parked = domain::assistant_msg("Friday", bj::array{call});
    parked["id"] = "r1";
    h.context.push_back(parked);
    h.state.reply_context["reply_id"] = "r1";
    h.model.script.push_back(text("done"));
    Toolkit kit;
    kit.add(std::make_shared<GuardedTool>());
    const bj::array rules{bj::object{{"tool_name", "guarded"}, {"rule_content", "x"}, {"behavior", "allow"},
                                     {"source", "user"}}};
    h.resume(kit, domain::event::user_confirm_result(
                      "r1", bj::array{domain::event::confirm_result(
                                true, bj::object{{"id", "c1"}, {"name", "guarded"}, {"input", "{\"text\": \"x\"}"}},
                                rules)}));
    const auto types = h.sink.types();
    EXPECT_EQ(std::count(types.begin(), types.end(), "CUSTOM"), 1);
    auto custom = std::find(types.begin(), types.end(), "CUSTOM");
    auto result = std::find(types.begin(), types.end(), "TOOL_RESULT_START");
    auto end = std::find(types.begin(), types.end(), "REPLY_END");
    ASSERT_NE(custom, types.end());
    EXPECT_GT(custom, result);
    EXPECT_GT(custom, end);
    EXPECT_FALSE(h.sink.events[custom - types.begin()].at("value").at("permission_context").at("allow_rules")
                     .as_object().empty());
}

bj::object inbox_hint(const std::string& text) {
    return domain::hint_block(bj::value(bj::array{domain::text_block(text)}),
                              bj::value(R"({"label": "tool_output", "sublabel": "Bash · call_9"})"));
}

TEST(ReactAgentInbox, HintsFromTheInboxAreAnnouncedAndReachTheNextModelCall) {
    Harness h;
    h.sink.inbox.push_back({inbox_hint("background result 42")});
    h.model.script.push_back(text("noted"));
    h.reply("hi");
    auto hint_at = std::find_if(h.sink.events.begin(), h.sink.events.end(), [](const bj::object& e) {
        return e.at("type") == "HINT_BLOCK" && e.at("source") == R"({"label": "tool_output", "sublabel": "Bash · call_9"})";
    });
    auto call_at = std::find_if(h.sink.events.begin(), h.sink.events.end(),
                                [](const bj::object& e) { return e.at("type") == "MODEL_CALL_START"; });
    ASSERT_NE(hint_at, h.sink.events.end());
    EXPECT_LT(hint_at, call_at);
    ASSERT_EQ(h.model.requests.size(), 1u);
    EXPECT_NE(h.model.seen_contexts[0].find("background result 42"), std::string::npos);
    // The hint went into this reply's message, after the user's.
    ASSERT_EQ(h.context.size(), 2u);
    EXPECT_EQ(h.context[1].as_object().at("role"), "assistant");
    EXPECT_EQ(hints(h.context, R"({"label": "tool_output", "sublabel": "Bash · call_9"})").size(), 1u);
    EXPECT_GE(h.sink.drains, 1);
}

TEST(ReactAgentInbox, TheInboxIsDrainedAfterTheRuntimeStateJustBeforeTheModelCall) {
    // As the reference's inbox middleware on the reasoning chain: after the
    // decision's hint, compaction and the runtime-state injection.
    Harness h;
    h.sink.inbox.push_back({inbox_hint("background result 42")});
    h.model.script.push_back(text("noted"));
    h.reply("hi");
    auto types = h.sink.types();
    ASSERT_GE(types.size(), 4u);
    EXPECT_EQ(std::vector<std::string>(types.begin(), types.begin() + 4),
              (std::vector<std::string>{"REPLY_START", "HINT_BLOCK", "HINT_BLOCK", "MODEL_CALL_START"}));
    EXPECT_EQ(h.sink.events[1].at("source"), bj::value(kRuntimeStateSource));
    EXPECT_EQ(h.sink.events[2].at("source"), R"({"label": "tool_output", "sublabel": "Bash · call_9"})");
    const auto& content = h.context.back().as_object().at("content").as_array();
    ASSERT_GE(content.size(), 2u);
    EXPECT_EQ(content[0].at("source"), bj::value(kRuntimeStateSource));
    EXPECT_EQ(content[1].at("source"), R"({"label": "tool_output", "sublabel": "Bash · call_9"})");
}

TEST(ReactAgentInbox, ACompactionInTheSameStepDoesNotSummariseTheFreshHints) {
    Harness h;
    compaction_profile(h);
    h.profile.system_prompt = std::string(400, 's');  // 100 tokens, over the whole reserve:
    h.profile.reserve_ratio = 0.01;                    // everything in context is compressed
    for (int i = 0; i < 12; ++i) h.context.push_back(domain::user_msg("user", std::string_view(std::string(400, 'a' + i))));
    h.sink.inbox.push_back({inbox_hint("fresh news")});
    h.model.script.push_back(summary_of("old"));
    h.model.script.push_back(text("noted"));
    h.reply("hi");
    ASSERT_EQ(h.model.requests.size(), 2u);
    ASSERT_TRUE(h.model.requests[0].structured_schema.has_value());
    std::string compressed;
    for (const auto& m : h.model.requests[0].messages) compressed += bj::serialize(m);
    EXPECT_EQ(compressed.find("fresh news"), std::string::npos);
    // The hint reaches the model in full instead.
    EXPECT_NE(h.model.seen_contexts[1].find("fresh news"), std::string::npos);
}

TEST(ReactAgentInbox, AWakeReplyPutsTheHintsAtTheEndOfTheAgentsLastMessage) {
    Harness h;
    h.model.script.push_back(text("first answer"));
    h.reply("hi");
    ASSERT_EQ(h.context.size(), 2u);
    const std::string first_id(h.context[1].as_object().at("id").as_string());
    h.sink.persisted_ids.clear();

    h.sink.inbox.push_back({inbox_hint("the build finished")});
    h.model.script.push_back(text("The build is done."));
    h.wake();
    // As the reference does: appended to this agent's last message, whichever reply it was.
    const auto& first = h.context[1].as_object().at("content").as_array();
    EXPECT_EQ(first.back().as_object().at("type"), "hint");
    EXPECT_NE(std::find(h.sink.persisted_ids.begin(), h.sink.persisted_ids.end(), first_id), h.sink.persisted_ids.end())
        << "the changed older message was not checkpointed";
    ASSERT_EQ(h.model.requests.size(), 2u);
    EXPECT_EQ(h.model.seen_contexts[0].find("the build finished"), std::string::npos);
    EXPECT_NE(h.model.seen_contexts[1].find("the build finished"), std::string::npos);
    auto starts = std::count_if(h.sink.events.begin(), h.sink.events.end(),
                                [](const bj::object& e) { return e.at("type") == "REPLY_START"; });
    EXPECT_EQ(starts, 2);
    ASSERT_EQ(h.context.size(), 3u);  // the wake reply's answer is its own message
    EXPECT_EQ(h.context[2].as_object().at("content").as_array().back().as_object().at("text"), "The build is done.");
}


/// The invariant of the persisted scan: its totals are those of the messages
/// it counted, which the last reasoning step saw before its tail (the reply's
/// own message came after it: the next run counts that one).
void expect_scan_matches(const Harness& h) {
    const auto* scan = h.state.middle_context.if_contains(kContextScanKey);
    ASSERT_TRUE(scan && scan->is_object());
    const auto& o = scan->as_object();
    const auto counted = static_cast<std::size_t>(o.at("counted").as_int64());
    EXPECT_LE(counted, h.context.size() - 1);
    EXPECT_GE(counted + 2, h.context.size()) << "the scan lags more than the reply's own message";
    std::int64_t tokens = 0, images = 0;
    for (std::size_t i = 0; i < counted; ++i) {
        auto cost = estimate_cost(h.context[i]);
        tokens += cost.tokens;
        images += cost.images;
    }
    EXPECT_EQ(o.at("tokens").as_int64(), tokens);
    EXPECT_EQ(o.at("images").as_int64(), images);
    EXPECT_EQ(o.at("scanned").as_int64(), o.at("counted").as_int64());
}

TEST(ReactAgentContextScan, TheScanIsKeptInTheStateAndTheNextRunGoesOnFromIt) {
    Harness h;
    h.model.script.push_back(text("first"));
    h.reply("one");
    expect_scan_matches(h);
    h.model.script.push_back(calls({{"c1", "echo"}}));
    h.toolkit.add(std::make_shared<EchoTool>("echo"));
    h.model.script.push_back(text("second"));
    h.reply("two");
    expect_scan_matches(h);
    EXPECT_TRUE(h.state.middle_context.at(kContextScanKey).as_object().at("last_time_us").is_int64())
        << "the injected time is remembered";
}

TEST(ReactAgentContextScan, AScanThatDoesNotFitTheContextIsIgnored) {
    Harness h;
    h.model.script.push_back(text("first"));
    h.reply("one");
    // A scan claiming more messages than the context has (a rewritten history).
    h.state.middle_context[kContextScanKey] = bj::object{{"v", 1},         {"counted", 50}, {"tokens", 999999},
                                                         {"images", 0},    {"scanned", 50}, {"last_time_us", nullptr},
                                                         {"tasks_known", false}};
    h.model.script.push_back(text("second"));
    h.reply("two");
    expect_scan_matches(h);
}

TEST(ReactAgentContextScan, APersistedTotalDecidesCompactionWithoutRereadingTheHistory) {
    Harness h;
    h.profile.context_size = 1000;
    h.profile.summary_schema = bj::object{{"type", "object"}};
    h.model.script.push_back(text("first"));
    h.reply("one");
    // Claims the history holds far more tokens than it does: the next reply's
    // first step believes it and compacts (the model is asked for a summary).
    auto& scan = h.state.middle_context[kContextScanKey].as_object();
    scan["tokens"] = 5000;
    const auto before = h.model.requests.size();
    h.model.script.push_back(text("{}"));  // the compression call
    h.model.script.push_back(text("second"));
    h.reply("two");
    EXPECT_GE(h.model.requests.size(), before + 2);
    EXPECT_TRUE(h.sink.replaced) << "the context was not compacted";
}

}  // namespace
}  // namespace agentd::agent
