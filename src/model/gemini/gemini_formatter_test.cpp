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

TEST(GeminiFormatter, AThoughtSignatureGoesBackWithItsFunctionCall) {
    // The decoder makes a signed call's id its signature; Gemini 3 wants it back on the part.
    const std::string signature =
        "CiQBVKhc8u0Xq3kQ2n1mZb+W0c9yQeYbHbmj0eJ6m4nCq8X2c5ESngEBVKhc8mYf/2XQ0v6b7Fzq+8pYv==";
    auto req = worked_example_request();
    for (auto& m : req.messages)
        for (auto& b : m.as_object()["content"].as_array())
            if (b.as_object().contains("id") && b.at("id") == "call_abc123") b.as_object()["id"] = signature;
    auto body = format_request(req, "gemini-3-pro-preview", {});
    const auto& call = body.at("contents").at(2).at("parts").at(2).as_object();
    EXPECT_EQ(call.at("functionCall").at("id"), bj::value(signature));
    EXPECT_EQ(call.at("thoughtSignature"), bj::value(signature));
    EXPECT_FALSE(body.at("contents").at(3).at("parts").at(0).as_object().contains("thoughtSignature"));
    // Ids of other origins are sent as they are.
    const std::string hex64(64, 'a'), upper_hex = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";
    for (const std::string& id : {std::string("call_abc123"), std::string("toolu_01A09q90qw90lq917835lq9"),
                                  std::string("0123456789abcdef0123456789abcdef"), std::string("0_get_weather"),
                                  hex64, upper_hex}) {
        auto plain = worked_example_request();
        for (auto& m : plain.messages)
            for (auto& b : m.as_object()["content"].as_array())
                if (b.as_object().contains("id") && b.at("id") == "call_abc123") b.as_object()["id"] = id;
        auto out = format_request(plain, "gemini-3-pro-preview", {});
        EXPECT_FALSE(out.at("contents").at(2).at("parts").at(2).as_object().contains("thoughtSignature")) << id;
    }
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
