#include "model/ollama/ollama_stream_decoder.hpp"

#include <gtest/gtest.h>

#include "net/sse_parser.hpp"

namespace agentd::model::ollama {
namespace {

const char* kStream =
    R"({"model":"qwen3:14b","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"","thinking":"Let me think"},"done":false})"
    "\n"
    R"({"model":"qwen3:14b","message":{"role":"assistant","content":"Sure."},"done":false})"
    "\n"
    R"({"model":"qwen3:14b","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}},{"function":{"name":"get_time","arguments":{}}}]},"done":false})"
    "\n"
    R"({"model":"qwen3:14b","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":31,"eval_count":17})"
    "\n";

TEST(OllamaStreamDecoder, NdjsonAtEveryStep) {
    const std::string body = kStream;
    for (std::size_t step = 1; step <= body.size(); step += (step < 30 ? 1 : 53)) {
        SCOPED_TRACE(step);
        OllamaStreamDecoder d;
        std::vector<ModelChunk> chunks;
        net::NdjsonParser parser;
        auto on_line = [&](std::string_view line) {
            for (auto& c : d.feed(line)) chunks.push_back(std::move(c));
        };
        for (std::size_t i = 0; i < body.size(); i += step)
            parser.feed(std::string_view(body).substr(i, step), on_line);
        parser.finish(on_line);
        ASSERT_EQ(chunks.size(), 3u);  // the final counts-only line is a carrier
        EXPECT_EQ(chunks[0].thinking, "Let me think");
        EXPECT_EQ(chunks[1].text, "Sure.");
        ASSERT_EQ(chunks[2].tool_calls.size(), 2u);
        EXPECT_EQ(chunks[2].tool_calls[0].id, "0_get_weather");
        EXPECT_EQ(chunks[2].tool_calls[0].arguments, R"({"city": "Paris"})");
        EXPECT_EQ(chunks[2].tool_calls[1].id, "1_get_time");
        EXPECT_TRUE(d.finished());
        auto r = d.response();
        EXPECT_EQ(r.usage.input_tokens, 31);
        EXPECT_EQ(r.usage.output_tokens, 17);
        ASSERT_EQ(r.content.size(), 4u);
    }
}

TEST(OllamaStreamDecoder, ErrorLineThrows) {
    OllamaStreamDecoder d;
    EXPECT_THROW(d.feed(R"({"error":"model 'x' not found"})"), ModelError);
}

}  // namespace
}  // namespace agentd::model::ollama
