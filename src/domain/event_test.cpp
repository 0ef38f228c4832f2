#include "domain/event.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/json.hpp"
#include "domain/spec_examples_test.hpp"

namespace agentd::domain::event {
namespace {

using validation::Issues;

bj::value parse(std::string_view text) { return json::parse_trusted(text); }

std::string issues_json(const Issues& issues) {
    bj::array list;
    for (const auto& i : issues.list()) list.push_back(issue_to_json(i));
    return json::write(list);
}

std::string s(const bj::object& o, std::string_view key) {
    return std::string(o.at(key).as_string());
}

/// Rebuilds an event of the §6.7 stream through its factory, from its fields.
bj::object rebuild(const bj::object& e) {
    Envelope env{s(e, "id"), s(e, "created_at"), e.at("metadata").as_object()};
    auto t = type_of(e);
    if (t == type::kReplyStart)
        return reply_start(s(e, "session_id"), s(e, "reply_id"), s(e, "name"), s(e, "role"), env);
    if (t == type::kReplyEnd)
        return reply_end(s(e, "session_id"), s(e, "reply_id"), s(e, "finished_reason"),
                         e.at("error"), env);
    if (t == type::kHintBlock)
        return hint_block(s(e, "reply_id"), s(e, "block_id"), e.at("hint"), e.at("source"), env);
    if (t == type::kModelCallStart)
        return model_call_start(s(e, "reply_id"), s(e, "model_name"), env);
    if (t == type::kModelCallEnd)
        return model_call_end(
            s(e, "reply_id"),
            Usage{e.at("input_tokens").as_int64(), e.at("output_tokens").as_int64(),
                  e.at("cache_input_tokens").as_int64(),
                  e.at("cache_creation_input_tokens").as_int64()},
            s(e, "finished_reason"), env);
    if (t == type::kTextBlockStart)
        return text_block_start(s(e, "reply_id"), s(e, "block_id"), env);
    if (t == type::kTextBlockDelta)
        return text_block_delta(s(e, "reply_id"), s(e, "block_id"), s(e, "delta"), env);
    if (t == type::kTextBlockEnd) return text_block_end(s(e, "reply_id"), s(e, "block_id"), env);
    if (t == type::kToolCallStart)
        return tool_call_start(s(e, "reply_id"), s(e, "tool_call_id"), s(e, "tool_call_name"), env);
    if (t == type::kToolCallDelta)
        return tool_call_delta(s(e, "reply_id"), s(e, "tool_call_id"), s(e, "delta"), env);
    if (t == type::kToolCallEnd) return tool_call_end(s(e, "reply_id"), s(e, "tool_call_id"), env);
    if (t == type::kToolResultStart)
        return tool_result_start(s(e, "reply_id"), s(e, "tool_call_id"), s(e, "tool_call_name"),
                                 env);
    if (t == type::kToolResultTextDelta)
        return tool_result_text_delta(s(e, "reply_id"), s(e, "tool_call_id"), s(e, "delta"), env);
    if (t == type::kToolResultEnd)
        return tool_result_end(s(e, "reply_id"), s(e, "tool_call_id"), s(e, "state"),
                               e.at("metadata").as_object(), env);
    ADD_FAILURE() << "unexpected event type " << t;
    return {};
}

TEST(EventTest, FactoriesReproduceTheSpecStreamByteForByte) {
    for (auto line : spec_examples::kReplyEvents) {
        auto event = parse(line).as_object();
        EXPECT_EQ(json::write(rebuild(event), json::Style::kPython), line);
    }
}

TEST(EventTest, EnvelopeDefaultsAndFieldOrder) {
    auto e = text_block_delta("r", "b", "hi");
    std::vector<std::string> keys;
    for (const auto& kv : e) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"id", "created_at", "metadata", "type", "reply_id",
                                              "block_id", "delta"}));
    EXPECT_EQ(e.at("id").as_string().size(), 32u);
    EXPECT_EQ(e.at("metadata"), bj::object{});
    EXPECT_EQ(reply_id_of(e), "r");
}

TEST(EventTest, RemainingFactoriesWriteCatalogueFields) {
    Envelope env{"i", "t", {}};
    auto w = [](const bj::object& e) { return json::write(e); };
    EXPECT_EQ(
        w(reply_end("s", "r", "error", error_info("setup", "boom"), env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"REPLY_END","session_id":"s","reply_id":"r","finished_reason":"error","error":{"type":"setup","message":"boom"}})");
    EXPECT_EQ(
        w(thinking_block_delta("r", "b", "d", env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"THINKING_BLOCK_DELTA","reply_id":"r","block_id":"b","delta":"d"})");
    EXPECT_EQ(
        w(data_block_start("r", "b", "audio/wav", env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"DATA_BLOCK_START","reply_id":"r","block_id":"b","media_type":"audio/wav"})");
    EXPECT_EQ(
        w(data_block_delta("r", "b", "AA==", "audio/wav", env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"DATA_BLOCK_DELTA","reply_id":"r","block_id":"b","data":"AA==","media_type":"audio/wav"})");
    EXPECT_EQ(
        w(tool_result_data_delta("r", "c", "image/png", std::nullopt, "https://x/", "b", env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"TOOL_RESULT_DATA_DELTA","reply_id":"r","tool_call_id":"c","block_id":"b","media_type":"image/png","data":null,"url":"https://x/"})");
    EXPECT_EQ(
        w(tool_result_end("r", "c", "error", bj::object{{"k", 1}}, env)),
        R"({"id":"i","created_at":"t","metadata":{"k":1},"type":"TOOL_RESULT_END","reply_id":"r","tool_call_id":"c","state":"error"})");
    EXPECT_EQ(
        w(exceed_max_iters("r", "Friday", env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"EXCEED_MAX_ITERS","reply_id":"r","name":"Friday"})");
    EXPECT_EQ(
        w(require_user_confirm("r", bj::array{}, env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"REQUIRE_USER_CONFIRM","reply_id":"r","tool_calls":[]})");
    EXPECT_EQ(
        w(require_external_execution("r", bj::array{}, env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"REQUIRE_EXTERNAL_EXECUTION","reply_id":"r","tool_calls":[]})");
    EXPECT_EQ(
        w(user_confirm_result("r", bj::array{confirm_result(false, bj::object{})}, env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"USER_CONFIRM_RESULT","reply_id":"r","confirm_results":[{"confirmed":false,"tool_call":{},"rules":null}]})");
    EXPECT_EQ(
        w(external_execution_result("r", bj::array{}, env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"EXTERNAL_EXECUTION_RESULT","reply_id":"r","execution_results":[]})");
    EXPECT_EQ(
        w(user_interrupt("r", env)),
        R"({"id":"i","created_at":"t","metadata":{},"type":"USER_INTERRUPT","reply_id":"r"})");
    auto c = custom("team_updated", {}, env);
    EXPECT_EQ(
        w(c),
        R"({"id":"i","created_at":"t","metadata":{},"type":"CUSTOM","name":"team_updated","value":{}})");
    EXPECT_EQ(reply_id_of(c), std::nullopt);
}

TEST(EventTest, ToolResultDataDeltaNeedsExactlyOneSource) {
    EXPECT_THROW(tool_result_data_delta("r", "c", "m", std::nullopt, std::nullopt),
                 std::logic_error);
    EXPECT_THROW(tool_result_data_delta("r", "c", "m", "AA==", "http://x/"), std::logic_error);
    auto e = tool_result_data_delta("r", "c", "m", "AA==", std::nullopt);
    EXPECT_EQ(e.at("block_id").as_string().size(), 32u);
}

TEST(EventTest, ParsesInboundEventsByType) {
    Issues issues;
    auto interrupt =
        parse_event(parse(R"({"type":"USER_INTERRUPT","reply_id":"r","junk":1})"), {}, issues);
    ASSERT_TRUE(interrupt) << issues_json(issues);
    EXPECT_EQ(interrupt->size(), 5u);
    EXPECT_EQ(type_of(*interrupt), type::kUserInterrupt);

    auto confirm =
        parse_event(parse(R"({"type":"USER_CONFIRM_RESULT","id":"e","created_at":"t","reply_id":"r",
        "confirm_results":[{"confirmed":1,"tool_call":{"id":"c","name":"Bash","input":"{}"},
        "rules":[{"tool_name":"Bash","rule_content":"ls","behavior":"allow","source":"session"}]}]})"),
                    {}, issues);
    ASSERT_TRUE(confirm) << issues_json(issues);
    auto result = confirm->at("confirm_results").as_array()[0].as_object();
    EXPECT_EQ(result.at("confirmed"), true);
    auto call = result.at("tool_call").as_object();
    call["created_at"] = "*";
    EXPECT_EQ(
        json::write(call),
        R"({"type":"tool_call","id":"c","name":"Bash","input":"{}","state":"pending","suggested_rules":[],"created_at":"*","finished_at":null})");
    EXPECT_EQ(
        json::write(result.at("rules")),
        R"([{"tool_name":"Bash","rule_content":"ls","behavior":"allow","source":"session"}])");
}

TEST(EventTest, TypedInboundEventIssuesAreNotTagged) {
    Issues issues;
    EXPECT_FALSE(parse_event(parse(R"({"type":"EXTERNAL_EXECUTION_RESULT","reply_id":"r",
        "execution_results":[{"id":"c","name":"n","output":"x","state":"weird"}]})"),
                             {"body", "input"}, issues));
    EXPECT_EQ(
        issues_json(issues),
        R"([{"type":"enum","loc":["body","input","execution_results",0,"state"],"msg":"Input should be 'success', 'error', 'interrupted', 'denied' or 'running'","input":"weird","ctx":{"expected":"'success', 'error', 'interrupted', 'denied' or 'running'"}}])");
}

TEST(EventTest, UntypedInboundEventIsReadAsTheUnion) {
    Issues ok;
    auto interrupt = parse_event(parse(R"({"reply_id":"r"})"), {}, ok);
    ASSERT_TRUE(interrupt);
    EXPECT_EQ(type_of(*interrupt), type::kUserInterrupt);

    Issues issues;
    EXPECT_FALSE(parse_event(parse(R"({"type":"REPLY_START"})"), {}, issues));
    ASSERT_GE(issues.size(), 3u);
    EXPECT_EQ(json::write(issues.list()[0].loc), R"(["UserConfirmResultEvent","type"])");
    EXPECT_EQ(issues.list()[0].msg,
              "Input should be <EventType.USER_CONFIRM_RESULT: 'USER_CONFIRM_RESULT'>");
}

}  // namespace
}  // namespace agentd::domain::event
