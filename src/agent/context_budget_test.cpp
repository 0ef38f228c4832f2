#include "agent/context_budget.hpp"

#include <gtest/gtest.h>

namespace agentd::agent {

namespace bj = boost::json;

namespace {

/// The reference's marker when no file keeps the rest.
const std::string kTruncatedReminder =
    "\n<<<TRUNCATED>>>\n<system-reminder>The remaining content has been omitted for limited context."
    "</system-reminder>";

/// The context copy of `output` when no file keeps the rest; unchanged within the limit.
bj::value truncate_tool_output(const bj::value& output, std::int64_t limit) {
    auto cut = cut_tool_output(output, limit);
    return cut ? with_reminder(std::move(cut->kept), truncated_reminder("")) : output;
}

}  // namespace

TEST(ContextBudget, EstimatesLikeTheReference) {
    // models.md §8: "hi" + one image → 2001; one image alone → 2000.
    bj::array blocks{bj::object{{"type", "text"}, {"text", "hi"}},
                     bj::object{{"type", "data"}, {"source", bj::object{{"type", "url"}}}}};
    EXPECT_EQ(estimate_tokens(bj::object{{"role", "user"}, {"content", blocks}}), 2001);
    EXPECT_EQ(estimate_tokens(bj::array{blocks[1]}), 2000);
    EXPECT_EQ(estimate_tokens(bj::value(std::string(400, 'x'))), 100);
}

TEST(ContextBudget, SmallOutputsAreUntouched) {
    bj::value out("short");
    EXPECT_EQ(truncate_tool_output(out, 100), out);
}

TEST(ContextBudget, LongStringIsCutWithTheMarker) {
    auto out = truncate_tool_output(bj::value(std::string(10000, 'a')), 100);
    std::string s(out.as_string());
    EXPECT_EQ(s.substr(0, 400), std::string(400, 'a'));
    EXPECT_EQ(s.substr(400), std::string(kTruncatedReminder));
}

TEST(ContextBudget, BlocksKeepWholeLeadersAndCutTheBoundary) {
    bj::array out{bj::object{{"type", "text"}, {"text", std::string(200, 'a')}},
                  bj::object{{"type", "text"}, {"text", std::string(2000, 'b')}},
                  bj::object{{"type", "text"}, {"text", "never kept"}}};
    auto cut = truncate_tool_output(out, 100).as_array();
    ASSERT_EQ(cut.size(), 2u);
    EXPECT_EQ(std::string(cut[0].at("text").as_string()), std::string(200, 'a'));
    EXPECT_EQ(std::string(cut[1].at("text").as_string()), std::string(200, 'b') + std::string(kTruncatedReminder));
}

TEST(ContextBudget, NeverSplitsAUtf8Sequence) {
    std::string s;
    for (int i = 0; i < 1000; ++i) s += "\xC3\xA9";  // é
    auto out = truncate_tool_output(bj::value(s), 3);  // 12 bytes budget
    std::string kept(out.as_string());
    kept = kept.substr(0, kept.find('\n'));
    EXPECT_EQ(kept.size() % 2, 0u);
}

}  // namespace agentd::agent
