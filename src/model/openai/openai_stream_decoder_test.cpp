#include "model/openai/openai_stream_decoder.hpp"

#include <gtest/gtest.h>

#include "model/media.hpp"
#include "model/model_test_support.hpp"

namespace agentd::model::openai {
namespace {

using testing::decode_sse;
using testing::dump;
using testing::parse;

// The stream of spec/models.md §6.1.
const std::vector<std::string> kToolCallStream = {
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"Let me"},"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"content":" check."},"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\""}}]},"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":": \"Paris\"}"}}]},"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null})",
    R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","model":"gpt-4.1","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":25,"total_tokens":145,"prompt_tokens_details":{"cached_tokens":64}}})",
    "[DONE]",
};

void expect_worked_example(const std::vector<ModelChunk>& chunks,
                           const OpenAIStreamDecoder& decoder) {
    // Surfaced: two text deltas and three tool-call deltas (each with id and name);
    // the empty-role, finish and usage chunks surface nothing.
    ASSERT_EQ(chunks.size(), 5u);
    EXPECT_EQ(chunks[0].text, "Let me");
    EXPECT_EQ(chunks[1].text, " check.");
    std::vector<std::string> args;
    for (std::size_t i = 2; i < 5; ++i) {
        ASSERT_EQ(chunks[i].tool_calls.size(), 1u);
        EXPECT_EQ(chunks[i].tool_calls[0].id, "call_abc123");
        EXPECT_EQ(chunks[i].tool_calls[0].name, "get_weather");
        args.push_back(chunks[i].tool_calls[0].arguments);
    }
    EXPECT_EQ(args, (std::vector<std::string>{"", "{\"city\"", ": \"Paris\"}"}));
    EXPECT_TRUE(decoder.finished());

    auto r = decoder.response();
    ASSERT_EQ(r.content.size(), 2u);
    auto text = r.content[0].as_object();
    EXPECT_EQ(text.at("type"), "text");
    EXPECT_EQ(text.at("text"), "Let me check.");
    EXPECT_EQ(text.at("id").as_string().size(), 32u);
    EXPECT_EQ(
        dump(r.content[1]),
        R"({"type":"tool_call","id":"call_abc123","name":"get_weather","input":"{\"city\": \"Paris\"}","state":"pending","suggested_rules":[]})");
    EXPECT_EQ(r.usage.input_tokens, 120);
    EXPECT_EQ(r.usage.output_tokens, 25);
    EXPECT_EQ(r.usage.cache_input_tokens, 64);
}

TEST(OpenAIStreamDecoder, WorkedExampleEventByEvent) {
    OpenAIStreamDecoder decoder;
    std::vector<ModelChunk> chunks;
    for (const auto& e : kToolCallStream)
        for (auto& c : decoder.feed(e)) chunks.push_back(std::move(c));
    expect_worked_example(chunks, decoder);
}

TEST(OpenAIStreamDecoder, WorkedExampleSplitAtEveryByteBoundary) {
    const std::string body = testing::sse_body(kToolCallStream);
    for (std::size_t step : {1u, 2u, 3u, 7u, 64u, 4096u}) {
        SCOPED_TRACE(step);
        OpenAIStreamDecoder decoder;
        expect_worked_example(decode_sse(decoder, body, step), decoder);
    }
    // Every single cut position of a two-piece delivery.
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        OpenAIStreamDecoder decoder;
        std::vector<ModelChunk> chunks;
        net::SseParser parser;
        auto on_event = [&](const net::SseEvent& ev) {
            for (auto& c : decoder.feed(ev.data)) chunks.push_back(std::move(c));
        };
        parser.feed(std::string_view(body).substr(0, cut), on_event);
        parser.feed(std::string_view(body).substr(cut), on_event);
        parser.finish(on_event);
        ASSERT_EQ(chunks.size(), 5u) << "cut at " << cut;
        ASSERT_EQ(decoder.response().content.at(1).at("input"), "{\"city\": \"Paris\"}")
            << "cut at " << cut;
    }
}

TEST(OpenAIStreamDecoder, ParallelToolCallsKeepTheirOwnIds) {
    OpenAIStreamDecoder decoder;
    std::vector<ModelChunk> chunks;
    for (
        std::string e : {
            R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}},{"index":1,"id":"b","function":{"name":"g","arguments":"["}}]}}]})",
            R"({"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"]"}}]}}]})",
            R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}}]})",
        })
        for (auto& c : decoder.feed(e)) chunks.push_back(std::move(c));
    ASSERT_EQ(chunks.size(), 3u);
    EXPECT_EQ(chunks[1].tool_calls[0].id, "b");
    EXPECT_EQ(chunks[1].tool_calls[0].name, "g");
    auto r = decoder.response();
    EXPECT_EQ(r.content[0].at("input"), "{}");
    EXPECT_EQ(r.content[1].at("input"), "[]");
}

TEST(OpenAIStreamDecoder, MissingNameBecomesUnknownAndMissingIdIsGenerated) {
    OpenAIStreamDecoder decoder;
    auto chunks = decoder.feed(
        R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]})");
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_EQ(chunks[0].tool_calls[0].name, "unknown");
    EXPECT_EQ(chunks[0].tool_calls[0].id.rfind("call_", 0), 0u);
    auto again = decoder.feed(
        R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":""}}]}}]})");
    EXPECT_EQ(again[0].tool_calls[0].id, chunks[0].tool_calls[0].id);
}

TEST(OpenAIStreamDecoder, ReasoningFieldsPerVendor) {
    OpenAIStreamDecoder openai;
    auto c = openai.feed(R"({"choices":[{"delta":{"reasoning":"think"}}]})");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].thinking, "think");
    c = openai.feed(
        R"({"choices":[{"delta":{"reasoning_content":"more","reasoning":"ignored"}}]})");
    EXPECT_EQ(c[0].thinking, "more");
    EXPECT_EQ(openai.response().content[0].at("thinking"), "thinkmore");

    OpenAIStreamDecoder deepseek(Vendor::kDeepSeek);
    EXPECT_TRUE(deepseek.feed(R"({"choices":[{"delta":{"reasoning":"x"}}]})").empty());
    deepseek.feed(
        R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_cache_hit_tokens":2}})");
    EXPECT_EQ(deepseek.response().usage.cache_input_tokens, 2);

    OpenAIStreamDecoder moonshot(Vendor::kMoonshot);
    moonshot.feed(
        R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"cached_tokens":1}})");
    EXPECT_EQ(moonshot.response().usage.cache_input_tokens, 1);
}

TEST(OpenAIStreamDecoder, ThinkingTextAndToolsAggregateInFirstAppearanceOrder) {
    OpenAIStreamDecoder decoder(Vendor::kDashScope);
    decoder.feed(R"({"choices":[{"delta":{"reasoning_content":"a"}}]})");
    decoder.feed(R"({"choices":[{"delta":{"content":"b"}}]})");
    decoder.feed(R"({"choices":[{"delta":{"reasoning_content":"c"}}]})");
    decoder.feed(R"({"choices":[{"delta":{"content":"d"}}]})");
    auto r = decoder.response();
    ASSERT_EQ(r.content.size(), 2u);
    EXPECT_EQ(r.content[0].at("thinking"), "ac");
    EXPECT_EQ(r.content[1].at("text"), "bd");
}

TEST(OpenAIStreamDecoder, AudioGetsOneWavHeaderAndConcatenates) {
    OpenAIStreamDecoder decoder;
    auto c1 =
        decoder.feed(R"({"choices":[{"delta":{"audio":{"data":"AAEC","transcript":"Hi"}}}]})");
    auto c2 = decoder.feed(R"({"choices":[{"delta":{"audio":{"data":"AwQF"}}}]})");
    ASSERT_EQ(c1.size(), 1u);
    EXPECT_EQ(c1[0].text, "Hi");
    ASSERT_EQ(c1[0].data.size(), 1u);
    EXPECT_EQ(c1[0].data[0].media_type, "audio/wav");
    EXPECT_EQ(*base64_decode(c1[0].data[0].base64),
              streaming_wav_header() + std::string("\x00\x01\x02", 3));
    EXPECT_EQ(*base64_decode(c2[0].data[0].base64), std::string("\x03\x04\x05", 3));
    EXPECT_EQ(c1[0].data[0].block_id, c2[0].data[0].block_id);
    auto r = decoder.response();
    ASSERT_EQ(r.content.size(), 2u);  // audio first (it arrives before the transcript), then text
    const auto& src = r.content[0].at("source").as_object();
    EXPECT_EQ(*base64_decode(src.at("data").as_string()),
              streaming_wav_header() + std::string("\x00\x01\x02\x03\x04\x05", 6));
}

TEST(OpenAIStreamDecoder, UsageIsAttachedToSurfacedChunks) {
    OpenAIStreamDecoder decoder;
    decoder.feed(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}})");
    auto c = decoder.feed(R"({"choices":[{"delta":{"content":"x"}}]})");
    ASSERT_TRUE(c[0].usage.has_value());
    EXPECT_EQ(c[0].usage->output_tokens, 2);
}

TEST(OpenAIStreamDecoder, ErrorEventThrowsModelError) {
    OpenAIStreamDecoder decoder;
    try {
        decoder.feed(
            R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})");
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 429);
        EXPECT_FALSE(e.retryable());
    }
    EXPECT_THROW(decoder.feed("{not json"), ModelError);
}

}  // namespace
}  // namespace agentd::model::openai
