#include "storage/sqlite/message_layout.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "common/json.hpp"

namespace agentd::storage::sqlite {
namespace {

namespace bj = boost::json;

bj::object parse(std::string_view text) { return json::parse_trusted(text).as_object(); }

TEST(MessageLayoutTest, MessagesWithoutAListOfSeveralBlocksStayWhole) {
    for (const char* text : {
             R"({"id":"m1","role":"user","content":"plain text"})",
             R"({"id":"m1","role":"user","content":[{"type":"text","text":"one block"}]})",
             R"({"id":"m1","role":"assistant","content":[]})",
             R"({"id":"m1","role":"assistant"})",
             R"({"id":"m1","content":{"type":"text","text":"not a list"}})",
         }) {
        auto layout = lay_out(parse(text));
        EXPECT_FALSE(layout.split()) << text;
        EXPECT_EQ(layout.content_at, -1) << text;
        EXPECT_TRUE(layout.blocks.empty()) << text;
        EXPECT_EQ(layout.head, text);
        EXPECT_EQ(assemble(layout.head, layout.content_at, layout.blocks), text);
    }
}

TEST(MessageLayoutTest, OnlyMessagesLongerThanAPageAreSplit) {
    bj::object msg{{"id", "r1"}, {"role", "assistant"}, {"content", bj::array{}}};
    auto& content = msg["content"].as_array();
    while (json::write(msg).size() < kSplitFromBytes - 200) {
        content.push_back(bj::object{{"type", "text"}, {"text", std::string(100, 'x')}});
        auto layout = lay_out(msg);
        EXPECT_FALSE(layout.split()) << json::write(msg).size() << " bytes";
        EXPECT_EQ(layout.head, json::write(msg));
    }
    content.push_back(bj::object{{"type", "text"}, {"text", std::string(300, 'y')}});
    auto layout = lay_out(msg);
    ASSERT_TRUE(layout.split()) << json::write(msg).size() << " bytes";
    EXPECT_EQ(layout.blocks.size(), content.size());
    EXPECT_EQ(assemble(layout.head, layout.content_at, layout.blocks), json::write(msg));
    // One huge block is still one block: nothing to gain from a row of its own.
    bj::object single{{"id", "r2"}, {"content", bj::array{bj::object{{"text", std::string(20000, 'z')}}}}};
    EXPECT_FALSE(lay_out(single).split());
}

TEST(MessageLayoutTest, SeveralBlocksAreSplitAndAssembleToTheSameText) {
    // Keys before and after content, a nested "content":[] that must not be taken
    // for the message's own, escapes and non-ASCII text.
    const std::string text =
        R"({"id":"r1","metadata":{"content":[]},"role":"assistant","content":[)"
        R"({"type":"thinking","thinking":"a \"quoted\" ] bracket"},)"
        R"({"type":"tool_use","id":"c1","name":"bash","input":{"content":[1,2]}},)"
        R"({"type":"text","text":"caf\u00e9 \u2014 done"}],"usage":{"input_tokens":3},"finished_reason":null})";
    const auto msg = parse(text);
    auto layout = lay_out(msg, 0);
    ASSERT_TRUE(layout.split());
    ASSERT_EQ(layout.blocks.size(), 3u);
    EXPECT_EQ(layout.blocks[0], json::write(msg.at("content").at(0)));
    EXPECT_EQ(layout.blocks[2], json::write(msg.at("content").at(2)));
    EXPECT_EQ(layout.head,
              R"({"id":"r1","metadata":{"content":[]},"role":"assistant","content":[],)"
              R"("usage":{"input_tokens":3},"finished_reason":null})");
    EXPECT_EQ(layout.head.substr(static_cast<std::size_t>(layout.content_at) - 11, 12), R"("content":[])");

    const std::string again = assemble(layout.head, layout.content_at, layout.blocks);
    EXPECT_EQ(again, json::write(msg));  // same members, same order
    EXPECT_EQ(parse(again), msg);
}

TEST(MessageLayoutTest, AssembleWithFewerOrMoreBlocksGivesThatList) {
    auto layout = lay_out(parse(R"({"id":"r","content":[1,2],"x":true})"), 0);
    ASSERT_TRUE(layout.split());
    EXPECT_EQ(assemble(layout.head, layout.content_at, {}), R"({"id":"r","content":[],"x":true})");
    EXPECT_EQ(assemble(layout.head, layout.content_at, {"1", "2", "3"}), R"({"id":"r","content":[1,2,3],"x":true})");
}

TEST(MessageLayoutTest, AssembleRejectsAnOffsetOutsideAnEmptyList) {
    const std::string head = R"({"id":"r","content":[]})";
    EXPECT_THROW(assemble(head, 0, {"1"}), std::runtime_error);
    EXPECT_THROW(assemble(head, 5, {"1"}), std::runtime_error);
    EXPECT_THROW(assemble(head, static_cast<std::int64_t>(head.size()), {"1"}), std::runtime_error);
    EXPECT_THROW(assemble(head, 1'000'000, {"1"}), std::runtime_error);
    EXPECT_EQ(assemble(head, static_cast<std::int64_t>(head.find("[]")) + 1, {"1"}), R"({"id":"r","content":[1]})");
}

TEST(MessageLayoutTest, TheMemoSparesOnlyBlocksEqualToThoseAtTheirPosition) {
    auto msg = parse(R"({"id":"r","content":[{"t":"a"},{"t":"b"},{"t":"c"}],"usage":1})");
    auto first = lay_out(msg, 0);
    ASSERT_TRUE(first.split());
    EXPECT_EQ(first.reused, (std::vector<bool>{false, false, false}));
    for (std::size_t i = 0; i < first.blocks.size(); ++i) first.digests[i] = block_digest(first.blocks[i]);
    BlockMemo memo = remember(msg, std::move(first), nullptr);
    ASSERT_EQ(memo.values.size(), 3u);
    EXPECT_EQ(memo.texts.at(2), R"({"t":"c"})");

    // Block 1 changed, block 3 is new; 0 and 2 are as before.
    auto next = parse(R"({"id":"r","content":[{"t":"a"},{"t":"B"},{"t":"c"},{"t":"d"}],"usage":2})");
    auto layout = lay_out(next, 0, &memo);
    EXPECT_EQ(layout.reused, (std::vector<bool>{true, false, true, false}));
    EXPECT_EQ(layout.digests[0], block_digest(R"({"t":"a"})"));
    EXPECT_TRUE(layout.digests[1].empty());
    EXPECT_EQ(layout.blocks[1], R"({"t":"B"})");
    EXPECT_EQ(assemble(layout.head, layout.content_at, layout.blocks), json::write(next));
    for (std::size_t i = 0; i < layout.blocks.size(); ++i)
        if (layout.digests[i].empty()) layout.digests[i] = block_digest(layout.blocks[i]);
    BlockMemo again = remember(next, std::move(layout), &memo);
    ASSERT_EQ(again.values.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(again.values[i], next.at("content").at(i)) << i;
        EXPECT_EQ(again.texts[i], json::write(next.at("content").at(i))) << i;
        EXPECT_EQ(again.digests[i], block_digest(again.texts[i])) << i;
    }
    // A memo of another message entirely spares nothing.
    auto other = lay_out(parse(R"({"id":"x","content":[{"t":"z"},{"t":"y"}]})"), 0, &again);
    EXPECT_EQ(other.reused, (std::vector<bool>{false, false}));
}

TEST(MessageLayoutTest, DigestsAreSixteenBytesAndTellTextsApart) {
    const auto a = block_digest(R"({"type":"text","text":"a"})");
    EXPECT_EQ(a.size(), 16u);
    EXPECT_EQ(a, block_digest(R"({"type":"text","text":"a"})"));
    EXPECT_NE(a, block_digest(R"({"type":"text","text":"b"})"));
    EXPECT_NE(block_digest(""), block_digest(" "));
}

}  // namespace
}  // namespace agentd::storage::sqlite
