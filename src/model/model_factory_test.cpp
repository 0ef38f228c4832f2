#include "model/model_factory.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "model/fallback_chat_model.hpp"
#include "model/model_test_support.hpp"

namespace agentd::model {
namespace {

using testing::FakeTransport;
using testing::parse;
using testing::run_coro;
using testing::sse_body;

const std::string kOpenAIOk = sse_body({R"({"choices":[{"delta":{"content":"ok"}}]})", "[DONE]"});

ChatRequest hello() {
    ChatRequest r;
    r.messages = parse(R"([{"name":"user","role":"user","content":[{"type":"text","text":"hi"}]}])")
                     .as_array();
    return r;
}

CallSettings no_wait() {
    CallSettings s;
    s.sleeper = [](std::chrono::milliseconds, CancellationPtr) -> boost::asio::awaitable<void> {
        co_return;
    };
    s.retry.max_retries = 0;
    return s;
}

/// The URL the model built for `credential`.
std::string url_for(const std::string& credential, const std::string& model = "m",
                    std::string body = kOpenAIOk) {
    auto t = std::make_shared<FakeTransport>();
    t->script.push_back({200, {}, {std::move(body)}});
    auto m = make_chat_model(t, parse(credential).as_object(), model, {}, no_wait());
    run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
        co_return co_await m->call(hello(), {}, nullptr);
    });
    return t->requests.at(0).url;
}

TEST(ModelFactory, BaseUrlsPerCredentialType) {
    EXPECT_EQ(
        url_for(
            R"({"type":"openai_credential","api_key":"k","organization":null,"base_url":null})"),
        "https://api.openai.com/v1/chat/completions");
    EXPECT_EQ(
        url_for(
            R"({"type":"openai_credential","api_key":"k","base_url":"http://127.0.0.1:9/v1/"})"),
        "http://127.0.0.1:9/v1/chat/completions");
    EXPECT_EQ(url_for(R"({"type":"dashscope_credential","api_key":"k"})"),
              "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions");
    EXPECT_EQ(
        url_for(
            R"({"type":"deepseek_credential","api_key":"k","base_url":"https://api.deepseek.com"})"),
        "https://api.deepseek.com/chat/completions");
    EXPECT_EQ(url_for(R"({"type":"moonshot_credential","api_key":"k"})"),
              "https://api.moonshot.cn/v1/chat/completions");
    EXPECT_EQ(url_for(R"({"type":"xai_credential","api_key":"k","api_host":"api.x.ai"})"),
              "https://api.x.ai/v1/chat/completions");
    EXPECT_EQ(url_for(R"({"type":"anthropic_credential","api_key":"k","base_url":null})", "claude",
                      "data: {\"type\":\"message_stop\"}\n\n"),
              "https://api.anthropic.com/v1/messages");
    EXPECT_EQ(url_for(R"({"type":"gemini_credential","api_key":"k"})", "gemini-2.5-pro",
                      sse_body({R"({"candidates":[]})"})),
              "https://generativelanguage.googleapis.com/v1beta/models/"
              "gemini-2.5-pro:streamGenerateContent?alt=sse");
    EXPECT_EQ(url_for(R"({"type":"ollama_credential","host":null})", "llama4", "{\"done\":true}\n"),
              "http://localhost:11434/api/chat");
}

TEST(ModelFactory, AnOllamaCredentialWithoutAHostUsesOllamaHost) {
    const char* before = std::getenv("OLLAMA_HOST");
    const std::optional<std::string> saved = before ? std::optional<std::string>(before) : std::nullopt;
    ::setenv("OLLAMA_HOST", "ollama.internal:9999", 1);
    EXPECT_EQ(url_for(R"({"type":"ollama_credential","host":null})", "llama4", "{\"done\":true}\n"),
              "http://ollama.internal:9999/api/chat");
    EXPECT_EQ(url_for(R"({"type":"ollama_credential","host":"gpu-box"})", "llama4", "{\"done\":true}\n"),
              "http://gpu-box:11434/api/chat");
    if (saved) ::setenv("OLLAMA_HOST", saved->c_str(), 1);
    else ::unsetenv("OLLAMA_HOST");
}

TEST(ModelFactory, RejectsUnknownTypesMissingKeysAndBadParameters) {
    auto t = std::make_shared<FakeTransport>();
    EXPECT_THROW(make_chat_model(
                     t, parse(R"({"type":"kimi_credential","api_key":"k"})").as_object(), "m", {}),
                 std::invalid_argument);
    EXPECT_THROW(make_chat_model(t, parse(R"({"type":"openai_credential"})").as_object(), "m", {}),
                 std::invalid_argument);
    EXPECT_THROW(
        make_chat_model(t, parse(R"({"type":"openai_credential","api_key":"k"})").as_object(), "m",
                        parse(R"({"temperature":5})").as_object()),
        std::invalid_argument);
    EXPECT_NO_THROW(
        make_chat_model(t, parse(R"({"type":"ollama_credential"})").as_object(), "m", {}));
}

TEST(ModelFactory, CatalogueInputTypesAndContextSizes) {
    auto types = catalogued_input_types("anthropic_credential", "claude-haiku-4-5");
    ASSERT_TRUE(types.has_value());
    EXPECT_NE(std::find(types->begin(), types->end(), "application/pdf"), types->end());
    EXPECT_FALSE(catalogued_input_types("openai_credential", "my-custom-model").has_value());
    EXPECT_EQ(default_context_size("gemini_credential"), 1048576);
    EXPECT_EQ(default_context_size("deepseek_credential"), 65536);
    EXPECT_EQ(default_context_size("ollama_credential"), 32768);
}

TEST(ModelFactory, CardInputTypesReachTheFormatter) {
    // qwen-plus's card lists text only: the image is not sent.
    auto t = std::make_shared<FakeTransport>();
    t->script.push_back({200, {}, {kOpenAIOk}});
    auto m =
        make_chat_model(t, parse(R"({"type":"dashscope_credential","api_key":"k"})").as_object(),
                        "qwen-plus", {}, no_wait());
    ChatRequest req;
    req.messages = parse(R"([{"name":"u","role":"user","content":[{"type":"text","text":"hi"},
        {"type":"data","source":{"type":"base64","data":"AA","media_type":"image/png"}}]}])")
                       .as_array();
    run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
        co_return co_await m->call(req, {}, nullptr);
    });
    auto content = parse(t->requests.at(0).body).at("messages").at(0).at("content").as_array();
    EXPECT_EQ(content.size(), 1u);  // qwen-plus takes text only
}

// ---- fallback ----------------------------------------------------------

class ScriptedModel : public ChatModel {
public:
    ScriptedModel(std::string name, std::function<ModelResponse(const ChunkSink&)> fn)
        : name_(std::move(name)), fn_(std::move(fn)) {}
    const std::string& model_name() const override { return name_; }
    boost::asio::awaitable<ModelResponse> call(const ChatRequest&, const ChunkSink& sink,
                                               CancellationPtr) override {
        ++calls;
        co_return fn_(sink);
    }
    int calls = 0;

private:
    std::string name_;
    std::function<ModelResponse(const ChunkSink&)> fn_;
};

ModelResponse text_response(std::string text) {
    ModelResponse r;
    r.content.push_back(bj::object{{"type", "text"}, {"id", "t"}, {"text", text}});
    return r;
}

TEST(ModelFactoryFallback, OpenFailureFallsOver) {
    auto primary = std::make_unique<ScriptedModel>(
        "p", [](const ChunkSink&) -> ModelResponse { throw ModelError(401, false, "bad key"); });
    auto fallback = std::make_unique<ScriptedModel>(
        "f", [](const ChunkSink&) { return text_response("from fallback"); });
    auto* fb = fallback.get();
    FallbackChatModel m(std::move(primary), std::move(fallback));
    EXPECT_EQ(m.model_name(), "p");
    auto r = run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
        co_return co_await m.call(hello(), {}, nullptr);
    });
    EXPECT_EQ(r.content[0].at("text"), "from fallback");
    EXPECT_EQ(fb->calls, 1);
}

TEST(ModelFactoryFallback, NoFallOverAfterAChunkOrOnInterrupt) {
    auto primary = std::make_unique<ScriptedModel>("p", [](const ChunkSink& sink) -> ModelResponse {
        ModelChunk c;
        c.text = "partial";
        sink(c);
        throw ModelError(0, false, "stream broken");
    });
    auto fallback =
        std::make_unique<ScriptedModel>("f", [](const ChunkSink&) { return text_response("x"); });
    auto* fb = fallback.get();
    FallbackChatModel m(std::move(primary), std::move(fallback));
    std::vector<std::string> seen;
    EXPECT_THROW(run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
                     co_return co_await m.call(
                         hello(), [&](const ModelChunk& c) { seen.push_back(c.text); }, nullptr);
                 }),
                 ModelError);
    EXPECT_EQ(seen, std::vector<std::string>{"partial"});
    EXPECT_EQ(fb->calls, 0);

    auto interrupted = std::make_unique<ScriptedModel>(
        "p", [](const ChunkSink&) -> ModelResponse { throw ModelInterrupted(ModelResponse{}); });
    auto fallback2 =
        std::make_unique<ScriptedModel>("f", [](const ChunkSink&) { return text_response("x"); });
    auto* fb2 = fallback2.get();
    FallbackChatModel m2(std::move(interrupted), std::move(fallback2));
    EXPECT_THROW(run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
                     co_return co_await m2.call(hello(), {}, nullptr);
                 }),
                 ModelInterrupted);
    EXPECT_EQ(fb2->calls, 0);
}

TEST(ModelFactoryFallback, LastErrorWhenBothFail) {
    auto primary = std::make_unique<ScriptedModel>(
        "p", [](const ChunkSink&) -> ModelResponse { throw ModelError(500, true, "p"); });
    auto fallback = std::make_unique<ScriptedModel>(
        "f", [](const ChunkSink&) -> ModelResponse { throw ModelError(429, true, "f"); });
    FallbackChatModel m(std::move(primary), std::move(fallback));
    try {
        run_coro([&]() -> boost::asio::awaitable<ModelResponse> {
            co_return co_await m.call(hello(), {}, nullptr);
        });
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 429);
    }
}

}  // namespace
}  // namespace agentd::model
