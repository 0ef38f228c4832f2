#include "domain/chat_input.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/json.hpp"

namespace agentd::domain {
namespace {

using validation::Issues;

bj::value parse(std::string_view text) { return json::parse_trusted(text); }

std::string issues_json(const Issues& issues) {
    bj::array list;
    for (const auto& i : issues.list()) list.push_back(issue_to_json(i));
    return json::write(list);
}

// Bodies rejected with 422, and FastAPI's `detail` list for each (produced by
// pydantic 2.13 against the reference's models; ctx of custom validators is {}).
struct RejectedBody {
    const char* name;
    const char* body;
    const char* detail;
};

const RejectedBody kRejected[] =
    {
        {"content_string",
         R"json({"agent_id":"a","session_id":"s","input":{"name":"user","role":"user","content":"hi"}})json",
         R"json([{"type":"list_type","loc":["body","input","function-after[validate_role_content(), Msg]","content"],"msg":"Input should be a valid list","input":"hi"},{"type":"list_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]"],"msg":"Input should be a valid list","input":{"name":"user","role":"user","content":"hi"}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","reply_id"],"msg":"Field required","input":{"name":"user","role":"user","content":"hi"}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","confirm_results"],"msg":"Field required","input":{"name":"user","role":"user","content":"hi"}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","reply_id"],"msg":"Field required","input":{"name":"user","role":"user","content":"hi"}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","execution_results"],"msg":"Field required","input":{"name":"user","role":"user","content":"hi"}}])json"},
        {"unknown_block",
         R"json({"agent_id":"a","session_id":"s","input":{"name":"user","role":"user","content":[{"type":"image","url":"x"}]}})json",
         R"json([{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"TextBlock","type"],"msg":"Input should be 'text'","input":"image","ctx":{"expected":"'text'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"TextBlock","text"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ThinkingBlock","type"],"msg":"Input should be 'thinking'","input":"image","ctx":{"expected":"'thinking'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ThinkingBlock","thinking"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"HintBlock","type"],"msg":"Input should be 'hint'","input":"image","ctx":{"expected":"'hint'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"HintBlock","hint"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","type"],"msg":"Input should be 'tool_call'","input":"image","ctx":{"expected":"'tool_call'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","id"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","name"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","input"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","type"],"msg":"Input should be 'tool_result'","input":"image","ctx":{"expected":"'tool_result'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","id"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","name"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","output"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"DataBlock","type"],"msg":"Input should be 'data'","input":"image","ctx":{"expected":"'data'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"DataBlock","source"],"msg":"Field required","input":{"type":"image","url":"x"}},{"type":"list_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]"],"msg":"Input should be a valid list","input":{"name":"user","role":"user","content":[{"type":"image","url":"x"}]}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","reply_id"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"image","url":"x"}]}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","confirm_results"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"image","url":"x"}]}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","reply_id"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"image","url":"x"}]}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","execution_results"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"image","url":"x"}]}}])json"},
        {"user_thinking",
         R"json({"agent_id":"a","session_id":"s","input":{"name":"user","role":"user","content":[{"type":"thinking","thinking":"x"}]}})json", R"json([{"type":"value_error","loc":["body","input","function-after[validate_role_content(), Msg]"],"msg":"Value error, User message can only contain text blocks or data blocks.","input":{"name":"user","role":"user","content":[{"type":"thinking","thinking":"x"}]},"ctx":{"error":{}}},{"type":"list_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]"],"msg":"Input should be a valid list","input":{"name":"user","role":"user","content":[{"type":"thinking","thinking":"x"}]}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","reply_id"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"thinking","thinking":"x"}]}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","confirm_results"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"thinking","thinking":"x"}]}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","reply_id"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"thinking","thinking":"x"}]}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","execution_results"],"msg":"Field required","input":{"name":"user","role":"user","content":[{"type":"thinking","thinking":"x"}]}}])json"},
        {"interrupt",
         R"json({"agent_id":"a","session_id":"s","input":{"type":"USER_INTERRUPT","reply_id":"r"}})json",
         R"json([{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","name"],"msg":"Field required","input":{"type":"USER_INTERRUPT","reply_id":"r"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content"],"msg":"Field required","input":{"type":"USER_INTERRUPT","reply_id":"r"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","role"],"msg":"Field required","input":{"type":"USER_INTERRUPT","reply_id":"r"}},{"type":"list_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]"],"msg":"Input should be a valid list","input":{"type":"USER_INTERRUPT","reply_id":"r"}},{"type":"literal_error","loc":["body","input","UserConfirmResultEvent","type"],"msg":"Input should be <EventType.USER_CONFIRM_RESULT: 'USER_CONFIRM_RESULT'>","input":"USER_INTERRUPT","ctx":{"expected":"<EventType.USER_CONFIRM_RESULT: 'USER_CONFIRM_RESULT'>"}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","confirm_results"],"msg":"Field required","input":{"type":"USER_INTERRUPT","reply_id":"r"}},{"type":"literal_error","loc":["body","input","ExternalExecutionResultEvent","type"],"msg":"Input should be <EventType.EXTERNAL_EXECUTION_RESULT: 'EXTERNAL_EXECUTION_RESULT'>","input":"USER_INTERRUPT","ctx":{"expected":"<EventType.EXTERNAL_EXECUTION_RESULT: 'EXTERNAL_EXECUTION_RESULT'>"}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","execution_results"],"msg":"Field required","input":{"type":"USER_INTERRUPT","reply_id":"r"}}])json"},
        {"bad_confirm",
         R"json({"agent_id":"a","session_id":"s","input":{"type":"USER_CONFIRM_RESULT","reply_id":"r","confirm_results":[{"confirmed":"maybe","tool_call":{"id":"c","name":"Bash","input":{},"state":"bogus","suggested_rules":[{"tool_name":"x","behavior":"maybe"}]},"rules":"x"}]}})json", R"json([{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","name"],"msg":"Field required","input":{"type":"USER_CONFIRM_RESULT","reply_id":"r","confirm_results":[{"confirmed":"maybe","tool_call":{"id":"c","name":"Bash","input":{},"state":"bogus","suggested_rules":[{"tool_name":"x","behavior":"maybe"}]},"rules":"x"}]}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content"],"msg":"Field required","input":{"type":"USER_CONFIRM_RESULT","reply_id":"r","confirm_results":[{"confirmed":"maybe","tool_call":{"id":"c","name":"Bash","input":{},"state":"bogus","suggested_rules":[{"tool_name":"x","behavior":"maybe"}]},"rules":"x"}]}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","role"],"msg":"Field required","input":{"type":"USER_CONFIRM_RESULT","reply_id":"r","confirm_results":[{"confirmed":"maybe","tool_call":{"id":"c","name":"Bash","input":{},"state":"bogus","suggested_rules":[{"tool_name":"x","behavior":"maybe"}]},"rules":"x"}]}},{"type":"list_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]"],"msg":"Input should be a valid list","input":{"type":"USER_CONFIRM_RESULT","reply_id":"r","confirm_results":[{"confirmed":"maybe","tool_call":{"id":"c","name":"Bash","input":{},"state":"bogus","suggested_rules":[{"tool_name":"x","behavior":"maybe"}]},"rules":"x"}]}},{"type":"bool_parsing","loc":["body","input","UserConfirmResultEvent","confirm_results",0,"confirmed"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"},{"type":"string_type","loc":["body","input","UserConfirmResultEvent","confirm_results",0,"tool_call","input"],"msg":"Input should be a valid string","input":{}},{"type":"enum","loc":["body","input","UserConfirmResultEvent","confirm_results",0,"tool_call","state"],"msg":"Input should be 'pending', 'asking', 'allowed', 'submitted' or 'finished'","input":"bogus","ctx":{"expected":"'pending', 'asking', 'allowed', 'submitted' or 'finished'"}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","confirm_results",0,"tool_call","suggested_rules",0,"rule_content"],"msg":"Field required","input":{"tool_name":"x","behavior":"maybe"}},{"type":"enum","loc":["body","input","UserConfirmResultEvent","confirm_results",0,"tool_call","suggested_rules",0,"behavior"],"msg":"Input should be 'allow', 'deny', 'ask' or 'passthrough'","input":"maybe","ctx":{"expected":"'allow', 'deny', 'ask' or 'passthrough'"}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","confirm_results",0,"tool_call","suggested_rules",0,"source"],"msg":"Field required","input":{"tool_name":"x","behavior":"maybe"}},{"type":"list_type","loc":["body","input","UserConfirmResultEvent","confirm_results",0,"rules"],"msg":"Input should be a valid list","input":"x"},{"type":"literal_error","loc":["body","input","ExternalExecutionResultEvent","type"],"msg":"Input should be <EventType.EXTERNAL_EXECUTION_RESULT: 'EXTERNAL_EXECUTION_RESULT'>","input":"USER_CONFIRM_RESULT","ctx":{"expected":"<EventType.EXTERNAL_EXECUTION_RESULT: 'EXTERNAL_EXECUTION_RESULT'>"}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","execution_results"],"msg":"Field required","input":{"type":"USER_CONFIRM_RESULT","reply_id":"r","confirm_results":[{"confirmed":"maybe","tool_call":{"id":"c","name":"Bash","input":{},"state":"bogus","suggested_rules":[{"tool_name":"x","behavior":"maybe"}]},"rules":"x"}]}}])json"},
        {"scalar_input", R"json({"agent_id":"a","session_id":"s","input":"x"})json",
         R"json([{"type":"model_attributes_type","loc":["body","input","function-after[validate_role_content(), Msg]"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"x"},{"type":"list_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]"],"msg":"Input should be a valid list","input":"x"},{"type":"model_attributes_type","loc":["body","input","UserConfirmResultEvent"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"x"},{"type":"model_attributes_type","loc":["body","input","ExternalExecutionResultEvent"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"x"}])json"},
        {"list_bad",
         R"json({"agent_id":1,"input":[{"name":"u","role":"system","content":[{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}]}]})json",
         R"json([{"type":"string_type","loc":["body","agent_id"],"msg":"Input should be a valid string","input":1},{"type":"missing","loc":["body","session_id"],"msg":"Field required","input":{"agent_id":1,"input":[{"name":"u","role":"system","content":[{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}]}]}},{"type":"model_attributes_type","loc":["body","input","function-after[validate_role_content(), Msg]"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[{"name":"u","role":"system","content":[{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}]}]},{"type":"literal_error","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"TextBlock","type"],"msg":"Input should be 'text'","input":"data","ctx":{"expected":"'text'"}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"TextBlock","text"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"literal_error","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ThinkingBlock","type"],"msg":"Input should be 'thinking'","input":"data","ctx":{"expected":"'thinking'"}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ThinkingBlock","thinking"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"literal_error","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"HintBlock","type"],"msg":"Input should be 'hint'","input":"data","ctx":{"expected":"'hint'"}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"HintBlock","hint"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"string_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"HintBlock","source"],"msg":"Input should be a valid string","input":{"type":"url","url":"nope","media_type":"image/png"}},{"type":"literal_error","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolCallBlock","type"],"msg":"Input should be 'tool_call'","input":"data","ctx":{"expected":"'tool_call'"}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolCallBlock","id"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolCallBlock","name"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolCallBlock","input"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"literal_error","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolResultBlock","type"],"msg":"Input should be 'tool_result'","input":"data","ctx":{"expected":"'tool_result'"}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolResultBlock","id"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolResultBlock","name"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"ToolResultBlock","output"],"msg":"Field required","input":{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}},{"type":"literal_error","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"DataBlock","source","Base64Source","type"],"msg":"Input should be 'base64'","input":"url","ctx":{"expected":"'base64'"}},{"type":"missing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"DataBlock","source","Base64Source","data"],"msg":"Field required","input":{"type":"url","url":"nope","media_type":"image/png"}},{"type":"url_parsing","loc":["body","input","list[function-after[validate_role_content(), Msg]]",0,"content",0,"DataBlock","source","URLSource","url"],"msg":"Input should be a valid URL, relative URL without a base","input":"nope","ctx":{"error":"relative URL without a base"}},{"type":"model_attributes_type","loc":["body","input","UserConfirmResultEvent"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[{"name":"u","role":"system","content":[{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}]}]},{"type":"model_attributes_type","loc":["body","input","ExternalExecutionResultEvent"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[{"name":"u","role":"system","content":[{"type":"data","source":{"type":"url","url":"nope","media_type":"image/png"}}]}]}])json"},
        {"hint_bad",
         R"json({"agent_id":"a","session_id":"s","input":{"name":"A","role":"assistant","content":[{"type":"hint","hint":[{"type":"text"}]}],"usage":{"input_tokens":"x"}}})json", R"json([{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"TextBlock","type"],"msg":"Input should be 'text'","input":"hint","ctx":{"expected":"'text'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"TextBlock","text"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ThinkingBlock","type"],"msg":"Input should be 'thinking'","input":"hint","ctx":{"expected":"'thinking'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ThinkingBlock","thinking"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"string_type","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"HintBlock","hint","str"],"msg":"Input should be a valid string","input":[{"type":"text"}]},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"HintBlock","hint","list[union[TextBlock,DataBlock]]",0,"TextBlock","text"],"msg":"Field required","input":{"type":"text"}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"HintBlock","hint","list[union[TextBlock,DataBlock]]",0,"DataBlock","type"],"msg":"Input should be 'data'","input":"text","ctx":{"expected":"'data'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"HintBlock","hint","list[union[TextBlock,DataBlock]]",0,"DataBlock","source"],"msg":"Field required","input":{"type":"text"}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","type"],"msg":"Input should be 'tool_call'","input":"hint","ctx":{"expected":"'tool_call'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","id"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","name"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolCallBlock","input"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","type"],"msg":"Input should be 'tool_result'","input":"hint","ctx":{"expected":"'tool_result'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","id"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","name"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"ToolResultBlock","output"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"literal_error","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"DataBlock","type"],"msg":"Input should be 'data'","input":"hint","ctx":{"expected":"'data'"}},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","content",0,"DataBlock","source"],"msg":"Field required","input":{"type":"hint","hint":[{"type":"text"}]}},{"type":"int_parsing","loc":["body","input","function-after[validate_role_content(), Msg]","usage","input_tokens"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"},{"type":"missing","loc":["body","input","function-after[validate_role_content(), Msg]","usage","output_tokens"],"msg":"Field required","input":{"input_tokens":"x"}},{"type":"list_type","loc":["body","input","list[function-after[validate_role_content(), Msg]]"],"msg":"Input should be a valid list","input":{"name":"A","role":"assistant","content":[{"type":"hint","hint":[{"type":"text"}]}],"usage":{"input_tokens":"x"}}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","reply_id"],"msg":"Field required","input":{"name":"A","role":"assistant","content":[{"type":"hint","hint":[{"type":"text"}]}],"usage":{"input_tokens":"x"}}},{"type":"missing","loc":["body","input","UserConfirmResultEvent","confirm_results"],"msg":"Field required","input":{"name":"A","role":"assistant","content":[{"type":"hint","hint":[{"type":"text"}]}],"usage":{"input_tokens":"x"}}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","reply_id"],"msg":"Field required","input":{"name":"A","role":"assistant","content":[{"type":"hint","hint":[{"type":"text"}]}],"usage":{"input_tokens":"x"}}},{"type":"missing","loc":["body","input","ExternalExecutionResultEvent","execution_results"],"msg":"Field required","input":{"name":"A","role":"assistant","content":[{"type":"hint","hint":[{"type":"text"}]}],"usage":{"input_tokens":"x"}}}])json"},
};

TEST(ChatInputTest, RejectedBodiesMatchPydanticIssues) {
    for (const auto& c : kRejected) {
        Issues issues;
        auto request = parse_chat_request(parse(c.body), issues);
        EXPECT_FALSE(request) << c.name;
        EXPECT_EQ(issues_json(issues), c.detail) << c.name;
    }
}

TEST(ChatInputTest, InputTheAgentWouldRefuseIsAValueError) {
    // Valid Msgs the reference's agent refuses before its first step.
    const char* kRefused[] = {
        R"json({"name":"s","role":"system","content":[{"type":"text","text":"x"}]})json",
        R"json({"name":"a","role":"assistant","content":[{"type":"thinking","thinking":"x"}]})json",
        R"json({"name":"a","role":"assistant","content":[{"type":"tool_call","id":"c","name":"Bash","input":"{}"}]})json",
        R"json({"name":"a","role":"assistant","content":[{"type":"text","text":"x"},{"type":"tool_result","id":"c","name":"Bash","output":"x"}]})json",
    };
    for (const char* msg : kRefused) {
        Issues issues;
        auto body = parse(std::string(R"({"agent_id":"a","session_id":"s","input":)") + msg + "}");
        EXPECT_FALSE(parse_chat_request(body, issues)) << msg;
        ASSERT_EQ(issues.size(), 1u) << msg;
        const auto& issue = issues.list()[0];
        EXPECT_EQ(issue.type, "value_error");
        EXPECT_EQ(json::write(issue.loc), R"(["body","input"])");
        EXPECT_EQ(issue.input, parse(msg));  // as the client sent it
        EXPECT_EQ(json::write(issue.ctx), R"({"error":{}})");
    }
    // In a list, each refused message is named by its index.
    Issues issues;
    auto body = parse(R"({"agent_id":"a","session_id":"s","input":[)"
                      R"({"name":"u","role":"user","content":[{"type":"text","text":"x"}]},)"
                      R"({"name":"s","role":"system","content":[{"type":"text","text":"y"}]},)"
                      R"({"name":"a","role":"assistant","content":[{"type":"thinking","thinking":"z"}]}]})");
    EXPECT_FALSE(parse_chat_request(body, issues));
    ASSERT_EQ(issues.size(), 2u);
    EXPECT_EQ(json::write(issues.list()[0].loc), R"(["body","input",1])");
    EXPECT_EQ(json::write(issues.list()[1].loc), R"(["body","input",2])");
    // Text from an assistant is input like any other.
    Issues none;
    EXPECT_TRUE(parse_chat_request(
        parse(R"({"agent_id":"a","session_id":"s","input":{"name":"a","role":"assistant","content":[{"type":"text","text":"x"}]}})"),
        none));
}

TEST(ChatInputTest, SingleMessageBecomesCanonical) {
    Issues issues;
    auto request = parse_chat_request(parse(R"({"agent_id":"a","session_id":"s","extra":1,
                  "input":{"name":"user","role":"user","content":[{"type":"text","text":"hi","junk":2}],"junk":3}})"),
                                      issues);
    ASSERT_TRUE(request) << issues_json(issues);
    EXPECT_EQ(request->agent_id, "a");
    EXPECT_EQ(request->session_id, "s");
    const auto* input = std::get_if<MessagesInput>(&request->input);
    ASSERT_NE(input, nullptr);
    EXPECT_FALSE(input->was_list);
    ASSERT_EQ(input->messages.size(), 1u);
    const auto& msg = input->messages[0].as_object();
    std::vector<std::string> keys;
    for (const auto& kv : msg) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"name", "content", "role", "id", "metadata",
                                              "created_at", "usage", "finished_at",
                                              "finished_reason", "structured_output", "error"}));
    EXPECT_EQ(msg.at("id").as_string().size(), 32u);
    // Parsing (unlike the UserMsg constructor) leaves finished_at null.
    EXPECT_TRUE(msg.at("finished_at").is_null());
    const auto& block = msg.at("content").as_array()[0].as_object();
    EXPECT_EQ(block.size(), 5u);
    EXPECT_FALSE(block.contains("junk"));
    EXPECT_EQ(json::write(chat_input_json(request->input)), json::write(msg));
}

TEST(ChatInputTest, MessageListKeepsOrder) {
    Issues issues;
    auto request = parse_chat_request(parse(R"({"agent_id":"a","session_id":"s","input":[
                    {"name":"u","role":"user","content":[{"type":"text","text":"1"}]},
                    {"name":"u","role":"assistant","content":[{"text":"2"}]}]})"),
                                      issues);
    ASSERT_TRUE(request) << issues_json(issues);
    const auto* input = std::get_if<MessagesInput>(&request->input);
    ASSERT_NE(input, nullptr);
    EXPECT_TRUE(input->was_list);
    ASSERT_EQ(input->messages.size(), 2u);
    EXPECT_EQ(input->messages[1].at("role"), "assistant");
    EXPECT_EQ(input->messages[1].at("content").as_array()[0].at("type"), "text");
    EXPECT_TRUE(chat_input_json(request->input).is_array());
}

TEST(ChatInputTest, NullInputIsAccepted) {
    Issues issues;
    auto request =
        parse_chat_request(parse(R"({"agent_id":"a","session_id":"s","input":null})"), issues);
    ASSERT_TRUE(request);
    EXPECT_TRUE(std::holds_alternative<NoChatInput>(request->input));
    EXPECT_TRUE(chat_input_json(request->input).is_null());
}

TEST(ChatInputTest, MissingInputAndNonObjectBody) {
    Issues issues;
    EXPECT_FALSE(parse_chat_request(parse(R"({"agent_id":"a","session_id":"s"})"), issues));
    EXPECT_EQ(
        issues_json(issues),
        R"([{"type":"missing","loc":["body","input"],"msg":"Field required","input":{"agent_id":"a","session_id":"s"}}])");
    Issues not_object;
    EXPECT_FALSE(parse_chat_request(parse("[1]"), not_object));
    EXPECT_EQ(
        issues_json(not_object),
        R"([{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}])");
}

TEST(ChatInputTest, ConfirmResultFillsDefaults) {
    Issues issues;
    auto request = parse_chat_request(
        parse(
            R"({"agent_id":"a","session_id":"s","input":{"type":"USER_CONFIRM_RESULT","reply_id":"r1",
                  "confirm_results":[{"confirmed":true,"tool_call":{"type":"tool_call","id":"call_1","name":"Bash",
                  "input":"{\"command\": \"ls\"}","state":"asking"},"rules":null}]}})"),
        issues);
    ASSERT_TRUE(request) << issues_json(issues);
    const auto* input = std::get_if<ConfirmResultInput>(&request->input);
    ASSERT_NE(input, nullptr);
    const auto& e = input->event;
    std::vector<std::string> keys;
    for (const auto& kv : e) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"id", "created_at", "metadata", "type", "reply_id",
                                              "confirm_results"}));
    const auto& result = e.at("confirm_results").as_array()[0].as_object();
    EXPECT_EQ(result.at("confirmed"), true);
    EXPECT_TRUE(result.at("rules").is_null());
    const auto& call = result.at("tool_call").as_object();
    EXPECT_EQ(call.at("suggested_rules"), bj::array{});
    EXPECT_TRUE(call.at("finished_at").is_null());
    EXPECT_EQ(call.size(), 8u);
}

TEST(ChatInputTest, ConfirmResultTypeIsOptional) {
    Issues issues;
    auto request = parse_chat_request(
        parse(
            R"({"agent_id":"a","session_id":"s","input":{"reply_id":"r1","confirm_results":[]}})"),
        issues);
    ASSERT_TRUE(request) << issues_json(issues);
    const auto* input = std::get_if<ConfirmResultInput>(&request->input);
    ASSERT_NE(input, nullptr);
    EXPECT_EQ(input->event.at("type"), "USER_CONFIRM_RESULT");
}

TEST(ChatInputTest, ExternalResultKeepsGivenEnvelope) {
    Issues issues;
    auto request = parse_chat_request(
        parse(
            R"({"agent_id":"a","session_id":"s","input":{"type":"EXTERNAL_EXECUTION_RESULT","reply_id":"r",
                  "id":"e1","created_at":"2026-03-02T10:00:00","metadata":{"k":1},
                  "execution_results":[{"type":"tool_result","id":"c","name":"n","output":"ok","state":"success"}]}})"),
        issues);
    ASSERT_TRUE(request) << issues_json(issues);
    const auto* input = std::get_if<ExternalResultInput>(&request->input);
    ASSERT_NE(input, nullptr);
    auto result = input->event.at("execution_results").as_array()[0].as_object();
    result["created_at"] = "*";
    EXPECT_EQ(json::write(input->event.at("id")), R"("e1")");
    EXPECT_EQ(json::write(input->event.at("metadata")), R"({"k":1})");
    EXPECT_EQ(
        json::write(result),
        R"({"type":"tool_result","id":"c","name":"n","output":"ok","state":"success","metadata":{},"created_at":"*","finished_at":null})");
}

}  // namespace
}  // namespace agentd::domain
