#include "model/anthropic/anthropic_stream_decoder.hpp"

#include <gtest/gtest.h>

#include "model/model_test_support.hpp"

namespace agentd::model::anthropic {
namespace {

using testing::dump;

// The stream of spec/models.md §6.2, as the server sends it (event + data lines).
const char* kStream =
    "event: message_start\n"
    R"(data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"usage":{"input_tokens":200,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"User wants weather."}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBsig"}})"
    "\n\n"
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":0})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me check."}})"
    "\n\n"
    "event: ping\n"
    R"(data: {"type": "ping"})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}})"
    "\n\n"
    "event: message_delta\n"
    R"(data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":58}})"
    "\n\n"
    "event: message_stop\n"
    R"(data: {"type":"message_stop"})"
    "\n\n";

void expect_worked_example(const std::vector<ModelChunk>& chunks,
                           const AnthropicStreamDecoder& decoder) {
    // thinking, text, then three tool-call pieces (the signature delta carries no text).
    ASSERT_EQ(chunks.size(), 5u);
    EXPECT_EQ(chunks[0].thinking, "User wants weather.");
    EXPECT_EQ(chunks[1].text, "Let me check.");
    for (std::size_t i = 2; i < 5; ++i) {
        ASSERT_EQ(chunks[i].tool_calls.size(), 1u);
        EXPECT_EQ(chunks[i].tool_calls[0].id, "toolu_01");
        EXPECT_EQ(chunks[i].tool_calls[0].name, "get_weather");
    }
    EXPECT_EQ(chunks[2].tool_calls[0].arguments, "");
    EXPECT_EQ(chunks[4].tool_calls[0].arguments, "\"Paris\"}");
    ASSERT_TRUE(chunks[0].usage);
    EXPECT_EQ(chunks[0].usage->input_tokens, 200);
    EXPECT_TRUE(decoder.finished());

    auto r = decoder.response();
    ASSERT_EQ(r.content.size(), 3u);
    auto thinking = r.content[0].as_object();
    EXPECT_EQ(thinking.at("thinking"), "User wants weather.");
    EXPECT_EQ(thinking.at("signature"), "EqQBsig");
    EXPECT_EQ(r.content[1].at("text"), "Let me check.");
    EXPECT_EQ(
        dump(r.content[2]),
        R"({"type":"tool_call","id":"toolu_01","name":"get_weather","input":"{\"city\": \"Paris\"}","state":"pending","suggested_rules":[]})");
    EXPECT_EQ(r.usage.input_tokens, 200);
    EXPECT_EQ(r.usage.output_tokens, 58);  // from message_delta (Trap 7)
    EXPECT_EQ(r.usage.cache_input_tokens, 0);
}

TEST(AnthropicStreamDecoder, WorkedExampleAtEveryStep) {
    const std::string body = kStream;
    for (std::size_t step = 1; step <= body.size(); step += (step < 40 ? 1 : 97)) {
        SCOPED_TRACE(step);
        AnthropicStreamDecoder decoder;
        expect_worked_example(testing::decode_sse(decoder, body, step), decoder);
    }
}

TEST(AnthropicStreamDecoder, SeveralThinkingBlocksMergeKeepingTheLastSignature) {
    AnthropicStreamDecoder d;
    d.feed(
        R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"a"}})");
    d.feed(
        R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s1"}})");
    d.feed(
        R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"R"}})");
    d.feed(
        R"({"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"b"}})");
    d.feed(
        R"({"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"s2"}})");
    auto r = d.response();
    ASSERT_EQ(r.content.size(), 2u);
    EXPECT_EQ(r.content[0].at("thinking"), "ab");
    EXPECT_EQ(r.content[0].at("signature"), "s2");
    EXPECT_EQ(r.content[1].at("thinking"), "");
    EXPECT_EQ(r.content[1].at("redacted_thinking_data"), "R");
    EXPECT_NE(r.content[0].at("id"), r.content[1].at("id"));
}

TEST(AnthropicStreamDecoder, CacheUsageAndErrorEvents) {
    AnthropicStreamDecoder d;
    d.feed(
        R"({"type":"message_start","message":{"id":"m","usage":{"input_tokens":5,"output_tokens":1,"cache_creation_input_tokens":7,"cache_read_input_tokens":9}}})");
    auto r = d.response();
    EXPECT_EQ(r.usage.cache_creation_input_tokens, 7);
    EXPECT_EQ(r.usage.cache_input_tokens, 9);
    try {
        d.feed(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
        FAIL();
    } catch (const ModelError& e) {
        EXPECT_EQ(e.status(), 529);
        EXPECT_STREQ(e.what(), "Overloaded");
    }
}

TEST(AnthropicStreamDecoder, InputJsonForUnknownIndexIsIgnored) {
    AnthropicStreamDecoder d;
    EXPECT_TRUE(
        d.feed(
             R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}})")
            .empty());
    EXPECT_TRUE(d.response().content.empty());
}

}  // namespace
}  // namespace agentd::model::anthropic
