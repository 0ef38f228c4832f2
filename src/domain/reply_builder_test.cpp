#include "domain/reply_builder.hpp"

#include <gtest/gtest.h>

#include "common/json.hpp"
#include "domain/event.hpp"
#include "domain/message.hpp"
#include "domain/spec_examples_test.hpp"

namespace agentd::domain {
namespace {

namespace ev = event;

bj::value parse(std::string_view text) { return json::parse_trusted(text); }

/// Blanks what a fold stamps with the wall clock or a fresh id (the message's
/// created_at, every block's created_at, a hint's finished_at, and the id of a
/// text block opened inside tool output): the reference does the same, so these
/// can never match a recorded example.
void scrub(bj::object& msg) {
    msg["created_at"] = "*";
    for (auto& b : msg["content"].as_array()) {
        auto& block = b.as_object();
        block["created_at"] = "*";
        if (block.at("type") == "hint") block["finished_at"] = "*";
        if (block.at("type") == "tool_result" && block.at("output").is_array()) {
            for (auto& o : block["output"].as_array()) {
                o.as_object()["created_at"] = "*";
                if (o.at("type") == "text") o.as_object()["id"] = "*";
            }
        }
    }
}

bj::object fold(std::span<const std::string_view> lines) {
    std::optional<bj::object> msg;
    for (auto line : lines) {
        auto event = parse(line).as_object();
        if (ev::type_of(event) == ev::type::kReplyStart)
            msg = start_reply(event);
        else if (msg)
            append_event(*msg, event);
    }
    return msg.value_or(bj::object{});
}

TEST(ReplyBuilderTest, FoldingTheSpecStreamGivesTheLoggedReply) {
    auto msg = fold(spec_examples::kReplyEvents);
    auto expected = parse(spec_examples::kLoggedReplyMsg).as_object();
    // The reply id and tool call ids are what the context copy (§2.10) holds too.
    auto context = parse(spec_examples::kContextReplyMsg).as_object();
    EXPECT_EQ(msg.at("id"), context.at("id"));
    scrub(msg);
    scrub(expected);
    EXPECT_EQ(json::write(msg), json::write(expected));
}

TEST(ReplyBuilderTest, StartReplyOpensAnEmptyAssistantMessage) {
    auto msg = start_reply(ev::reply_start("s", "r1", "Friday"));
    EXPECT_EQ(msg.at("id"), "r1");
    EXPECT_EQ(msg.at("name"), "Friday");
    EXPECT_EQ(msg.at("role"), "assistant");
    EXPECT_EQ(msg.at("content"), bj::array{});
    EXPECT_TRUE(msg.at("finished_at").is_null());
}

TEST(ReplyBuilderTest, IgnoresOtherRepliesCustomEventsAndUnknownBlocks) {
    auto msg = assistant_msg("a", {}, {.id = "r"});
    auto before = json::write(msg);
    append_event(msg, ev::text_block_start("other", "b"));
    append_event(msg, ev::custom("state_updated"));
    append_event(msg, ev::text_block_delta("r", "missing", "x"));
    append_event(msg, ev::tool_call_delta("r", "missing", "x"));
    append_event(msg, ev::tool_result_text_delta("r", "missing", "x"));
    append_event(msg, ev::data_block_delta("r", "missing", "AA==", "a/b"));
    append_event(msg, ev::model_call_start("r", "gpt"));
    append_event(msg, ev::exceed_max_iters("r", "a"));
    append_event(msg, ev::user_interrupt("r"));
    append_event(msg, ev::reply_start("s", "r", "a"));
    EXPECT_EQ(json::write(msg), before);
}

TEST(ReplyBuilderTest, DataDeltasJoinBytesNotBase64Text) {
    EXPECT_EQ(concat_base64("", "YQ=="), "YQ==");
    EXPECT_EQ(concat_base64("YQ==", "Yg=="), "YWI=");  // "a" + "b", not "YQ==Yg=="
    EXPECT_EQ(concat_base64("aGVsbG8=", "IHdvcmxk"), "aGVsbG8gd29ybGQ=");
    EXPECT_EQ(concat_base64("YQ==", "not base64!"), std::nullopt);
    EXPECT_EQ(concat_base64("YQ", ""), std::nullopt);  // missing padding

    auto msg = assistant_msg("a", {}, {.id = "r"});
    append_event(msg, ev::data_block_start("r", "d1", "audio/wav"));
    append_event(msg, ev::data_block_delta("r", "d1", "YQ==", "audio/wav"));
    append_event(msg, ev::data_block_delta("r", "d1", "", "audio/wav"));
    append_event(msg, ev::data_block_delta("r", "d1", "Yg==", "audio/wav"));
    append_event(msg, ev::data_block_delta("r", "d1", "%%%", "audio/wav"));  // invalid: ignored
    append_event(msg, ev::data_block_end("r", "d1", {.created_at = "end"}));
    const auto& block = msg.at("content").as_array()[0].as_object();
    EXPECT_EQ(json::write(block.at("source")),
              R"({"type":"base64","data":"YWI=","media_type":"audio/wav"})");
    EXPECT_EQ(block.at("finished_at"), "end");
    EXPECT_TRUE(block.at("name").is_null());
}

TEST(ReplyBuilderTest, ThinkingAndHintBlocks) {
    auto msg = assistant_msg("a", {}, {.id = "r"});
    append_event(msg, ev::thinking_block_start("r", "t"));
    append_event(msg, ev::thinking_block_delta("r", "t", "step 1"));
    append_event(msg, ev::thinking_block_delta("r", "t", ", step 2"));
    append_event(msg, ev::thinking_block_end("r", "t", {.created_at = "t-end"}));
    bj::array hint{text_block("look", {.id = "x", .created_at = "c"})};
    append_event(msg, ev::hint_block("r", "h", hint, "team"));
    const auto& content = msg.at("content").as_array();
    EXPECT_EQ(content[0].at("thinking"), "step 1, step 2");
    EXPECT_EQ(content[0].at("finished_at"), "t-end");
    EXPECT_EQ(content[1].at("id"), "h");
    EXPECT_EQ(content[1].at("source"), "team");
    EXPECT_EQ(content[1].at("hint"), hint);
    EXPECT_EQ(content[1].at("finished_at"), content[1].at("created_at"));
}

TEST(ReplyBuilderTest, ToolResultDeltasBuildOutputBlocks) {
    auto msg =
        assistant_msg("a", bj::array{tool_result_block("c", "Read", "earlier")}, {.id = "r"});
    append_event(msg, ev::tool_result_text_delta("r", "c", " more"));
    append_event(msg,
                 ev::tool_result_data_delta("r", "c", "image/png", "AA==", std::nullopt, "d1"));
    append_event(msg, ev::tool_result_text_delta("r", "c", "after"));
    append_event(
        msg, ev::tool_result_data_delta("r", "c", "image/png", std::nullopt, "HTTP://X.org", "d2"));
    const auto& output = msg.at("content").as_array()[0].at("output").as_array();
    ASSERT_EQ(output.size(), 4u);
    EXPECT_EQ(output[0].at("text"), "earlier more");  // the string became a text block
    EXPECT_EQ(output[1].at("id"), "d1");
    EXPECT_EQ(json::write(output[1].at("source")),
              R"({"type":"base64","data":"AA==","media_type":"image/png"})");
    EXPECT_EQ(output[2].at("text"), "after");
    EXPECT_EQ(json::write(output[3].at("source")),
              R"({"type":"url","url":"http://x.org/","media_type":"image/png"})");
}

TEST(ReplyBuilderTest, ToolResultEndFinishesTheCall) {
    auto msg = assistant_msg("a", {}, {.id = "r"});
    append_event(msg, ev::tool_call_start("r", "c", "Bash"));
    append_event(msg, ev::tool_call_delta("r", "c", "{\"a\": "));
    append_event(msg, ev::tool_call_delta("r", "c", "1}"));
    append_event(msg, ev::tool_call_end("r", "c", {.created_at = "call-end"}));
    append_event(msg, ev::tool_result_start("r", "c", "Bash"));
    append_event(msg, ev::tool_result_end("r", "c", "error", bj::object{{"exit", 2}},
                                          {.created_at = "res-end"}));
    const auto& content = msg.at("content").as_array();
    EXPECT_EQ(content[0].at("input"), "{\"a\": 1}");
    EXPECT_EQ(content[0].at("state"), "finished");
    EXPECT_EQ(content[0].at("finished_at"), "call-end");
    EXPECT_EQ(content[1].at("state"), "error");
    EXPECT_EQ(json::write(content[1].at("metadata")), R"({"exit":2})");
    EXPECT_EQ(content[1].at("finished_at"), "res-end");
    EXPECT_EQ(content[1].at("output"), bj::array{});
}

TEST(ReplyBuilderTest, ConfirmationFlow) {
    auto msg = assistant_msg(
        "a",
        bj::array{tool_call_block("c1", "Bash", "{}"), tool_call_block("c2", "Bash", "{}"),
                  tool_call_block("c3", "Bash", "{}", tool_call_state::kFinished)},
        {.id = "r"});
    bj::array rules{permission_rule("Bash", "rm", "allow", "session")};
    append_event(msg, ev::require_user_confirm(
                          "r", bj::array{tool_call_block("c1", "Bash", "{}", "asking", rules),
                                         tool_call_block("c2", "Bash", "{}", "asking")}));
    auto& content = msg.at("content").as_array();
    EXPECT_EQ(content[0].at("state"), "asking");
    EXPECT_EQ(content[0].at("suggested_rules"), rules);
    // The user's edit of name/input is not copied; only asking calls move.
    append_event(
        msg,
        ev::user_confirm_result(
            "r", bj::array{ev::confirm_result(true, tool_call_block("c1", "Edited", "{\"x\":1}")),
                           ev::confirm_result(false, tool_call_block("c2", "Bash", "{}")),
                           ev::confirm_result(true, tool_call_block("c3", "Bash", "{}"))}));
    EXPECT_EQ(content[0].at("state"), "allowed");
    EXPECT_EQ(content[0].at("name"), "Bash");
    EXPECT_EQ(content[1].at("state"), "finished");
    EXPECT_EQ(content[2].at("state"), "finished");
}

TEST(ReplyBuilderTest, ExternalExecutionFlow) {
    auto msg = assistant_msg(
        "a",
        bj::array{tool_call_block("c1", "Ext", "{}"), tool_call_block("c2", "Ext", "{}"),
                  tool_result_block("c1", "Ext", bj::array{})},
        {.id = "r"});
    append_event(
        msg, ev::require_external_execution("r", bj::array{tool_call_block("c1", "Ext", "{}"),
                                                           tool_call_block("c2", "Ext", "{}")}));
    EXPECT_EQ(msg.at("content").as_array()[1].at("state"), "submitted");
    auto given = tool_result_block("c2", "Ext", "done", "success");
    given["finished_at"] = "given";
    append_event(msg, ev::external_execution_result(
                          "r",
                          bj::array{tool_result_block("c1", "Ext", "dup", "success"),
                                    tool_result_block("c2", "Ext", "ok", "success"), given},
                          {.created_at = "event-time"}));
    const auto& content = msg.at("content").as_array();
    // c1 already had a result: skipped. c2 is new: appended with the event time.
    // The second c2 result is appended too (ids are collected before the loop).
    ASSERT_EQ(content.size(), 5u);
    EXPECT_EQ(content[3].at("output"), "ok");
    EXPECT_EQ(content[3].at("finished_at"), "event-time");
    EXPECT_EQ(content[4].at("finished_at"), "given");
}

TEST(ReplyBuilderTest, UsageAndReplyEnd) {
    auto msg = assistant_msg("a", {}, {.id = "r"});
    append_event(msg, ev::model_call_end("r", {100, 10, 5, 1}));
    append_event(msg, ev::model_call_end("r", {20, 2}));
    EXPECT_EQ(
        json::write(msg.at("usage")),
        R"({"input_tokens":120,"output_tokens":12,"cache_input_tokens":5,"cache_creation_input_tokens":1})");
    append_event(
        msg, ev::reply_end("s", "r", "error", error_info("upstream", "The model provider failed."),
                           {.created_at = "end"}));
    EXPECT_EQ(msg.at("finished_at"), "end");
    EXPECT_EQ(msg.at("finished_reason"), "error");
    EXPECT_EQ(json::write(msg.at("error")),
              R"({"type":"upstream","message":"The model provider failed."})");
    std::vector<std::string> keys;
    for (const auto& kv : msg) keys.emplace_back(kv.key());
    EXPECT_EQ(keys.size(), 11u);
    EXPECT_EQ(keys.back(), "error");
}

}  // namespace
}  // namespace agentd::domain
