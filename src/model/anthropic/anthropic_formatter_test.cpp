#include "model/anthropic/anthropic_formatter.hpp"

#include <gtest/gtest.h>

#include "model/model_test_support.hpp"

namespace agentd::model::anthropic {
namespace {

using testing::dump;
using testing::parse;
using testing::worked_example_request;

TEST(AnthropicFormatter, WorkedExampleBodyIsExact) {
    const std::string body =
        format_body(worked_example_request(), "claude-sonnet-4-5",
                    parse(R"({"thinking_enable": true, "max_tokens": 16000})").as_object())
            .write();
    const char* expected = R"({"model":"claude-sonnet-4-5","max_tokens":16000,"stream":true,
 "thinking":{"type":"enabled","budget_tokens":8000},
 "system":[{"type":"text","text":"You are a helpful assistant."}],
 "messages":[
  {"role":"user","content":[
     {"type":"text","text":"What's the weather in Paris? Here is a photo."},
     {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
  {"role":"assistant","content":[
     {"type":"thinking","thinking":"I should call the weather tool.","signature":"EqQBCkYIBxgCKkA"},
     {"type":"text","text":"Let me check."},
     {"type":"tool_use","id":"call_abc123","name":"get_weather","input":{"city":"Paris"}}]},
  {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_abc123","content":[{"type":"text","text":"18°C, cloudy"}]}]},
  {"role":"assistant","content":[{"type":"text","text":"It is 18°C and cloudy in Paris."}]},
  {"role":"user","content":[{"type":"text","text":"Thanks!"}]}],
 "tools":[{"name":"get_weather","description":"Get the current weather.",
   "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]})";
    EXPECT_EQ(body, dump(parse(expected)));
}

TEST(AnthropicFormatter, DefaultsAndThinkingBudgetRules) {
    auto req = worked_example_request();
    auto plain = format_request(req, "m", {});
    EXPECT_EQ(plain.at("max_tokens"), 8192);
    EXPECT_FALSE(plain.contains("thinking"));
    auto expanded = format_request(
        req, "m", parse(R"({"thinking_enable":true,"thinking_budget":9000})").as_object());
    EXPECT_EQ(expanded.at("max_tokens"), 9000 + 1024);
    EXPECT_EQ(dump(expanded.at("thinking")), R"({"type":"enabled","budget_tokens":9000})");
    auto adaptive = format_request(
        req, "m",
        parse(
            R"({"thinking_mode":"adaptive","thinking_display":"summarized","reasoning_effort":"max"})")
            .as_object());
    EXPECT_EQ(dump(adaptive.at("thinking")), R"({"type":"adaptive","display":"summarized"})");
    EXPECT_EQ(dump(adaptive.at("output_config")), R"({"effort":"max"})");
    auto disabled = format_request(
        req, "m",
        parse(R"({"thinking_mode":"disabled","thinking_display":"omitted"})").as_object());
    EXPECT_EQ(dump(disabled.at("thinking")), R"({"type":"disabled"})");
}

TEST(AnthropicFormatter, CallerThinkingWins) {
    FormatOptions options;
    options.extra_body = bj::object{{"thinking", bj::object{{"type", "disabled"}}}};
    auto body = format_request(worked_example_request(), "m",
                               parse(R"({"thinking_enable":true})").as_object(), options);
    EXPECT_EQ(dump(body.at("thinking")), R"({"type":"disabled"})");
}

TEST(AnthropicFormatter, ToolChoiceForms) {
    auto req = worked_example_request();
    req.tool_choice = "auto";
    EXPECT_EQ(dump(format_request(req, "m", {}).at("tool_choice")), R"({"type":"auto"})");
    req.tool_choice = "none";
    EXPECT_EQ(dump(format_request(req, "m", {}).at("tool_choice")), R"({"type":"none"})");
    req.tool_choice = "required";
    EXPECT_EQ(dump(format_request(req, "m", {}).at("tool_choice")), R"({"type":"any"})");
    req.tool_choice = "get_weather";
    EXPECT_EQ(dump(format_request(req, "m", {}).at("tool_choice")),
              R"({"type":"tool","name":"get_weather"})");
}

TEST(AnthropicFormatter, UnsignedThinkingIsDroppedRedactedIsKept) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"thinking","thinking":"from another provider"},
        {"type":"thinking","thinking":"","redacted_thinking_data":"opaque"},
        {"type":"text","text":""},
        {"type":"text","text":"ok"}]}])")
                       .as_array();
    EXPECT_EQ(dump(format_messages(req)), dump(parse(R"([{"role":"assistant","content":[
        {"type":"redacted_thinking","data":"opaque"},{"type":"text","text":"ok"}]}])")));
}

TEST(AnthropicFormatter, ParallelResultsShareOneUserTurnWithMediaInline) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"tool_call","id":"a","name":"f","input":"{\"x\": 1"},
        {"type":"tool_call","id":"b","name":"g","input":""},
        {"type":"tool_result","id":"a","name":"f","output":[
            {"type":"text","text":""},
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"image/png"}},
            {"type":"data","source":{"type":"url","url":"https://h/s.mp3","media_type":"audio/mpeg"}},
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"audio/wav"}}]},
        {"type":"tool_result","id":"b","name":"g","output":""},
        {"type":"text","text":"done"}]}])")
                       .as_array();
    EXPECT_EQ(dump(format_messages(req)), dump(parse(R"J([
        {"role":"assistant","content":[
            {"type":"tool_use","id":"a","name":"f","input":{"x":1}},
            {"type":"tool_use","id":"b","name":"g","input":{}}]},
        {"role":"user","content":[
            {"type":"tool_result","tool_use_id":"a","content":[
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},
                {"type":"text","text":"[audio file returned, URL: https://h/s.mp3]"},
                {"type":"text","text":"[audio file returned, type: audio/wav]"}]},
            {"type":"tool_result","tool_use_id":"b","content":[{"type":"text","text":"(empty tool output)"}]}]},
        {"role":"assistant","content":[{"type":"text","text":"done"}]}])J")));
}

TEST(AnthropicFormatter, HintsAndUrlMediaAndPdf) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"u","role":"user","content":[
        {"type":"data","source":{"type":"url","url":"https://h/i.png","media_type":"image/png"}},
        {"type":"data","source":{"type":"base64","data":"JVBE","media_type":"application/pdf"}}]},
        {"name":"A","role":"assistant","content":[{"type":"text","text":"a"},{"type":"hint","hint":"h"}]}])")
                       .as_array();
    FormatOptions options;
    options.resolver = [](const std::string&) -> std::optional<std::string> { return "QUJD"; };
    EXPECT_EQ(dump(format_messages(req, options)), dump(parse(R"([
        {"role":"user","content":[
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"QUJD"}},
            {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}}]},
        {"role":"assistant","content":[{"type":"text","text":"a"}]},
        {"role":"user","content":[{"type":"text","text":"h"}]}])")));
}

TEST(AnthropicFormatter, NoSystemKeyWithoutSystemPrompt) {
    auto req = worked_example_request();
    req.system_prompt.clear();
    auto body = format_request(req, "m", {});
    EXPECT_FALSE(body.contains("system"));
    EXPECT_EQ(body.at("messages").at(0).at("role"), "user");
}

}  // namespace
}  // namespace agentd::model::anthropic
