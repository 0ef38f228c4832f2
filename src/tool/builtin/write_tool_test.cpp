#include "tool/builtin/write_tool.hpp"

#include <gtest/gtest.h>

#include "tool/builtin/file_tool_test_support.hpp"
#include "tool/builtin/read_tool.hpp"

namespace agentd::tool {
namespace {

using testing::fresh_state;
using testing::run_tool;
using testing::TempWorkspace;

class WriteToolTest : public ::testing::Test {
protected:
    std::shared_ptr<TempWorkspace> ws = TempWorkspace::make();
    WriteTool tool{ws};
    ReadTool reader{ws};
    domain::SessionState state = fresh_state();

    testing::ToolRun write(const std::string& path, const std::string& content) {
        return run_tool(tool, bj::object{{"file_path", path}, {"content", content}}, state);
    }
    void read(const std::string& path) { run_tool(reader, bj::object{{"file_path", path}}, state); }
};

TEST_F(WriteToolTest, SchemaAndFlags) {
    EXPECT_EQ(tool.schema().name, "Write");
    EXPECT_EQ(bj::serialize(tool.schema().parameters.at("required")), R"(["file_path","content"])");
    EXPECT_FALSE(tool.read_only());
    EXPECT_FALSE(tool.concurrency_safe());
}

TEST_F(WriteToolTest, NewFileNeedsNoReadAndCreatesParents) {
    auto r = write(ws->path("deep/dir/new.txt"), "hello\nworld\n");
    EXPECT_EQ(r.outcome.state, "success");
    EXPECT_EQ(r.text(), "The file /workspace/deep/dir/new.txt has been written successfully (3 lines).");
    EXPECT_EQ(ws->read("deep/dir/new.txt"), "hello\nworld\n");
    EXPECT_EQ(bj::serialize(r.outcome.metadata),
              R"({"diff":"--- /dev/null\n+++ b//workspace/deep/dir/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n",)"
              R"("file_path":"/workspace/deep/dir/new.txt","occurrences":1})");
    EXPECT_EQ(write(ws->path("empty.txt"), "").text(),
              "The file /workspace/empty.txt has been written successfully (1 lines).");
}

TEST_F(WriteToolTest, ExistingFileMustBeReadFirstAndStayUnchanged) {
    ws->write("f.txt", "old\n");
    auto refused = write(ws->path("f.txt"), "new\n");
    EXPECT_EQ(refused.outcome.state, "error");
    EXPECT_EQ(refused.text(),
              "Error: File /workspace/f.txt exists but has not been read yet. You must read the file first before "
              "writing to it.");
    EXPECT_EQ(ws->read("f.txt"), "old\n");

    read(ws->path("f.txt"));
    auto ok = write(ws->path("f.txt"), "new\r\nx");
    EXPECT_EQ(ok.outcome.state, "success");
    EXPECT_EQ(ws->read("f.txt"), "new\r\nx");  // verbatim, no newline normalisation
    EXPECT_EQ(ok.outcome.metadata.at("diff"),
              "--- a//workspace/f.txt\n+++ b//workspace/f.txt\n@@ -1 +1,2 @@\n-old\n+new\r\n+x");
    // The write changed the file; the cache is not refreshed, so overwriting again needs a Read.
    EXPECT_EQ(write(ws->path("f.txt"), "again").outcome.state, "error");
}

TEST_F(WriteToolTest, ExternalChangeAfterReadIsRefused) {
    ws->write("f.txt", "old\n");
    read(ws->path("f.txt"));
    ws->touch("f.txt", 1000);
    EXPECT_EQ(write(ws->path("f.txt"), "new\n").outcome.state, "error");
}

TEST_F(WriteToolTest, PathErrors) {
    EXPECT_EQ(write("relative.txt", "x").text(), "Error: file_path must be an absolute path, got: relative.txt");
    EXPECT_EQ(write("/workspace/../evil.txt", "x").text(), "Error: Path is outside the workspace: /workspace/../evil.txt");
    EXPECT_EQ(write("/tmp/evil.txt", "x").text(), "Error: Path is outside the workspace: /tmp/evil.txt");
    const auto outside = TempWorkspace::make();
    std::filesystem::create_symlink(outside->host_dir(), ws->host("out"));
    EXPECT_EQ(write(ws->path("out/evil.txt"), "x").text(), "Error: Path is outside the workspace: /workspace/out/evil.txt");
    EXPECT_FALSE(std::filesystem::exists(outside->host("evil.txt")));
    // A dangling link pointing out is refused too (the write would create the target).
    std::filesystem::create_symlink(outside->host("made.txt"), ws->host("dangling.txt"));
    EXPECT_EQ(write(ws->path("dangling.txt"), "x").text(), "Error: Path is outside the workspace: /workspace/dangling.txt");
    EXPECT_FALSE(std::filesystem::exists(outside->host("made.txt")));
    EXPECT_EQ(run_tool(tool, bj::object{{"file_path", ws->path("a")}}, state).text(),
              "Input validation failed for tool 'Write': 'file_path' and 'content' are required strings");
}

TEST_F(WriteToolTest, PermissionHooks) {
    const bj::object input{{"file_path", "/workspace/src/a.py"}, {"content", ""}};
    // An ordinary path: no opinion in default mode; a dangerous one: a safety ask.
    EXPECT_EQ(tool.check_permissions(input, permission::Context{}).behavior, permission::Behavior::kPassthrough);
    const bj::object dangerous{{"file_path", "/workspace/.bashrc"}, {"content", ""}};
    auto d = tool.check_permissions(dangerous, permission::Context{});
    EXPECT_EQ(d.behavior, permission::Behavior::kAsk);
    EXPECT_TRUE(d.bypass_immune);
    EXPECT_EQ(tool.check_permissions({}, permission::Context{}).message, "No file path provided");
    EXPECT_TRUE(tool.match_rule("/workspace/src/*", input));
    EXPECT_FALSE(tool.match_rule("/other/*", input));
    ASSERT_EQ(tool.suggestions(input).size(), 1u);
    EXPECT_EQ(tool.suggestions(input)[0].rule_content, "/workspace/src/**");
    EXPECT_TRUE(tool.suggestions({}).empty());
}

}  // namespace
}  // namespace agentd::tool
