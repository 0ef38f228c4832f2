#include "tool/builtin/read_cache.hpp"

#include <gtest/gtest.h>

#include "domain/session.hpp"

namespace agentd::tool {
namespace {

std::vector<std::string> paths(const bj::object& tool_context) {
    std::vector<std::string> out;
    for (const auto& e : tool_context.at("read_file_cache").as_array())
        out.emplace_back(e.as_object().at("file_path").as_string());
    return out;
}

TEST(ReadCache, PutThenGetWithTheSameMtime) {
    bj::object tc = domain::default_tool_context();
    read_cache_put(tc, "/w/a.txt", {"one\n", "two"}, 12.5);
    const auto& entry = tc.at("read_file_cache").as_array().at(0).as_object();
    EXPECT_EQ(bj::serialize(entry), R"({"lines":["one\n","two"],"updated_at":1.25E1,"bytes":6.8359375E-3,"file_path":"/w/a.txt"})");
    const bj::array* hit = read_cache_get(tc, "/w/a.txt", 12.5);
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(hit->size(), 2u);
}

TEST(ReadCache, StaleOrMissingFileDropsTheEntry) {
    bj::object tc = domain::default_tool_context();
    read_cache_put(tc, "/w/a", {"x"}, 1.0);
    EXPECT_EQ(read_cache_get(tc, "/w/a", 1.0000001), nullptr);
    EXPECT_TRUE(paths(tc).empty());
    read_cache_put(tc, "/w/a", {"x"}, 1.0);
    EXPECT_EQ(read_cache_get(tc, "/w/a", std::nullopt), nullptr);
    EXPECT_TRUE(paths(tc).empty());
    read_cache_put(tc, "/w/b", {"x"}, std::nullopt);  // no mtime: nothing cached
    EXPECT_TRUE(paths(tc).empty());
}

TEST(ReadCache, KeyIsTheExactPathString) {
    bj::object tc = domain::default_tool_context();
    read_cache_put(tc, "/w/a", {"x"}, 1.0);
    EXPECT_EQ(read_cache_get(tc, "/w/./a", 1.0), nullptr);
    EXPECT_NE(read_cache_get(tc, "/w/a", 1.0), nullptr);
}

TEST(ReadCache, LruEvictionByCountAndHitsRefreshRecency) {
    bj::object tc = domain::default_tool_context();
    tc["max_cache_files"] = 3;
    for (const char* p : {"/0", "/1", "/2"}) read_cache_put(tc, p, {"x"}, 1.0);
    ASSERT_NE(read_cache_get(tc, "/0", 1.0), nullptr);  // /0 becomes the most recent
    read_cache_put(tc, "/3", {"x"}, 1.0);
    EXPECT_EQ(paths(tc), (std::vector<std::string>{"/2", "/0", "/3"}));
    read_cache_put(tc, "/2", {"y"}, 2.0);  // re-caching replaces, no duplicate
    EXPECT_EQ(paths(tc), (std::vector<std::string>{"/0", "/3", "/2"}));
}

TEST(ReadCache, EvictionBySizeInKib) {
    bj::object tc = domain::default_tool_context();
    tc["max_cache_bytes"] = 2.5;  // KiB
    read_cache_put(tc, "/a", {std::string(1024, 'a')}, 1.0);
    read_cache_put(tc, "/b", {std::string(1024, 'b')}, 1.0);
    read_cache_put(tc, "/c", {std::string(1024, 'c')}, 1.0);
    EXPECT_EQ(paths(tc), (std::vector<std::string>{"/b", "/c"}));
}

TEST(ReadCache, FileMtimeIsPythonsFloat) {
    EXPECT_FALSE(file_mtime("/definitely/not/here").has_value());
    EXPECT_TRUE(file_mtime("/").has_value());
}

}  // namespace
}  // namespace agentd::tool
