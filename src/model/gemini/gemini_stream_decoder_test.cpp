#include "model/gemini/gemini_stream_decoder.hpp"

#include <gtest/gtest.h>

#include "model/model_test_support.hpp"

namespace agentd::model::gemini {
namespace {

using testing::dump;

const std::vector<std::string> kStream = {
    R"({"candidates":[{"content":{"parts":[{"text":"Thinking about it","thought":true}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":50,"totalTokenCount":60},"modelVersion":"gemini-2.5-flash","responseId":"r1"})",
    R"({"candidates":[{"content":{"parts":[{"text":"Checking "}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":50,"totalTokenCount":62},"responseId":"r1"})",
    R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris","days":2}},"thoughtSignature":"CiQBVKhc"},{"functionCall":{"name":"get_time","args":{}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":20,"totalTokenCount":90,"cachedContentTokenCount":12},"responseId":"r1"})",
};

TEST(GeminiStreamDecoder, ThoughtsTextAndWholeFunctionCalls) {
    const std::string body = testing::sse_body(kStream);
    for (std::size_t step : {1u, 5u, 13u, 100000u}) {
        GeminiStreamDecoder d;
        auto chunks = testing::decode_sse(d, body, step);
        ASSERT_EQ(chunks.size(), 3u);
        EXPECT_EQ(chunks[0].thinking, "Thinking about it");
        EXPECT_EQ(chunks[1].text, "Checking ");
        ASSERT_EQ(chunks[2].tool_calls.size(), 2u);
        EXPECT_EQ(chunks[2].tool_calls[0].id, "CiQBVKhc");  // the thought signature (Trap 14)
        EXPECT_EQ(chunks[2].tool_calls[0].arguments, R"({"city": "Paris", "days": 2})");
        EXPECT_EQ(chunks[2].tool_calls[1].id.size(), 32u);  // fresh id
        EXPECT_EQ(chunks[2].tool_calls[1].arguments, "{}");
        EXPECT_TRUE(d.finished());
        auto r = d.response();
        ASSERT_EQ(r.content.size(), 4u);
        EXPECT_EQ(r.usage.input_tokens, 50);
        EXPECT_EQ(r.usage.output_tokens, 40);  // total − prompt
        EXPECT_EQ(r.usage.cache_input_tokens, 12);
    }
}

TEST(GeminiStreamDecoder, FunctionCallIdUsedWithoutSignature) {
    GeminiStreamDecoder d;
    auto c = d.feed(
        R"({"candidates":[{"content":{"parts":[{"functionCall":{"id":"fc1","name":"f"}}]}}]})");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].tool_calls[0].id, "fc1");
    EXPECT_EQ(c[0].tool_calls[0].arguments, "{}");
}

TEST(GeminiStreamDecoder, ErrorPayloadCarriesTheStatus) {
    GeminiStreamDecoder d;
    try {
        d.feed(
            R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}})");
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 429);
    }
}

}  // namespace
}  // namespace agentd::model::gemini
