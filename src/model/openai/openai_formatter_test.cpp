#include "model/openai/openai_formatter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/model_test_support.hpp"

namespace agentd::model::openai {
namespace {

using testing::dump;
using testing::parse;
using testing::worked_example_request;

TEST(OpenAIFormatter, WorkedExampleBodyIsExact) {
    const std::string body = format_body(worked_example_request(), "gpt-4.1", {}).write();
    const char* expected = R"({"model":"gpt-4.1",
 "messages":[
  {"role":"system","name":"system","content":[{"type":"text","text":"You are a helpful assistant."}]},
  {"role":"user","name":"user","content":[
     {"type":"text","text":"What's the weather in Paris? Here is a photo."},
     {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
  {"role":"assistant","name":"Friday","content":[{"type":"text","text":"Let me check."}],
   "tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
  {"role":"tool","tool_call_id":"call_abc123","content":"18°C, cloudy","name":"get_weather"},
  {"role":"assistant","name":"Friday","content":[{"type":"text","text":"It is 18°C and cloudy in Paris."}]},
  {"role":"user","name":"user","content":[{"type":"text","text":"Thanks!"}]}],
 "stream":true,
 "stream_options":{"include_usage":true},
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather.",
   "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]})";
    EXPECT_EQ(body, dump(parse(expected)));
}

TEST(OpenAIFormatter, ReasoningEffortOnlyWithThinkingEnabled) {
    auto req = worked_example_request();
    auto without = format_request(req, "o3", parse(R"({"reasoning_effort":"low"})").as_object());
    EXPECT_FALSE(without.contains("reasoning_effort"));
    auto with = format_request(
        req, "o3", parse(R"({"reasoning_effort":"low","thinking_enable":true})").as_object());
    EXPECT_EQ(with.at("reasoning_effort"), "low");
}

TEST(OpenAIFormatter, ParametersMapToTheWire) {
    auto req = worked_example_request();
    auto body = format_request(
        req, "gpt-4o",
        parse(
            R"({"max_tokens":100,"temperature":0.5,"top_p":0.9,"parallel_tool_calls":false,"voice":"alloy","unknown":1})")
            .as_object());
    EXPECT_EQ(body.at("max_completion_tokens"), 100);
    EXPECT_FALSE(body.contains("max_tokens"));
    EXPECT_EQ(body.at("temperature"), 0.5);
    EXPECT_EQ(body.at("top_p"), 0.9);
    EXPECT_EQ(body.at("parallel_tool_calls"), false);
    EXPECT_EQ(dump(body.at("audio")), R"({"voice":"alloy","format":"pcm16"})");
    EXPECT_EQ(dump(body.at("modalities")), R"(["text","audio"])");
    EXPECT_FALSE(body.contains("unknown"));
}

TEST(OpenAIFormatter, InvalidParametersThrow) {
    auto req = worked_example_request();
    EXPECT_THROW(format_request(req, "gpt-4o", parse(R"({"temperature":3})").as_object()),
                 std::invalid_argument);
    EXPECT_THROW(format_request(req, "gpt-4o", parse(R"({"max_tokens":0})").as_object()),
                 std::invalid_argument);
    EXPECT_THROW(format_request(req, "gpt-4o", parse(R"({"reasoning_effort":"huge"})").as_object()),
                 std::invalid_argument);
    EXPECT_NO_THROW(format_request(req, "gpt-4o", parse(R"({"temperature":null})").as_object()));
}

// pydantic's lax mode (the reference builds `Parameters(**parameters)`):
// numeric and boolean strings are read as numbers and booleans, and the body
// carries the coerced values.
TEST(OpenAIFormatter, StringParametersAreCoercedIntoTheBody) {
    auto req = worked_example_request();
    const auto params =
        parse(
            R"({"max_tokens":"4096","temperature":"0.5","thinking_enable":"true","reasoning_effort":"low"})")
            .as_object();
    EXPECT_NO_THROW(validate_parameters(Vendor::kOpenAI, "gpt-4o", params));
    auto body = format_request(req, "gpt-4o", params);
    ASSERT_TRUE(body.at("max_completion_tokens").is_int64());
    EXPECT_EQ(body.at("max_completion_tokens").as_int64(), 4096);
    ASSERT_TRUE(body.at("temperature").is_double());
    EXPECT_EQ(body.at("temperature").as_double(), 0.5);
    EXPECT_EQ(body.at("reasoning_effort"), "low");  // sent only when thinking is on

    FormatOptions dashscope;
    dashscope.vendor = Vendor::kDashScope;
    auto ds = format_request(req, "qwen-plus", params, dashscope);
    ASSERT_TRUE(ds.at("enable_thinking").is_bool());
    EXPECT_EQ(ds.at("enable_thinking").as_bool(), true);
    EXPECT_EQ(ds.at("max_tokens").as_int64(), 4096);
}

TEST(OpenAIFormatter, UnparsableStringParameterKeepsItsError) {
    auto req = worked_example_request();
    for (const char* params : {R"({"max_tokens":"abc"})", R"({"max_tokens":"4096.5"})"}) {
        try {
            format_request(req, "gpt-4o", parse(params).as_object());
            ADD_FAILURE() << params << " was accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_STREQ(e.what(), "parameters.max_tokens: Input should be a valid integer");
        }
    }
}

TEST(OpenAIFormatter, ToolChoiceForms) {
    auto req = worked_example_request();
    req.tool_choice = "required";
    EXPECT_EQ(format_request(req, "m", {}).at("tool_choice"), "required");
    req.tool_choice = "get_weather";
    EXPECT_EQ(dump(format_request(req, "m", {}).at("tool_choice")),
              R"({"type":"function","function":{"name":"get_weather"}})");
    req.tool_choice = "nope";
    EXPECT_THROW(format_request(req, "m", {}), std::invalid_argument);
    FormatOptions dashscope;
    dashscope.vendor = Vendor::kDashScope;
    req.tool_choice = "required";
    EXPECT_EQ(format_request(req, "qwen-plus", {}, dashscope).at("tool_choice"), "auto");
}

TEST(OpenAIFormatter, NoToolsMeansNoToolKeys) {
    auto req = worked_example_request();
    req.tools.clear();
    req.tool_choice = "auto";
    auto body = format_request(req, "m", parse(R"({"parallel_tool_calls":false})").as_object());
    EXPECT_FALSE(body.contains("tools"));
    EXPECT_FALSE(body.contains("tool_choice"));
    EXPECT_FALSE(body.contains("parallel_tool_calls"));
}

TEST(OpenAIFormatter, RefsAreInlinedForOpenAIOnly) {
    ChatRequest req;
    req.messages =
        parse(R"([{"name":"user","role":"user","content":[{"type":"text","text":"hi"}]}])")
            .as_array();
    req.tools.push_back({"t", "d",
                         parse(R"({"type":"object","properties":{"p":{"$ref":"#/$defs/P"}},
        "$defs":{"P":{"type":"string"}}})")
                             .as_object()});
    auto body = format_request(req, "m", {});
    EXPECT_EQ(dump(body.at("tools").at(0).at("function").at("parameters")),
              R"({"type":"object","properties":{"p":{"type":"string"}}})");
    FormatOptions deepseek;
    deepseek.vendor = Vendor::kDeepSeek;
    EXPECT_TRUE(format_request(req, "m", {}, deepseek)
                    .at("tools")
                    .at(0)
                    .at("function")
                    .at("parameters")
                    .as_object()
                    .contains("$defs"));
}

TEST(OpenAIFormatter, HintEndsTheTurnAndBecomesUserText) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"text","text":"before"},
        {"type":"hint","hint":"remember","source":null},
        {"type":"text","text":"after"}]}])")
                       .as_array();
    auto msgs = format_messages(req);
    EXPECT_EQ(dump(msgs), dump(parse(R"([
        {"role":"assistant","name":"A","content":[{"type":"text","text":"before"}]},
        {"role":"user","content":[{"type":"text","text":"remember"}]},
        {"role":"assistant","name":"A","content":[{"type":"text","text":"after"}]}])")));
}

TEST(OpenAIFormatter, ToolResultMediaIsPromotedToANamedUserTurn) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"tool_call","id":"c1","name":"shot","input":"{}"},
        {"type":"tool_result","id":"c1","name":"shot","output":[
            {"type":"text","text":"done"},
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"image/png"}},
            {"type":"data","source":{"type":"url","url":"https://x/v.mp4","media_type":"video/mp4"}},
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"video/mp4"}}]}]}])")
                       .as_array();
    auto msgs = format_messages(req);
    ASSERT_EQ(msgs.size(), 3u);
    const auto& tool = msgs[1].as_object();
    EXPECT_EQ(tool.at("role"), "tool");
    std::string text(tool.at("content").as_string());
    // "done", the promotion line for the image, the URL line, the type line.
    auto id_start = text.find('[');
    ASSERT_NE(id_start, std::string::npos);
    std::string id = text.substr(id_start + 1, 22);
    EXPECT_EQ(text,
              "done\n<system-reminder>A(n) image file is returned and will be presented to you "
              "with the identifier [" +
                  id +
                  "].</system-reminder>\n<system-reminder>A(n) video file is returned and can be "
                  "accessed at the "
                  "URL: https://x/v.mp4.</system-reminder>\n<system-reminder>A(n) video file "
                  "(video/mp4) is "
                  "returned but cannot be shown to you.</system-reminder>");
    EXPECT_EQ(dump(msgs[2]), dump(parse(R"({"role":"user","name":"system-reminder","content":[
        {"type":"text","text":"<system-reminder>The multimodal data and their identifiers are listed as follows:"},
        {"type":"text","text":"- )" + id +
                                        R"( (image file): "},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
        {"type":"text","text":"</system-reminder>"}]})")));
}

// All `tool` messages answering one assistant turn must follow it directly:
// the media of parallel results wait for the last of them and share one user turn.
TEST(OpenAIFormatter, ParallelToolResultMediaFollowTheLastToolMessage) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"tool_call","id":"a","name":"shot","input":"{}"},
        {"type":"tool_call","id":"b","name":"shot","input":"{}"},
        {"type":"tool_result","id":"a","name":"shot","output":[
            {"type":"text","text":"first"},
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"image/png"}}]},
        {"type":"tool_result","id":"b","name":"shot","output":[
            {"type":"data","source":{"type":"base64","data":"BBBB","media_type":"image/png"}}]},
        {"type":"text","text":"both taken"}]}])")
                       .as_array();
    for (Vendor vendor : {Vendor::kOpenAI, Vendor::kDashScope, Vendor::kMoonshot, Vendor::kXai}) {
        SCOPED_TRACE(static_cast<int>(vendor));
        FormatOptions options;
        options.vendor = vendor;
        auto msgs = format_messages(req, options);
        std::vector<std::string> roles;
        for (const auto& m : msgs) roles.emplace_back(m.at("role").as_string());
        ASSERT_EQ(roles,
                  (std::vector<std::string>{"assistant", "tool", "tool", "user", "assistant"}));
        EXPECT_EQ(msgs[1].at("tool_call_id"), "a");
        EXPECT_EQ(msgs[2].at("tool_call_id"), "b");
        auto id_of = [](const bj::value& tool) {
            std::string text(tool.at("content").as_string());
            return text.substr(text.find('[') + 1, 22);
        };
        bj::object expected{{"role", "user"}};
        if (vendor == Vendor::kOpenAI || vendor == Vendor::kMoonshot)
            expected["name"] = "system-reminder";
        expected["content"] = parse(R"([
            {"type":"text","text":"<system-reminder>The multimodal data and their identifiers are listed as follows:"},
            {"type":"text","text":"- )" +
                                    id_of(msgs[1]) + R"( (image file): "},
            {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
            {"type":"text","text":"- )" +
                                    id_of(msgs[2]) + R"( (image file): "},
            {"type":"image_url","image_url":{"url":"data:image/png;base64,BBBB"}},
            {"type":"text","text":"</system-reminder>"}])");
        EXPECT_EQ(dump(msgs[3]), dump(expected));
        EXPECT_EQ(dump(msgs[4].at("content")), R"([{"type":"text","text":"both taken"}])");
    }
}

// A hint after the results still comes after their media, as with one result.
TEST(OpenAIFormatter, HeldToolResultMediaPrecedeAHint) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"tool_call","id":"a","name":"shot","input":"{}"},
        {"type":"tool_result","id":"a","name":"shot","output":[
            {"type":"data","source":{"type":"base64","data":"AAAA","media_type":"image/png"}}]},
        {"type":"hint","hint":"look closely","source":null}]}])")
                       .as_array();
    auto msgs = format_messages(req);
    ASSERT_EQ(msgs.size(), 4u);
    EXPECT_EQ(msgs[1].at("role"), "tool");
    EXPECT_EQ(msgs[2].at("name"), "system-reminder");
    EXPECT_EQ(dump(msgs[3]),
              R"({"role":"user","content":[{"type":"text","text":"look closely"}]})");
}

TEST(OpenAIFormatter, CardInputTypesFilterMedia) {
    auto req = worked_example_request();
    FormatOptions text_only;
    text_only.input_types = std::vector<std::string>{"text/plain"};
    auto msgs = format_messages(req, text_only);
    EXPECT_EQ(msgs[1].at("content").as_array().size(), 1u);  // image dropped
    FormatOptions jpeg_only;
    jpeg_only.input_types = std::vector<std::string>{"text/plain", "image/jpeg"};
    EXPECT_EQ(format_messages(req, jpeg_only)[1].at("content").as_array().size(), 1u);
}

TEST(OpenAIFormatter, AudioAndPdfAndUrlSources) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"u","role":"user","content":[
        {"type":"data","source":{"type":"base64","data":"UklG","media_type":"audio/wav"}},
        {"type":"data","source":{"type":"base64","data":"T2dn","media_type":"audio/ogg"}},
        {"type":"data","name":"r.pdf","source":{"type":"base64","data":"JVBE","media_type":"application/pdf"}},
        {"type":"data","source":{"type":"url","url":"https://h/a.mp3","media_type":"audio/mpeg"}},
        {"type":"data","source":{"type":"url","url":"https://h/i.png","media_type":"image/png"}},
        {"type":"data","source":{"type":"url","url":"file:///w/i.png","media_type":"image/png"}}]}])")
                       .as_array();
    FormatOptions options;
    options.resolver = [](const std::string& url) -> std::optional<std::string> {
        if (url == "https://h/a.mp3") return "SUQz";
        return std::nullopt;
    };
    auto content = format_messages(req, options)[0].at("content");
    EXPECT_EQ(dump(content), dump(parse(R"([
        {"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},
        {"type":"text","text":"[audio file, type: audio/ogg]"},
        {"type":"file","file":{"filename":"r.pdf","file_data":"data:application/pdf;base64,JVBE"}},
        {"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}},
        {"type":"image_url","image_url":{"url":"https://h/i.png"}},
        {"type":"text","text":"[image file, URL: file:///w/i.png]"}])")));
}

TEST(OpenAIFormatter, ThinkingIsDroppedAndEmptyTurnsSkipped) {
    ChatRequest req;
    req.messages =
        parse(
            R"([{"name":"A","role":"assistant","content":[{"type":"thinking","thinking":"hmm"}]}])")
            .as_array();
    EXPECT_TRUE(format_messages(req).empty());
}

// ---- vendors -----------------------------------------------------------

TEST(OpenAIFormatterDashScope, ReasoningEchoedOnlyWhenTheCardAcceptsThinking) {
    auto req = worked_example_request();
    FormatOptions options;
    options.vendor = Vendor::kDashScope;
    auto body = format_request(req, "qwen-plus", {}, options);
    const auto& call_turn = body.at("messages").at(2).as_object();
    EXPECT_FALSE(call_turn.contains("reasoning_content"));
    EXPECT_FALSE(call_turn.contains("name"));
    EXPECT_EQ(body.at("enable_thinking"), false);
    options.input_types =
        std::vector<std::string>{"text/plain", "application/x-thinking", "image/*"};
    body = format_request(
        req, "qwen3.6-plus",
        parse(R"({"thinking_enable":true,"thinking_budget":500,"top_k":20})").as_object(), options);
    EXPECT_EQ(body.at("messages").at(2).at("reasoning_content"), "I should call the weather tool.");
    EXPECT_EQ(body.at("enable_thinking"), true);
    EXPECT_EQ(body.at("thinking_budget"), 500);
    EXPECT_EQ(body.at("top_k"), 20);
    EXPECT_THROW(format_request(req, "q", parse(R"({"temperature":2})").as_object(), options),
                 std::invalid_argument);
}

TEST(OpenAIFormatterDashScope, MediaForms) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"u","role":"user","content":[
        {"type":"data","source":{"type":"url","url":"https://h/v.mp4","media_type":"video/mp4"}},
        {"type":"data","source":{"type":"base64","data":"SUQz","media_type":"audio/mpeg"}},
        {"type":"data","source":{"type":"url","url":"https://h/a.wav","media_type":"audio/wav"}},
        {"type":"data","source":{"type":"base64","data":"JVBE","media_type":"application/pdf"}}]}])")
                       .as_array();
    FormatOptions options;
    options.vendor = Vendor::kDashScope;
    EXPECT_EQ(dump(format_messages(req, options)[0].at("content")), dump(parse(R"([
        {"type":"video_url","video_url":{"url":"https://h/v.mp4"}},
        {"type":"input_audio","input_audio":{"data":"data:;base64,SUQz","format":"mp3"}},
        {"type":"input_audio","input_audio":{"data":"https://h/a.wav","format":"wav"}}])")));
}

TEST(OpenAIFormatterDeepSeek, StringContentAndReasoningOnEveryAssistantTurn) {
    auto req = worked_example_request();
    FormatOptions options;
    options.vendor = Vendor::kDeepSeek;
    auto body = format_request(req, "deepseek-chat",
                               parse(R"({"reasoning_effort":"max"})").as_object(), options);
    EXPECT_EQ(dump(body.at("messages")), dump(parse(R"([
        {"role":"system","content":"You are a helpful assistant."},
        {"role":"user","content":"What's the weather in Paris? Here is a photo."},
        {"role":"assistant","content":"Let me check.","reasoning_content":"I should call the weather tool.",
         "tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
        {"role":"tool","tool_call_id":"call_abc123","content":"18°C, cloudy","name":"get_weather"},
        {"role":"assistant","content":"It is 18°C and cloudy in Paris.","reasoning_content":""},
        {"role":"user","content":"Thanks!"}])")));
    EXPECT_EQ(body.at("reasoning_effort"), "max");
    EXPECT_EQ(dump(body.at("thinking")), R"({"type":"disabled"})");
}

TEST(OpenAIFormatterDeepSeek, CallOnlyTurnHasNullContentAndHintMediaBecomeText) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"A","role":"assistant","content":[
        {"type":"tool_call","id":"c","name":"n","input":"{}"},
        {"type":"hint","hint":[{"type":"text","text":"look"},
            {"type":"data","source":{"type":"base64","data":"AA","media_type":"image/png"}}]}]}])")
                       .as_array();
    FormatOptions options;
    options.vendor = Vendor::kDeepSeek;
    EXPECT_EQ(dump(format_messages(req, options)), dump(parse(R"([
        {"role":"assistant","content":null,"reasoning_content":"",
         "tool_calls":[{"id":"c","type":"function","function":{"name":"n","arguments":"{}"}}]},
        {"role":"user","content":"look\n[image/png attached, not supported by this provider]"}])")));
}

TEST(OpenAIFormatterMoonshot, KimiK3SwitchesTokensAndThinking) {
    auto req = worked_example_request();
    FormatOptions options;
    options.vendor = Vendor::kMoonshot;
    auto body =
        format_request(req, "kimi-k2.6",
                       parse(R"({"max_tokens":10,"reasoning_effort":"low"})").as_object(), options);
    EXPECT_EQ(body.at("max_tokens"), 10);
    EXPECT_FALSE(body.contains("reasoning_effort"));
    EXPECT_EQ(dump(body.at("thinking")), R"({"type":"disabled"})");
    EXPECT_EQ(body.at("messages").at(2).at("name"), "Friday");
    EXPECT_EQ(body.at("messages").at(2).at("reasoning_content"), "I should call the weather tool.");
    auto k3 =
        format_request(req, "kimi-k3",
                       parse(R"({"max_tokens":10,"reasoning_effort":"low"})").as_object(), options);
    EXPECT_EQ(k3.at("max_completion_tokens"), 10);
    EXPECT_EQ(k3.at("reasoning_effort"), "low");
    EXPECT_FALSE(k3.contains("thinking"));
    EXPECT_THROW(
        format_request(req, "kimi-k2.6", parse(R"({"temperature":1.5})").as_object(), options),
        std::invalid_argument);
}

TEST(OpenAIFormatterMoonshot, RemoteImagesAreInlined) {
    ChatRequest req;
    req.messages = parse(R"([{"name":"u","role":"user","content":[
        {"type":"data","source":{"type":"url","url":"https://h/i.png","media_type":"image/png"}}]}])")
                       .as_array();
    FormatOptions options;
    options.vendor = Vendor::kMoonshot;
    options.resolver = [](const std::string&) -> std::optional<std::string> { return "QUJD"; };
    EXPECT_EQ(dump(format_messages(req, options)[0].at("content")),
              R"([{"type":"image_url","image_url":{"url":"data:image/png;base64,QUJD"}}])");
}

TEST(OpenAIFormatterXai, NoNamesAndEffortGatedByThinking) {
    auto req = worked_example_request();
    FormatOptions options;
    options.vendor = Vendor::kXai;
    auto body = format_request(
        req, "grok-4.3",
        parse(R"({"reasoning_effort":"high","thinking_enable":true,"max_tokens":5})").as_object(),
        options);
    EXPECT_FALSE(body.at("messages").at(0).as_object().contains("name"));
    EXPECT_FALSE(body.at("messages").at(3).as_object().contains("name"));  // tool turn
    EXPECT_EQ(body.at("reasoning_effort"), "high");
    EXPECT_EQ(body.at("max_tokens"), 5);
}

TEST(OpenAIFormatter, ExtraBodyIsMergedLast) {
    FormatOptions options;
    options.vendor = Vendor::kDashScope;
    options.extra_body = bj::object{{"enable_thinking", false}};
    auto body = format_request(worked_example_request(), "q",
                               parse(R"({"thinking_enable":true})").as_object(), options);
    EXPECT_EQ(body.at("enable_thinking"), false);
}

}  // namespace
}  // namespace agentd::model::openai
