#include "model/ollama/ollama_formatter.hpp"

#include <gtest/gtest.h>

#include "model/model_test_support.hpp"
#include "model/ollama/ollama_chat_model.hpp"

namespace agentd::model::ollama {
namespace {

using testing::dump;
using testing::parse;
using testing::worked_example_request;

TEST(OllamaFormatter, WorkedExampleHistory) {
    auto req = worked_example_request();
    req.tool_choice = "get_weather";  // ignored by Ollama
    auto body = format_request(req, "qwen3:14b",
                               parse(R"({"max_tokens":100,"temperature":0.2})").as_object());
    EXPECT_EQ(dump(body), dump(parse(R"({"model":"qwen3:14b",
 "messages":[
  {"role":"system","content":"You are a helpful assistant."},
  {"role":"user","content":"What's the weather in Paris? Here is a photo.","images":["iVBORw0KGgo="]},
  {"role":"assistant","content":"Let me check.","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
  {"role":"tool","tool_name":"get_weather","content":"18°C, cloudy"},
  {"role":"assistant","content":"It is 18°C and cloudy in Paris."},
  {"role":"user","content":"Thanks!"}],
 "stream":true,
 "options":{"num_predict":100,"temperature":0.2},
 "think":false,
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather.",
   "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]})")));
}

TEST(OllamaFormatter, EachToolCallIsItsOwnMessageAndPromotedImagesFollowResults) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"tool_call","id":"0_a","name":"a","input":"{}"},
        {"type":"tool_call","id":"1_b","name":"b","input":"{\"q\": 1}"},
        {"type":"tool_result","id":"0_a","name":"a","output":[
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"image/png"}}]}]}])")
                       .as_array();
    auto msgs = format_messages(req);
    ASSERT_EQ(msgs.size(), 4u);
    EXPECT_EQ(
        dump(msgs[0]),
        R"({"role":"assistant","content":"","tool_calls":[{"function":{"name":"a","arguments":{}}}]})");
    EXPECT_EQ(
        dump(msgs[1]),
        R"({"role":"assistant","content":"","tool_calls":[{"function":{"name":"b","arguments":{"q":1}}}]})");
    EXPECT_EQ(msgs[2].at("role"), "tool");
    EXPECT_EQ(msgs[3].at("role"), "user");
    EXPECT_EQ(dump(msgs[3].at("images")), R"(["AAAA"])");
}

TEST(OllamaFormatter, ThinkAlwaysSent) {
    auto body = format_request(worked_example_request(), "m",
                               parse(R"({"thinking_enable":true})").as_object());
    EXPECT_EQ(body.at("think"), true);
    EXPECT_FALSE(body.contains("options"));
}

TEST(OllamaHost, NormalizedLikeTheOllamaClient) {
    EXPECT_EQ(normalize_host(""), "http://localhost:11434");
    EXPECT_EQ(normalize_host("example.com"), "http://example.com:11434");
    EXPECT_EQ(normalize_host("example.com:8080"), "http://example.com:8080");
    EXPECT_EQ(normalize_host("http://example.com"), "http://example.com:80");
    EXPECT_EQ(normalize_host("https://example.com/"), "https://example.com:443");
    EXPECT_EQ(normalize_host("http://127.0.0.1:11434/prefix/"), "http://127.0.0.1:11434/prefix");
    EXPECT_EQ(normalize_host(":56789"), "http://127.0.0.1:56789");
    EXPECT_EQ(normalize_host("user:pw@box"), "http://box:11434");
    EXPECT_EQ(normalize_host("https://user:pw@box:8443/x"), "https://box:8443/x");
    EXPECT_EQ(normalize_host("[::1]"), "http://[::1]:11434");
    EXPECT_EQ(normalize_host("http://[::1]:9000"), "http://[::1]:9000");
}

}  // namespace
}  // namespace agentd::model::ollama
