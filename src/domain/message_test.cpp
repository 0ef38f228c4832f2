#include "domain/message.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "common/error.hpp"
#include "common/json.hpp"
#include "domain/spec_examples_test.hpp"

namespace agentd::domain {
namespace {

using validation::Issues;

bj::value parse(std::string_view text) { return json::parse_trusted(text); }

std::vector<std::string> keys_of(const bj::object& o) {
    std::vector<std::string> keys;
    for (const auto& kv : o) keys.emplace_back(kv.key());
    return keys;
}

std::string issues_json(const Issues& issues) {
    bj::array list;
    for (const auto& i : issues.list()) list.push_back(issue_to_json(i));
    return json::write(list);
}

bool is_local_iso(std::string_view s) {
    static const std::regex kIso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?)");
    return std::regex_match(s.begin(), s.end(), kIso);
}

bool is_hex_id(std::string_view s) {
    static const std::regex kHex("[0-9a-f]{32}");
    return std::regex_match(s.begin(), s.end(), kHex);
}

const std::vector<std::string> kMsgKeys = {"name",
                                           "content",
                                           "role",
                                           "id",
                                           "metadata",
                                           "created_at",
                                           "usage",
                                           "finished_at",
                                           "finished_reason",
                                           "structured_output",
                                           "error"};

TEST(MessageTest, BlockConstructorsUseReferenceKeyOrder) {
    auto text = text_block("hi");
    EXPECT_EQ(keys_of(text),
              (std::vector<std::string>{"type", "text", "id", "created_at", "finished_at"}));
    EXPECT_TRUE(is_hex_id(text.at("id").as_string()));
    EXPECT_TRUE(is_local_iso(text.at("created_at").as_string()));
    EXPECT_TRUE(text.at("finished_at").is_null());

    auto hint = hint_block("remember", "sys", {.id = "h1", .created_at = "2026-03-02T10:00:00.5"});
    EXPECT_EQ(
        json::write(hint),
        R"({"type":"hint","hint":"remember","id":"h1","source":"sys","created_at":"2026-03-02T10:00:00.5","finished_at":"2026-03-02T10:00:00.5"})");

    auto data =
        data_block(base64_source("AAA=", "image/png"), nullptr, {.id = "d", .created_at = "t"});
    EXPECT_EQ(
        json::write(data),
        R"({"type":"data","id":"d","source":{"type":"base64","data":"AAA=","media_type":"image/png"},"name":null,"created_at":"t","finished_at":null})");
    EXPECT_EQ(json::write(url_source("https://x.org/a.png", "image/png")),
              R"({"type":"url","url":"https://x.org/a.png","media_type":"image/png"})");

    auto call = tool_call_block("call_1", "Bash", "{}", tool_call_state::kPending, {}, "t");
    EXPECT_EQ(
        json::write(call),
        R"({"type":"tool_call","id":"call_1","name":"Bash","input":"{}","state":"pending","suggested_rules":[],"created_at":"t","finished_at":null})");
    auto result = tool_result_block("call_1", "Bash", "done", tool_result_state::kRunning, {}, "t");
    EXPECT_EQ(
        json::write(result),
        R"({"type":"tool_result","id":"call_1","name":"Bash","output":"done","state":"running","metadata":{},"created_at":"t","finished_at":null})");
    EXPECT_EQ(json::write(permission_rule("Bash", "ls", "allow", "session")),
              R"({"tool_name":"Bash","rule_content":"ls","behavior":"allow","source":"session"})");
}

TEST(MessageTest, ThinkingBlockKeepsProviderExtrasAfterDeclaredFields) {
    bj::object extra{{"signature", "sig"}, {"type", "ignored"}};
    auto b = thinking_block("hmm", {.id = "t1", .created_at = "c"}, extra);
    EXPECT_EQ(
        json::write(b),
        R"({"type":"thinking","thinking":"hmm","id":"t1","created_at":"c","finished_at":null,"signature":"sig"})");
}

TEST(MessageTest, UserAndSystemMessagesAreFinishedAtCreation) {
    auto user = user_msg("user", "hello");
    EXPECT_EQ(keys_of(user), kMsgKeys);
    EXPECT_EQ(user.at("role"), "user");
    EXPECT_EQ(user.at("finished_at"), user.at("created_at"));
    EXPECT_EQ(user.at("content").as_array()[0].at("text"), "hello");
    auto system = system_msg("system", "rules", {.created_at = "2026-01-01T00:00:00"});
    EXPECT_EQ(system.at("finished_at"), "2026-01-01T00:00:00");
    auto given = user_msg("u", "x", {.finished_at = "later"});
    EXPECT_EQ(given.at("finished_at"), "later");

    auto reply = assistant_msg("Friday", {}, {.id = "r1"});
    EXPECT_EQ(keys_of(reply), kMsgKeys);
    EXPECT_EQ(reply.at("id"), "r1");
    EXPECT_TRUE(reply.at("finished_at").is_null());
    EXPECT_TRUE(reply.at("usage").is_null());
}

TEST(MessageTest, ConstructorsEnforceRoleConstraints) {
    EXPECT_THROW(user_msg("u", bj::array{thinking_block("x")}), std::logic_error);
    EXPECT_THROW(system_msg("s", bj::array{data_block(base64_source("", "a/b"))}),
                 std::logic_error);
    EXPECT_NO_THROW(
        user_msg("u", bj::array{text_block("x"), data_block(base64_source("", "a/b"))}));
    EXPECT_NO_THROW(assistant_msg("a", bj::array{tool_call_block("c", "n", "{}")}));
    EXPECT_THROW(make_msg("x", {}, "tool"), std::logic_error);
}

TEST(MessageTest, SpecExampleMessagesRoundTripUnchanged) {
    for (auto text : {spec_examples::kContextUserMsg, spec_examples::kContextReplyMsg,
                      spec_examples::kLoggedReplyMsg}) {
        Issues issues;
        auto msg = parse_msg(parse(text), {}, issues);
        ASSERT_TRUE(msg) << issues_json(issues);
        EXPECT_EQ(json::write(*msg), text);
    }
}

TEST(MessageTest, ParseFillsDefaultsAndDropsUnknownKeys) {
    Issues issues;
    auto msg = parse_msg(parse(R"({"name":"a","role":"assistant","x":1,"content":[
        {"text":"no type","extra":true},
        {"type":"thinking","thinking":"t","signature":"s"},
        {"type":"hint","hint":[{"type":"text","text":"h"}]},
        {"type":"tool_result","id":"c","name":"n","output":"o"},
        {"type":"data","source":{"url":"HTTPS://Example.com","media_type":"image/png"}}]})"),
                         {}, issues);
    ASSERT_TRUE(msg) << issues_json(issues);
    EXPECT_EQ(keys_of(*msg), kMsgKeys);
    EXPECT_TRUE(is_hex_id(msg->at("id").as_string()));
    EXPECT_TRUE(is_local_iso(msg->at("created_at").as_string()));
    EXPECT_TRUE(msg->at("finished_at").is_null());
    const auto& content = msg->at("content").as_array();
    EXPECT_EQ(keys_of(content[0].as_object()),
              (std::vector<std::string>{"type", "text", "id", "created_at", "finished_at"}));
    EXPECT_EQ(content[0].at("type"), "text");
    EXPECT_EQ(keys_of(content[1].as_object()),
              (std::vector<std::string>{"type", "thinking", "id", "created_at", "finished_at",
                                        "signature"}));
    // A hint's finished_at defaults to a timestamp, not null.
    EXPECT_TRUE(content[2].at("finished_at").is_string());
    EXPECT_EQ(content[2].at("hint").as_array()[0].as_object().size(), 5u);
    EXPECT_EQ(content[3].at("state"), "running");
    EXPECT_EQ(content[3].at("metadata"), bj::object{});
    EXPECT_EQ(json::write(content[4].at("source")),
              R"({"type":"url","url":"https://example.com/","media_type":"image/png"})");
}

TEST(MessageTest, SmartUnionPrefersTheMatchWithMoreFieldsSet) {
    Issues issues;
    // Both TextBlock and ThinkingBlock accept this; the thinking block keeps
    // "text" as an extra key, so it has more fields set (as pydantic decides).
    auto msg =
        parse_msg(parse(R"({"name":"a","role":"assistant","content":[{"text":"x","thinking":"y"},
        {"source":{"data":"AA==","url":"http://a/","media_type":"m"}}]})"),
                  {}, issues);
    ASSERT_TRUE(msg) << issues_json(issues);
    const auto& content = msg->at("content").as_array();
    EXPECT_EQ(content[0].at("type"), "thinking");
    EXPECT_EQ(content[0].at("text"), "x");
    // Equal counts: the first member (Base64Source) wins.
    EXPECT_EQ(content[1].at("source").at("type"), "base64");
}

TEST(MessageTest, ContentMustBeAList) {
    Issues issues;
    EXPECT_FALSE(parse_msg(parse(R"({"name":"u","role":"user","content":"hi"})"), {"m"}, issues));
    EXPECT_EQ(
        issues_json(issues),
        R"([{"type":"list_type","loc":["m","content"],"msg":"Input should be a valid list","input":"hi"}])");
}

TEST(MessageTest, RoleConstraintIsAValueErrorOnTheMessage) {
    Issues issues;
    EXPECT_FALSE(parse_msg(
        parse(
            R"({"name":"s","role":"system","content":[{"type":"data","source":{"type":"base64","data":"","media_type":"a/b"}}]})"),
        {"m"}, issues));
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues.list()[0].type, "value_error");
    EXPECT_EQ(json::write(issues.list()[0].loc), R"(["m"])");
    EXPECT_EQ(issues.list()[0].msg, "Value error, System message can only contain text blocks.");
    EXPECT_EQ(json::write(issues.list()[0].ctx), R"({"error":{}})");
}

TEST(MessageTest, FieldIssuesFollowDeclarationOrder) {
    Issues issues;
    EXPECT_FALSE(
        parse_msg(parse(R"({"name":5,"role":"bot","content":[],"usage":{"input_tokens":"1"},
        "finished_reason":"nope","metadata":[],"structured_output":3,"error":{"type":"weird"},
        "id":null,"created_at":1,"finished_at":2})"),
                  {}, issues));
    std::vector<std::string> got;
    for (const auto& i : issues.list()) got.push_back(i.type + " " + json::write(i.loc));
    EXPECT_EQ(got,
              (std::vector<std::string>{
                  R"(string_type ["name"])", R"(literal_error ["role"])", R"(string_type ["id"])",
                  R"(dict_type ["metadata"])", R"(string_type ["created_at"])",
                  R"(missing ["usage","output_tokens"])", R"(string_type ["finished_at"])",
                  R"(enum ["finished_reason"])", R"(dict_type ["structured_output"])",
                  R"(enum ["error","type"])", R"(missing ["error","message"])"}));
    EXPECT_EQ(issues.list()[1].msg, "Input should be 'user', 'assistant' or 'system'");
    EXPECT_EQ(issues.list()[7].msg,
              "Input should be 'completed', 'interrupted', 'exceed_max_iters' or 'error'");
}

TEST(MessageTest, UnknownBlockTypeReportsEveryUnionMember) {
    Issues issues;
    EXPECT_FALSE(
        parse_msg(parse(R"({"name":"u","role":"user","content":[{"type":"image"}]})"), {}, issues));
    std::vector<std::string> got;
    for (const auto& i : issues.list()) got.push_back(json::write(i.loc));
    EXPECT_EQ(
        got,
        (std::vector<std::string>{
            R"(["content",0,"TextBlock","type"])", R"(["content",0,"TextBlock","text"])",
            R"(["content",0,"ThinkingBlock","type"])",
            R"(["content",0,"ThinkingBlock","thinking"])", R"(["content",0,"HintBlock","type"])",
            R"(["content",0,"HintBlock","hint"])", R"(["content",0,"ToolCallBlock","type"])",
            R"(["content",0,"ToolCallBlock","id"])", R"(["content",0,"ToolCallBlock","name"])",
            R"(["content",0,"ToolCallBlock","input"])", R"(["content",0,"ToolResultBlock","type"])",
            R"(["content",0,"ToolResultBlock","id"])", R"(["content",0,"ToolResultBlock","name"])",
            R"(["content",0,"ToolResultBlock","output"])", R"(["content",0,"DataBlock","type"])",
            R"(["content",0,"DataBlock","source"])"}));
    EXPECT_EQ(issues.list()[0].msg, "Input should be 'text'");
}

TEST(MessageTest, PermissionRuleContentIsRequiredButNullable) {
    Issues ok;
    auto rule = read_permission_rule(
        parse(R"({"tool_name":"Bash","rule_content":null,"behavior":"ask","source":"s"})"), {}, ok);
    ASSERT_TRUE(rule);
    EXPECT_TRUE(rule->value.at("rule_content").is_null());
    Issues missing;
    EXPECT_FALSE(read_permission_rule(
        parse(R"({"tool_name":"Bash","behavior":"deny","source":"s"})"), {}, missing));
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing.list()[0].type, "missing");
}

TEST(MessageTest, AccessorsFindBlocksAndAwaitingCalls) {
    auto msg = assistant_msg(
        "a",
        bj::array{text_block("one"), tool_call_block("c1", "Bash", "{}", tool_call_state::kAsking),
                  tool_call_block("c2", "Ext", "{}", tool_call_state::kSubmitted),
                  tool_call_block("c3", "Ext", "{}", tool_call_state::kSubmitted),
                  tool_result_block("c3", "Ext", "ok", tool_result_state::kSuccess),
                  tool_call_block("c4", "Read", "{}", tool_call_state::kFinished),
                  text_block("two")});
    ASSERT_NE(find_block(msg, "tool_call", "c2"), nullptr);
    EXPECT_EQ(find_block(msg, "tool_result", "c2"), nullptr);
    EXPECT_EQ(tool_calls(msg).size(), 4u);
    std::vector<std::string> awaiting;
    for (const auto* c : awaiting_tool_calls(msg)) awaiting.emplace_back(str_field(*c, "id"));
    EXPECT_EQ(awaiting, (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(text_content(msg), "one\ntwo");
    EXPECT_EQ(text_content(msg, ""), "onetwo");
    EXPECT_EQ(text_content(assistant_msg("a", {})), std::nullopt);
    EXPECT_TRUE(has_blocks(msg, "tool_result"));
    EXPECT_FALSE(has_blocks(msg, "data"));

    add_usage(msg, {10, 2});
    add_usage(msg, {5, 1, 3, 0});
    EXPECT_EQ(
        json::write(msg.at("usage")),
        R"({"input_tokens":15,"output_tokens":3,"cache_input_tokens":3,"cache_creation_input_tokens":0})");
}

TEST(MessageTest, UrlsAreNormalisedLikeAnyUrl) {
    struct Case {
        const char* in;
        const char* out;
    };
    const Case kCases[] = {
        {"https://example.com", "https://example.com/"},
        {"HTTPS://Example.COM/a b?q=a b#x y", "https://example.com/a%20b?q=a%20b#x%20y"},
        {"data:image/png;base64,AAA=", "data:image/png;base64,AAA="},
        {"file:///tmp/x", "file:///tmp/x"},
        {"http://[::1]:80/", "http://[::1]/"},
        {"http://a.com:8080", "http://a.com:8080/"},
        {"http://user:pw@a.com", "http://user:pw@a.com/"},
        {"s3://bucket/key", "s3://bucket/key"},
        {"  http://a.com  ", "http://a.com/"},
        {"http://a.com/../b/./c", "http://a.com/b/c"},
        {"http:/a", "http://a/"},
        {"http://ex.com/\xC3\xA4", "http://ex.com/%C3%A4"},
    };
    for (const auto& c : kCases) EXPECT_EQ(normalize_url(c.in), c.out) << c.in;
    std::string error;
    EXPECT_FALSE(normalize_url("not a url", &error));
    EXPECT_EQ(error, "relative URL without a base");
    EXPECT_FALSE(normalize_url("", &error));
    EXPECT_EQ(error, "input is empty");
    EXPECT_FALSE(normalize_url("http://", &error));
    EXPECT_EQ(error, "empty host");
    EXPECT_FALSE(normalize_url("http://a:99999/", &error));
    EXPECT_EQ(error, "invalid port number");
}

}  // namespace
}  // namespace agentd::domain
