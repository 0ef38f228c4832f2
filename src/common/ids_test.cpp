#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace agentd {
namespace {

TEST(NewId, IsAVersion4UuidInLowercaseHex) {
    for (int i = 0; i < 1000; ++i) {
        const auto id = new_id();
        ASSERT_EQ(id.size(), 32u);
        ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
        EXPECT_EQ(id[12], '4') << id;
        EXPECT_NE(std::string("89ab").find(id[16]), std::string::npos) << id;
    }
}

TEST(NewId, NeverRepeatsAcrossRefillsAndThreads) {
    // 4 threads x 2,000 ids: each thread refills its pool several times.
    constexpr int kThreads = 4, kEach = 2000;
    std::vector<std::vector<std::string>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&made, t] {
            for (int i = 0; i < kEach; ++i) made[t].push_back(new_id());
        });
    for (auto& t : threads) t.join();
    std::set<std::string> all;
    for (const auto& ids : made) all.insert(ids.begin(), ids.end());
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace agentd
