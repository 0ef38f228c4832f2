#include "tool/builtin/edit_tool.hpp"

#include <gtest/gtest.h>

#include "tool/builtin/file_tool_test_support.hpp"
#include "tool/builtin/read_tool.hpp"

namespace agentd::tool {
namespace {

using testing::fresh_state;
using testing::run_tool;
using testing::TempWorkspace;

class EditToolTest : public ::testing::Test {
protected:
    std::shared_ptr<TempWorkspace> ws = TempWorkspace::make();
    EditTool tool{ws};
    ReadTool reader{ws};
    domain::SessionState state = fresh_state();

    testing::ToolRun edit(const std::string& rel, const std::string& old_s, const std::string& new_s,
                          bool replace_all = false) {
        return run_tool(tool,
                        bj::object{{"file_path", ws->path(rel)}, {"old_string", old_s}, {"new_string", new_s},
                                   {"replace_all", replace_all}},
                        state);
    }
    void read(const std::string& rel) { run_tool(reader, bj::object{{"file_path", ws->path(rel)}}, state); }
};

TEST_F(EditToolTest, SchemaAndFlags) {
    EXPECT_EQ(tool.schema().name, "Edit");
    EXPECT_EQ(bj::serialize(tool.schema().parameters.at("required")), R"(["file_path","old_string","new_string"])");
    EXPECT_EQ(tool.schema().parameters.at("properties").as_object().at("replace_all").as_object().at("default"), false);
    EXPECT_FALSE(tool.read_only());
    EXPECT_FALSE(tool.concurrency_safe());
}

TEST_F(EditToolTest, ReplacesOneOccurrenceWithDiff) {
    ws->write("f.txt", "Hello World\nsecond\n");
    read("f.txt");
    auto r = edit("f.txt", "Hello", "Hi");
    EXPECT_EQ(r.outcome.state, "success");
    EXPECT_EQ(r.text(), "Successfully replaced 1 occurrence in /workspace/f.txt");
    EXPECT_EQ(ws->read("f.txt"), "Hi World\nsecond\n");
    EXPECT_EQ(bj::serialize(r.outcome.metadata),
              R"({"diff":"--- a//workspace/f.txt\n+++ b//workspace/f.txt\n@@ -1,2 +1,2 @@\n-Hello World\n+Hi World\n second\n",)"
              R"("file_path":"/workspace/f.txt","occurrences":1})");
    // No cache refresh: the next edit needs a new Read.
    EXPECT_EQ(edit("f.txt", "Hi", "Yo").text(), "Error: To edit a file, you must first read it using the Read tool.");
}

TEST_F(EditToolTest, ErrorTextsInOrder) {
    EXPECT_EQ(edit("missing.txt", "a", "a").text(), "Error: File not found: /workspace/missing.txt");
    ws->write("f.txt", "aaa\n");
    EXPECT_EQ(edit("f.txt", "x", "x").text(), "Error: old_string and new_string are identical. No changes to make.");
    EXPECT_EQ(edit("f.txt", "a", "b").text(), "Error: To edit a file, you must first read it using the Read tool.");
    read("f.txt");
    EXPECT_EQ(edit("f.txt", "zzz", "b").text(), "Error: old_string not found in /workspace/f.txt");
    EXPECT_EQ(edit("f.txt", "a", "b").text(),
              "Error: old_string appears 3 times in /workspace/f.txt. Set replace_all=true to replace all occurrences, "
              "or make old_string more specific.");
    EXPECT_EQ(run_tool(tool, bj::object{{"file_path", "f.txt"}, {"old_string", "a"}, {"new_string", "b"}}, state).text(),
              "Error: file_path must be an absolute path, got: f.txt");
    EXPECT_EQ(run_tool(tool, bj::object{{"file_path", "/etc/hosts"}, {"old_string", "a"}, {"new_string", "b"}}, state).text(),
              "Error: Path is outside the workspace: /etc/hosts");
    auto all = edit("f.txt", "a", "bb", true);
    EXPECT_EQ(all.text(), "Successfully replaced all 3 occurrences in /workspace/f.txt");
    EXPECT_EQ(all.outcome.metadata.at("occurrences"), 3);
    EXPECT_EQ(ws->read("f.txt"), "bbbbbb\n");
}

TEST_F(EditToolTest, StaleCacheAfterExternalModificationIsRefused) {
    ws->write("f.txt", "Original content\n");
    read("f.txt");
    ws->write("f.txt", "Modified content\n");
    ws->touch("f.txt", 12345);
    EXPECT_EQ(edit("f.txt", "Original", "New").text(), "Error: To edit a file, you must first read it using the Read tool.");
    EXPECT_EQ(ws->read("f.txt"), "Modified content\n");
    EXPECT_TRUE(state.tool_context.at("read_file_cache").as_array().empty());
}

TEST_F(EditToolTest, CrlfFileComesBackLfAndMultilineMatches) {
    ws->write("w.txt", "line1\r\nline2\r\nline3\r\n");
    read("w.txt");
    auto r = edit("w.txt", "line1\nline2", "replaced");
    EXPECT_EQ(r.outcome.state, "success");
    EXPECT_EQ(ws->read("w.txt"), "replaced\nline3\n");
}

TEST_F(EditToolTest, EmptyOldStringFollowsPython) {
    ws->write("e.txt", "");
    ws->write("ab.txt", "ab");
    read("e.txt");
    read("ab.txt");
    EXPECT_EQ(edit("e.txt", "", "new").text(), "Successfully replaced 1 occurrence in /workspace/e.txt");
    EXPECT_EQ(ws->read("e.txt"), "new");
    EXPECT_EQ(edit("ab.txt", "", "-").text(),
              "Error: old_string appears 3 times in /workspace/ab.txt. Set replace_all=true to replace all occurrences, "
              "or make old_string more specific.");
    EXPECT_EQ(edit("ab.txt", "", "-", true).text(), "Successfully replaced all 3 occurrences in /workspace/ab.txt");
    EXPECT_EQ(ws->read("ab.txt"), "-a-b-");
}

TEST_F(EditToolTest, UnicodeAndSymlinkEscape) {
    ws->write("u.txt", "caf\xc3\xa9 \xe2\x98\x95\n");
    read("u.txt");
    EXPECT_EQ(edit("u.txt", "\xe2\x98\x95", "tea").outcome.state, "success");
    EXPECT_EQ(ws->read("u.txt"), "caf\xc3\xa9 tea\n");
    const auto outside = TempWorkspace::make();
    outside->write("secret.txt", "keep\n");
    std::filesystem::create_symlink(outside->host("secret.txt"), ws->host("link.txt"));
    EXPECT_EQ(edit("link.txt", "keep", "lost").text(), "Error: Path is outside the workspace: /workspace/link.txt");
    EXPECT_EQ(outside->read("secret.txt"), "keep\n");
}

}  // namespace
}  // namespace agentd::tool
