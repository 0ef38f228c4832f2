#include "service/crash_repair.hpp"

#include <gtest/gtest.h>

#include "common/json_access.hpp"
#include "domain/message.hpp"

namespace agentd::service {
namespace {

bj::object call(const std::string& id, const char* state) {
    auto block = domain::tool_call_block(id, "debug_guarded", "{}");
    if (state) block["state"] = state;
    return block;
}

std::string state_of_result(const bj::object& msg, const std::string& id) {
    const auto* result = domain::find_block(msg, "tool_result", id);
    return result ? std::string(json::str_at(*result, "state")) : "none";
}

TEST(CrashRepair, AParkedReplyLosesOnlyTheApprovedCallsTheCrashCut) {
    // A concurrent batch: `a` was approved and ran when the process died, `b`
    // still awaits its answer, `c` has its result, `d` was not reached.
    auto done = call("c", "finished");
    bj::array content{call("a", "allowed"), call("b", "asking"), done, call("d", nullptr)};
    content.push_back(domain::tool_result_block("c", "debug_guarded", bj::value("ok"), "success", {}));
    bj::array context{domain::assistant_msg("Tester", std::move(content))};
    auto repaired = repair_context_tail(context);
    ASSERT_TRUE(repaired);
    EXPECT_EQ(repaired->closed, (std::vector<std::string>{"a"}));
    const auto& tail = context.back().as_object();
    EXPECT_EQ(state_of_result(tail, "a"), "interrupted");
    EXPECT_EQ(domain::find_block(tail, "tool_result", "a")->at("output"), bj::value(domain::kInterruptedToolText));
    EXPECT_EQ(state_of_result(tail, "b"), "none");
    EXPECT_EQ(state_of_result(tail, "d"), "none");
    EXPECT_EQ(domain::find_block(tail, "tool_call", "b")->at("state"), "asking");
    EXPECT_EQ(repaired->message, tail);

    // Nothing approved was cut: a parked reply is left as it is.
    bj::array parked{domain::assistant_msg("Tester", bj::array{call("b", "asking"), call("d", nullptr)})};
    EXPECT_FALSE(repair_context_tail(parked));
}

TEST(CrashRepair, AReplyThatWasNotParkedHasEveryOpenCallClosed) {
    bj::array context{domain::assistant_msg("Tester", bj::array{call("a", "allowed"), call("d", nullptr)})};
    auto repaired = repair_context_tail(context);
    ASSERT_TRUE(repaired);
    EXPECT_EQ(repaired->closed, (std::vector<std::string>{"a", "d"}));
    bj::array user_tail{domain::user_msg("user", std::string_view("hi"))};
    EXPECT_FALSE(repair_context_tail(user_tail));
}

TEST(CrashRepair, TheLogCopyClosesOnlyTheNamedCalls) {
    auto reply = domain::assistant_msg("Tester", bj::array{call("a", "allowed"), call("b", "asking")});
    reply["id"] = "r1";
    const std::vector<std::string> only{"a"};
    close_cut_tool_calls(reply, &only);
    EXPECT_EQ(state_of_result(reply, "a"), "interrupted");
    EXPECT_EQ(state_of_result(reply, "b"), "none");
    close_cut_tool_calls(reply);
    EXPECT_EQ(state_of_result(reply, "b"), "interrupted");
}

}  // namespace
}  // namespace agentd::service
