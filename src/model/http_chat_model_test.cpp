// The HTTP glue without sockets: retries, backoff, Retry-After, errors,
// cancellation, media loading and the structured-output ladder, against a
// scripted transport.
#include "model/http_chat_model.hpp"

#include <gtest/gtest.h>

#include "model/anthropic/anthropic_chat_model.hpp"
#include "model/gemini/gemini_chat_model.hpp"
#include "model/model_test_support.hpp"
#include "model/ollama/ollama_chat_model.hpp"
#include "model/openai/openai_chat_model.hpp"
#include "model/structured_output.hpp"

namespace agentd::model {
namespace {

using testing::Exchange;
using testing::FakeTransport;
using testing::parse;
using testing::RecordingSleeper;
using testing::run_coro;
using testing::sse_body;
using Kind = net::TransportError::Kind;

const std::string kOkBody = sse_body({
    R"({"choices":[{"delta":{"content":"Hel"}}]})",
    R"({"choices":[{"delta":{"content":"lo"}}]})",
    R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}})",
    "[DONE]",
});

struct Harness {
    std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
    RecordingSleeper sleeper;
    CallSettings settings() const {
        CallSettings s;
        s.sleeper = sleeper.sleeper();
        s.random = [] { return 0.5; };
        return s;
    }
    std::unique_ptr<openai::OpenAIChatModel> openai(bj::object params = {}) {
        openai::OpenAIChatModel::Endpoint e;
        e.base_url = "https://api.example/v1/";
        e.api_key = "sk-test";
        e.organization = "org-1";
        return std::make_unique<openai::OpenAIChatModel>(e, "gpt-4.1", std::move(params), transport,
                                                         settings());
    }
};

ChatRequest hello() {
    ChatRequest r;
    r.messages = parse(R"([{"name":"user","role":"user","content":[{"type":"text","text":"hi"}]}])")
                     .as_array();
    return r;
}

ModelResponse call(ChatModel& model, const ChatRequest& req,
                   std::vector<ModelChunk>* chunks = nullptr, CancellationPtr cancel = nullptr) {
    return run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
        co_return co_await model.call(
            req,
            [&](const ModelChunk& c) {
                if (chunks) chunks->push_back(c);
            },
            cancel);
    });
}

TEST(RetryPolicy, JitteredCappedExponentialBackoff) {
    RetryPolicy p;
    EXPECT_EQ(backoff_delay(p, 0, 0.5).count(), 750);
    EXPECT_EQ(backoff_delay(p, 1, 0.5).count(), 1500);
    EXPECT_EQ(backoff_delay(p, 2, 0.999).count(), 3998);
    EXPECT_EQ(backoff_delay(p, 10, 0.5).count(), 6000);  // capped at 8 s
    EXPECT_EQ(backoff_delay(p, 3, 0.0).count(), 4000);   // never less than half the step
    EXPECT_EQ(backoff_delay(p, 0, 0.0).count(), 500);
}

TEST(RetryPolicy, RetryAfterHeaders) {
    net::HttpResponseHead h;
    EXPECT_FALSE(retry_after(h, std::chrono::seconds(60)).has_value());
    h.headers = {{"retry-after", "2"}};
    EXPECT_EQ(retry_after(h, std::chrono::seconds(60))->count(), 2000);
    h.headers = {{"retry-after-ms", "150.5"}, {"retry-after", "9"}};
    EXPECT_EQ(retry_after(h, std::chrono::seconds(60))->count(), 151);
    h.headers = {{"retry-after", "120"}};
    EXPECT_FALSE(retry_after(h, std::chrono::seconds(60)).has_value());
    h.headers = {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}};
    EXPECT_FALSE(retry_after(h, std::chrono::seconds(60)).has_value());
}

TEST(RetryChatModel, StreamsAndSendsTheRightRequest) {
    Harness h;
    h.transport->script.push_back({200, {}, {kOkBody}});
    auto model = h.openai();
    std::vector<ModelChunk> chunks;
    auto r = call(*model, hello(), &chunks);
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(r.content.at(0).at("text"), "Hello");
    EXPECT_EQ(r.usage.output_tokens, 2);
    ASSERT_EQ(h.transport->requests.size(), 1u);
    const auto& req = h.transport->requests[0];
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "https://api.example/v1/chat/completions");
    auto has = [&](std::string k, std::string v) {
        for (auto& [hk, hv] : req.headers)
            if (hk == k && hv == v) return true;
        return false;
    };
    EXPECT_TRUE(has("authorization", "Bearer sk-test"));
    EXPECT_TRUE(has("openai-organization", "org-1"));
    EXPECT_TRUE(has("content-type", "application/json"));
    EXPECT_EQ(parse(req.body).at("model"), "gpt-4.1");
    EXPECT_TRUE(h.sleeper.delays->empty());
}

TEST(RetryChatModel, RetriesRateLimitAndServerErrorsWithBackoff) {
    Harness h;
    h.transport->script.push_back({429, {}, {R"({"error":{"message":"slow down"}})"}});
    h.transport->script.push_back({503, {}, {"oops"}});
    h.transport->script.push_back({200, {}, {kOkBody}});
    auto model = h.openai();
    auto r = call(*model, hello());
    EXPECT_EQ(r.content.at(0).at("text"), "Hello");
    EXPECT_EQ(h.transport->requests.size(), 3u);
    ASSERT_EQ(h.sleeper.delays->size(), 2u);
    EXPECT_EQ((*h.sleeper.delays)[0].count(), 750);   // 1 s · (0.5 + 0.5 · 0.5)
    EXPECT_EQ((*h.sleeper.delays)[1].count(), 1500);  // 2 s · (0.5 + 0.5 · 0.5)
}

TEST(RetryChatModel, HonoursRetryAfter) {
    Harness h;
    h.transport->script.push_back({429, {{"retry-after", "3"}}, {}});
    h.transport->script.push_back({200, {}, {kOkBody}});
    auto model = h.openai();
    call(*model, hello());
    ASSERT_EQ(h.sleeper.delays->size(), 1u);
    EXPECT_EQ((*h.sleeper.delays)[0].count(), 3000);
}

TEST(RetryChatModel, GivesUpAfterMaxRetriesWithARetryableError) {
    Harness h;
    for (int i = 0; i < 6; ++i)
        h.transport->script.push_back({500, {}, {R"({"error":{"message":"boom"}})"}});
    auto model = h.openai();
    try {
        call(*model, hello());
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 500);
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos);
    }
    EXPECT_EQ(h.transport->requests.size(), 6u);  // 1 + max_retries (5)
    EXPECT_EQ(h.sleeper.delays->size(), 5u);
}

TEST(RetryChatModel, ClientErrorsAreNotRetried) {
    Harness h;
    h.transport->script.push_back({401, {}, {R"({"error":{"message":"bad key"}})"}});
    auto model = h.openai();
    try {
        call(*model, hello());
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 401);
        EXPECT_FALSE(e.retryable());
    }
    EXPECT_EQ(h.transport->requests.size(), 1u);
}

TEST(RetryChatModel, ShouldRetryHeaderOverrides) {
    Harness h;
    h.transport->script.push_back({500, {{"x-should-retry", "false"}}, {}});
    auto model = h.openai();
    EXPECT_THROW(call(*model, hello()), ModelError);
    EXPECT_EQ(h.transport->requests.size(), 1u);
    Harness h2;
    h2.transport->script.push_back({400, {{"x-should-retry", "true"}}, {}});
    h2.transport->script.push_back({200, {}, {kOkBody}});
    auto model2 = h2.openai();
    EXPECT_NO_THROW(call(*model2, hello()));
}

TEST(RetryChatModel, AStatusThatIsNotTransientGetsThreeRetriesAtMost) {
    Harness h;
    for (int i = 0; i < 6; ++i) h.transport->script.push_back({400, {{"x-should-retry", "true"}}, {}});
    auto model = h.openai();
    EXPECT_THROW(call(*model, hello()), ModelError);
    EXPECT_EQ(h.transport->requests.size(), 4u);
    Harness busy;
    for (int i = 0; i < 6; ++i) busy.transport->script.push_back({529, {}, {}});
    busy.transport->script.push_back({200, {}, {kOkBody}});
    auto model2 = busy.openai();
    EXPECT_THROW(call(*model2, hello()), ModelError);  // an overloaded provider gets all five
    EXPECT_EQ(busy.transport->requests.size(), 6u);
}

TEST(RetryChatModel, TransportFailuresBeforeTheStreamAreRetried) {
    Harness h;
    Exchange refused;
    refused.fail_before_head = Kind::kConnect;
    Exchange timeout;
    timeout.fail_before_head = Kind::kTimeout;
    h.transport->script = {refused, timeout, {200, {}, {kOkBody}}};
    auto model = h.openai();
    EXPECT_EQ(call(*model, hello()).content.at(0).at("text"), "Hello");
    EXPECT_EQ(h.sleeper.delays->size(), 2u);

    Harness h2;
    for (int i = 0; i < 4; ++i) h2.transport->script.push_back(refused);
    auto model2 = h2.openai();
    try {
        call(*model2, hello());
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 0);
        EXPECT_TRUE(e.retryable());
    }
}

TEST(RetryChatModel, BrokenStreamIsNeverRetried) {
    Harness h;
    Exchange broken{200, {}, {sse_body({R"({"choices":[{"delta":{"content":"par"}}]})"})}};
    broken.fail_after_body = Kind::kReset;
    h.transport->script = {broken, {200, {}, {kOkBody}}};
    auto model = h.openai();
    std::vector<ModelChunk> chunks;
    try {
        call(*model, hello(), &chunks);
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 0);
        EXPECT_FALSE(e.retryable());
    }
    EXPECT_EQ(chunks.size(), 1u);
    EXPECT_EQ(h.transport->requests.size(), 1u);
}

TEST(RetryChatModel, ErrorEventMidStreamFailsTheCall) {
    Harness h;
    h.transport->script.push_back(
        {200,
         {},
         {sse_body({R"({"choices":[{"delta":{"content":"a"}}]})",
                    R"({"error":{"message":"overloaded","type":"server_error"}})"})}});
    auto model = h.openai();
    try {
        call(*model, hello());
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 500);
    }
    EXPECT_EQ(h.transport->requests.size(), 1u);
}

TEST(RetryChatModel, CancellationMidStreamReturnsThePartial) {
    Harness h;
    auto cancel = std::make_shared<Cancellation>();
    h.transport->cancel_target = cancel;
    Exchange ex{200,
                {},
                {sse_body({R"({"choices":[{"delta":{"content":"one "}}]})"}),
                 sse_body({R"({"choices":[{"delta":{"content":"two"}}]})"})}};
    ex.cancel_after = 1;
    h.transport->script.push_back(ex);
    auto model = h.openai();
    try {
        call(*model, hello(), nullptr, cancel);
        FAIL();
    } catch (const ModelInterrupted& e) {
        ASSERT_EQ(e.partial().content.size(), 1u);
        EXPECT_EQ(e.partial().content[0].at("text"), "one ");
    }
}

TEST(RetryChatModel, CancelledBeforeTheCallIsAnEmptyInterruption) {
    Harness h;
    auto cancel = std::make_shared<Cancellation>();
    cancel->request();
    auto model = h.openai();
    try {
        call(*model, hello(), nullptr, cancel);
        FAIL();
    } catch (const ModelInterrupted& e) {
        EXPECT_TRUE(e.partial().content.empty());
    }
    EXPECT_TRUE(h.transport->requests.empty());
}

TEST(RetryChatModel, SinkExceptionsAbortWithoutRetry) {
    Harness h;
    h.transport->script.push_back({200, {}, {kOkBody}});
    auto model = h.openai();
    EXPECT_THROW(run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
                     co_return co_await model->call(
                         hello(),
                         [](const ModelChunk&) { throw std::runtime_error("consumer failed"); },
                         nullptr);
                 }),
                 std::runtime_error);
    EXPECT_EQ(h.transport->requests.size(), 1u);
}

TEST(RetryChatModel, GeminiRetriesTransientErrorsOnlyOllamaRetriesNoHttpError) {
    Harness h;
    h.transport->script = {
        {429, {}, {}},
        {200, {}, {sse_body({R"({"candidates":[{"content":{"parts":[{"text":"ok"}]}}]})"})}}};
    gemini::GeminiChatModel g("https://g.example", "key", "gemini-2.5-flash", {}, h.transport,
                              h.settings());
    EXPECT_EQ(call(g, hello()).content.at(0).at("text"), "ok");
    EXPECT_EQ(h.transport->requests[0].url,
              "https://g.example/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    EXPECT_EQ(h.transport->requests[0].headers[0],
              (std::pair<std::string, std::string>{"x-goog-api-key", "key"}));
    // A rejected request (thinking off for a thinking-only model) is not sent again.
    Harness rejected;
    rejected.transport->script = {{400, {}, {R"({"error":{"code":400,"status":"INVALID_ARGUMENT"}})"}}};
    gemini::GeminiChatModel pro("https://g.example", "key", "models/gemini-2.5-pro", {}, rejected.transport,
                                rejected.settings());
    EXPECT_THROW(call(pro, hello()), ModelError);
    ASSERT_EQ(rejected.transport->requests.size(), 1u);
    // A name already written as a resource path is not prefixed twice.
    EXPECT_EQ(rejected.transport->requests[0].url,
              "https://g.example/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    EXPECT_EQ(gemini::model_resource("tunedModels/mine"), "tunedModels/mine");
    EXPECT_THROW(gemini::model_resource("../../admin"), std::invalid_argument);
    EXPECT_THROW(gemini::model_resource("gemini?key=x"), std::invalid_argument);

    Harness o;
    o.transport->script = {{500, {}, {R"({"error":"model crashed"})"}}};
    ollama::OllamaChatModel model("localhost", "qwen3:14b", {}, o.transport, o.settings());
    EXPECT_THROW(call(model, hello()), ModelError);
    EXPECT_EQ(o.transport->requests.size(), 1u);
    EXPECT_EQ(o.transport->requests[0].url, "http://localhost:11434/api/chat");

    Harness o2;
    Exchange refused;
    refused.fail_before_head = Kind::kConnect;
    o2.transport->script = {refused,
                            {200,
                             {},
                             {R"({"message":{"content":"hi"},"done":true})"
                              "\n"}}};
    ollama::OllamaChatModel model2("", "m", {}, o2.transport, o2.settings());
    EXPECT_EQ(call(model2, hello()).content.at(0).at("text"), "hi");
}

TEST(RetryChatModel, AnthropicHeadersAndBody) {
    Harness h;
    h.transport->script.push_back(
        {200, {}, {"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"}});
    anthropic::AnthropicChatModel m("https://a.example/", "sk-ant", "claude-sonnet-4-5", {},
                                    h.transport, h.settings());
    call(m, hello());
    const auto& req = h.transport->requests.at(0);
    EXPECT_EQ(req.url, "https://a.example/v1/messages");
    EXPECT_EQ(req.headers[0], (std::pair<std::string, std::string>{"x-api-key", "sk-ant"}));
    EXPECT_EQ(req.headers[1],
              (std::pair<std::string, std::string>{"anthropic-version", "2023-06-01"}));
}

TEST(RetryChatModel, UrlMediaAreDownloadedOnceAndInlined) {
    Harness h;
    h.transport->media["https://img.example/cat.png"] = "PNGDATA";
    h.transport->script.push_back(
        {200, {}, {"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"}});
    anthropic::AnthropicChatModel m("https://a.example", "k", "claude", {}, h.transport,
                                    h.settings());
    ChatRequest req;
    req.messages = parse(R"([{"name":"u","role":"user","content":[
        {"type":"data","source":{"type":"url","url":"https://img.example/cat.png","media_type":"image/png"}},
        {"type":"data","source":{"type":"url","url":"https://img.example/cat.png","media_type":"image/png"}},
        {"type":"data","source":{"type":"url","url":"https://img.example/missing.png","media_type":"image/png"}}]}])")
                       .as_array();
    call(m, req);
    EXPECT_EQ(h.transport->fetched.size(), 2u);
    auto content =
        parse(h.transport->requests.at(0).body).at("messages").at(0).at("content").as_array();
    ASSERT_EQ(content.size(), 3u);
    EXPECT_EQ(content[0].at("source").at("data"), bj::value(base64_encode("PNGDATA")));
    EXPECT_EQ(content[2].at("text"), "[image file, URL: https://img.example/missing.png]");
}

TEST(RetryChatModel, StructuredOutputLadderFallsBackOnBadRequest) {
    Harness h;
    auto tool_call = [](std::string args) {
        bj::object call{
            {"index", 0},
            {"id", "c1"},
            {"function", bj::object{{"name", "generate_structured_output"}, {"arguments", args}}}};
        bj::object delta{{"tool_calls", bj::array{call}}};
        bj::object choice{{"delta", delta}};
        bj::object ev{{"choices", bj::array{choice}}};
        return sse_body({testing::dump(ev), "[DONE]"});
    };
    // forced → 400 (e.g. forced tool choice with thinking), auto → no tool call, no_think → valid.
    h.transport->script = {
        {400, {}, {R"({"error":{"message":"tool_choice not supported with thinking"}})"}},
        {200, {}, {kOkBody}},
        {200, {}, {tool_call(R"({"n": 7})")}},
    };
    openai::OpenAIChatModel::Endpoint e;
    e.vendor = openai::Vendor::kDeepSeek;
    e.base_url = "https://ds.example";
    e.api_key = "k";
    openai::OpenAIChatModel model(e, "deepseek-reasoner",
                                  parse(R"({"thinking_enable":true})").as_object(), h.transport,
                                  h.settings());
    ChatRequest req = hello();
    req.structured_schema =
        parse(R"({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]})")
            .as_object();
    std::vector<ModelChunk> chunks;
    auto r = call(model, req, &chunks);
    ASSERT_TRUE(r.structured_output.has_value());
    EXPECT_EQ(r.structured_output->at("n"), 7);
    EXPECT_TRUE(chunks.empty());
    ASSERT_EQ(h.transport->requests.size(), 3u);
    auto forced = parse(h.transport->requests[0].body).as_object();
    EXPECT_EQ(forced.at("tool_choice").at("function").at("name"), "generate_structured_output");
    EXPECT_EQ(forced.at("thinking").at("type"), "enabled");
    auto automatic = parse(h.transport->requests[1].body).as_object();
    EXPECT_EQ(automatic.at("tool_choice"), "auto");
    auto no_think = parse(h.transport->requests[2].body).as_object();
    EXPECT_EQ(no_think.at("thinking").at("type"), "disabled");
    EXPECT_EQ(no_think.at("tools").as_array().size(), 1u);
}

TEST(RetryChatModel, StructuredOutputFailsWhenNoStrategyWorks) {
    Harness h;
    for (int i = 0; i < 3; ++i) h.transport->script.push_back({200, {}, {kOkBody}});
    auto model = h.openai();
    ChatRequest req = hello();
    req.structured_schema = parse(R"({"type":"object"})").as_object();
    EXPECT_THROW(call(*model, req), StructuredOutputError);
    EXPECT_EQ(h.transport->requests.size(),
              3u);  // forced, auto, none (OpenAI cannot disable thinking)
}

}  // namespace
}  // namespace agentd::model
