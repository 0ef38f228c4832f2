#include "storage/sqlite/block_memos.hpp"

#include <gtest/gtest.h>

namespace agentd::storage::sqlite {
namespace {

std::unique_ptr<BlockMemo> memo_of(std::size_t text_bytes) {
    auto m = std::make_unique<BlockMemo>();
    m->texts.push_back(std::string(text_bytes, 'x'));
    m->values.emplace_back(m->texts.back());
    m->digests.push_back(block_digest(m->texts.back()));
    return m;
}

TEST(BlockMemosTest, TakeHandsTheMemoOverOnce) {
    BlockMemos memos;
    EXPECT_EQ(memos.take("k"), nullptr);
    memos.put("k", memo_of(10));
    EXPECT_EQ(memos.size(), 1u);
    auto m = memos.take("k");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->texts.at(0), std::string(10, 'x'));
    EXPECT_EQ(memos.take("k"), nullptr);
    EXPECT_EQ(memos.size(), 0u);
    EXPECT_EQ(memos.bytes(), 0u);
}

TEST(BlockMemosTest, PuttingTheSameKeyAgainReplacesIt) {
    BlockMemos memos;
    memos.put("k", memo_of(10));
    memos.put("k", memo_of(20));
    EXPECT_EQ(memos.size(), 1u);
    EXPECT_EQ(memos.bytes(), memo_of(20)->bytes());
    EXPECT_EQ(memos.take("k")->texts.at(0).size(), 20u);
}

TEST(BlockMemosTest, TheLeastRecentlyPutGoFirstBeyondTheBound) {
    const std::size_t each = memo_of(1000)->bytes();
    BlockMemos memos(3 * each);
    memos.put("a", memo_of(1000));
    memos.put("b", memo_of(1000));
    memos.put("c", memo_of(1000));
    memos.put("a", memos.take("a"));  // stored again: now the most recent
    memos.put("d", memo_of(1000));    // over the bound: "b" goes
    EXPECT_EQ(memos.size(), 3u);
    EXPECT_LE(memos.bytes(), 3 * each);
    EXPECT_EQ(memos.take("b"), nullptr);
    for (const char* k : {"a", "c", "d"}) EXPECT_NE(memos.take(k), nullptr) << k;
}

TEST(BlockMemosTest, AMemoLargerThanTheBoundIsNotKept) {
    BlockMemos memos(memo_of(100)->bytes());
    memos.put("small", memo_of(100));
    memos.put("huge", memo_of(100000));
    EXPECT_EQ(memos.take("huge"), nullptr);
    EXPECT_NE(memos.take("small"), nullptr);
}

}  // namespace
}  // namespace agentd::storage::sqlite
