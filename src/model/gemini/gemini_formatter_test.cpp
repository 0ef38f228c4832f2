#include "model/gemini/gemini_formatter.hpp"

#include <gtest/gtest.h>

#include "model/model_test_support.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model::gemini {
namespace {

using testing::dump;
using testing::parse;
using testing::worked_example_request;

TEST(GeminiFormatter, WorkedExampleHistory) {
    auto body = format_request(worked_example_request(), "gemini-2.5-flash", {});
    EXPECT_EQ(dump(body), dump(parse(R"({
 "contents":[
  {"role":"user","parts":[{"text":"You are a helpful assistant."}]},
  {"role":"user","parts":[{"text":"What's the weather in Paris? Here is a photo."},
                          {"inlineData":{"data":"iVBORw0KGgo=","mimeType":"image/png"}}]},
  {"role":"model","parts":[{"thought":true,"text":"I should call the weather tool."},
                           {"text":"Let me check."},
                           {"functionCall":{"id":"call_abc123","name":"get_weather","args":{"city":"Paris"}}}]},
  {"role":"user","parts":[{"functionResponse":{"id":"call_abc123","name":"get_weather","response":{"output":"18°C, cloudy"}}}]},
  {"role":"model","parts":[{"text":"It is 18°C and cloudy in Paris."}]},
  {"role":"user","parts":[{"text":"Thanks!"}]}],
 "generationConfig":{"thinkingConfig":{"includeThoughts":false,"thinkingBudget":0}},
 "tools":[{"functionDeclarations":[{"name":"get_weather","description":"Get the current weather.",
   "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}]})")));
}

TEST(GeminiFormatter, ParametersAndToolConfig) {
    auto req = worked_example_request();
    req.tool_choice = "get_weather";
    auto body = format_request(
        req, "m",
        parse(R"({"max_tokens":64,"temperature":1.5,"top_p":0.5,"thinking_enable":true})")
            .as_object());
    EXPECT_EQ(
        dump(body.at("generationConfig")),
        R"({"maxOutputTokens":64,"temperature":1.5,"topP":0.5,"thinkingConfig":{"includeThoughts":true,"thinkingBudget":1024}})");
    EXPECT_EQ(dump(body.at("toolConfig")),
              R"({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}})");
    req.tool_choice = "required";
    EXPECT_EQ(dump(format_request(req, "m", {}).at("toolConfig")),
              R"({"functionCallingConfig":{"mode":"ANY"}})");
    req.tool_choice = "none";
    EXPECT_EQ(dump(format_request(req, "m", {}).at("toolConfig")),
              R"({"functionCallingConfig":{"mode":"NONE"}})");
    auto budget = format_request(
        req, "m", parse(R"({"thinking_enable":true,"thinking_budget":99})").as_object());
    EXPECT_EQ(budget.at("generationConfig").at("thinkingConfig").at("thinkingBudget"), 99);
}

TEST(GeminiFormatter, ToolResultMediaPromotedAsInlineData) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"tool_call","id":"sig==","name":"shot","input":"{}"},
        {"type":"tool_result","id":"sig==","name":"shot","output":[
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"video/mp4"}}]}]}])")
                       .as_array();
    auto contents = format_contents(req);
    ASSERT_EQ(contents.size(), 3u);
    const auto& promo = contents[2].as_object();
    EXPECT_EQ(promo.at("role"), "user");
    const auto& parts = promo.at("parts").as_array();
    ASSERT_EQ(parts.size(), 4u);
    EXPECT_EQ(dump(parts[2]), R"({"inlineData":{"data":"AAAA","mimeType":"video/mp4"}})");
}

TEST(GeminiSchema, SanitizeRewritesUnsupportedKeywords) {
    auto in = parse(R"({"$schema":"x","type":"object","additionalProperties":false,
        "properties":{
          "a":{"anyOf":[{"type":"string"},{"type":"null"}],"description":"d","default":null},
          "b":{"const":"fixed"},
          "c":{"type":"null"},
          "d":{"anyOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]},
          "e":{"type":"array","items":{"type":"object","additionalProperties":true}}}})");
    EXPECT_EQ(dump(sanitize_schema_for_gemini(in)), dump(parse(R"({"type":"object",
        "properties":{
          "a":{"type":"string","description":"d","default":null},
          "b":{"enum":["fixed"]},
          "c":{"type":"object"},
          "d":{"anyOf":[{"type":"string"},{"type":"integer"}]},
          "e":{"type":"array","items":{"type":"object"}}}})")));
}

}  // namespace
}  // namespace agentd::model::gemini
