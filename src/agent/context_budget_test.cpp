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
    // The kept head of the boundary joins the text block before it, as the
    // reference's layout has it; its cut tail joins the text block after it.
    auto cut = cut_tool_output(out, 100);
    ASSERT_TRUE(cut);
    ASSERT_EQ(cut->kept.as_array().size(), 1u);
    EXPECT_EQ(cut->kept.as_array()[0].at("text"), bj::value(std::string(200, 'a') + std::string(200, 'b')));
    ASSERT_EQ(cut->rest.as_array().size(), 1u);
    EXPECT_EQ(cut->rest.as_array()[0].at("text"), bj::value(std::string(1800, 'b') + "never kept"));
    auto shown = truncate_tool_output(out, 100).as_array();
    ASSERT_EQ(shown.size(), 1u);
    EXPECT_EQ(std::string(shown[0].at("text").as_string()),
              std::string(200, 'a') + std::string(200, 'b') + std::string(kTruncatedReminder));
}

bj::object image(std::string name) {
    return bj::object{{"type", "data"},
                      {"name", std::move(name)},
                      {"source", bj::object{{"type", "url"}, {"url", "https://x/i.png"}, {"media_type", "image/png"}}}};
}

TEST(ContextBudget, TheNoticeGoesOnTheLastBlockOnlyWhenThatIsText) {
    // A kept text followed by an image: the notice is a text block of its own.
    const bj::object head{{"type", "text"}, {"text", "head"}}, tail{{"type", "text"}, {"text", "tail"}};
    auto after_image = with_reminder(bj::array{head, image("a")}, "!").as_array();
    ASSERT_EQ(after_image.size(), 3u);
    EXPECT_EQ(after_image[0].at("text"), "head");
    EXPECT_EQ(after_image[1].at("type"), "data");
    EXPECT_EQ(after_image[2].at("type"), "text");
    EXPECT_EQ(after_image[2].at("text"), "!");
    auto after_text = with_reminder(bj::array{image("a"), tail}, "!").as_array();
    ASSERT_EQ(after_text.size(), 2u);
    EXPECT_EQ(after_text[1].at("text"), "tail!");
}

TEST(ContextBudget, ABoundaryTextWithNoBudgetLeftAddsNoEmptyBlock) {
    bj::array out{bj::object{{"type", "text"}, {"text", "hello world"}}};
    auto cut = cut_tool_output(out, 0);
    ASSERT_TRUE(cut);
    EXPECT_TRUE(cut->kept.as_array().empty());
    ASSERT_EQ(cut->rest.as_array().size(), 1u);
    EXPECT_EQ(cut->rest.as_array()[0].at("text"), "hello world");
    auto shown = truncate_tool_output(out, 0).as_array();
    ASSERT_EQ(shown.size(), 1u);
    EXPECT_EQ(shown[0].at("text"), bj::value(kTruncatedReminder));
}

TEST(ContextBudget, ABlockThatReachesTheLimitIsTheBoundary) {
    // The image alone makes the 2,000-token limit: it is not kept (the
    // reference keeps blocks whose total stays below the limit), and the
    // notice is a block of its own.
    bj::array out{image("a"), bj::object{{"type", "text"}, {"text", std::string(10000, 'x')}}};
    auto cut = cut_tool_output(out, 2000);
    ASSERT_TRUE(cut);
    EXPECT_TRUE(cut->kept.as_array().empty());
    ASSERT_EQ(cut->rest.as_array().size(), 2u);
    EXPECT_EQ(cut->rest.as_array()[0].at("type"), "data");
    auto shown = truncate_tool_output(out, 2000).as_array();
    ASSERT_EQ(shown.size(), 1u);
    EXPECT_EQ(shown[0].at("text"), bj::value(kTruncatedReminder));
}

TEST(ContextBudget, TheKeptBlocksAreCountedAsOneMessage) {
    // Three 5-byte texts: 1 token each alone, 4 together (round(15 / 4)); the
    // first two already make round(10 / 4) = 3, the whole limit, so the second
    // is the boundary and the third goes, as the reference counts.
    bj::array out{bj::object{{"type", "text"}, {"text", "aaaaa"}}, bj::object{{"type", "text"}, {"text", "bbbbb"}},
                  bj::object{{"type", "text"}, {"text", "ccccc"}}};
    auto cut = cut_tool_output(out, 3);
    ASSERT_TRUE(cut);
    ASSERT_EQ(cut->kept.as_array().size(), 1u);
    EXPECT_EQ(cut->kept.as_array()[0].at("text"), "aaaaabbbbb");
    ASSERT_EQ(cut->rest.as_array().size(), 1u);
    EXPECT_EQ(cut->rest.as_array()[0].at("text"), "ccccc");
}

TEST(ContextBudget, ABoundaryTextKeepsTheReferencesShareOfItsCodePoints) {
    // 100 x "é" + 600 x "a": 800 bytes, 700 code points, 200 tokens. The budget
    // of 100 is half the tokens the text adds: half its code points are kept
    // (350: all the é and 250 a), not the first 400 bytes.
    std::string text;
    for (int i = 0; i < 100; ++i) text += "\xC3\xA9";
    text += std::string(600, 'a');
    bj::array out{bj::object{{"type", "text"}, {"text", text}}};
    auto cut = cut_tool_output(out, 100);
    ASSERT_TRUE(cut);
    ASSERT_EQ(cut->kept.as_array().size(), 1u);
    EXPECT_EQ(std::string(cut->kept.as_array()[0].at("text").as_string()), text.substr(0, 200 + 250));
    EXPECT_EQ(std::string(cut->rest.as_array()[0].at("text").as_string()), std::string(350, 'a'));
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
