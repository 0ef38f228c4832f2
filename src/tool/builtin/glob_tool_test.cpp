#include "tool/builtin/glob_tool.hpp"

#include <gtest/gtest.h>

#include "tool/builtin/file_tool_test_support.hpp"

namespace agentd::tool {
namespace {

using testing::fresh_state;
using testing::run_tool;
using testing::TempWorkspace;

class GlobToolTest : public ::testing::Test {
protected:
    void SetUp() override {
        ws->write("test1.py", "");
        ws->write("test2.py", "");
        ws->write("test.txt", "");
        ws->write("subdir/test3.py", "");
        ws->write(".hidden/h.py", "");
        ws->write("br[a].txt", "");
        ws->touch("test1.py", 1000);
        ws->touch("test2.py", 3000);
        ws->touch("subdir/test3.py", 2000);
        ws->touch(".hidden/h.py", 500);
    }
    std::shared_ptr<TempWorkspace> ws = TempWorkspace::make();
    GlobTool tool{ws};
    domain::SessionState state = fresh_state();

    testing::ToolRun glob(bj::object input) { return run_tool(tool, input, state); }
};

TEST_F(GlobToolTest, SchemaAndFlags) {
    EXPECT_EQ(tool.schema().name, "Glob");
    EXPECT_EQ(bj::serialize(tool.schema().parameters.at("required")), R"(["pattern"])");
    EXPECT_TRUE(tool.read_only());
    EXPECT_TRUE(tool.concurrency_safe());
}

TEST_F(GlobToolTest, NewestFirstDefaultingToTheWorkdir) {
    auto r = glob({{"pattern", "*.py"}});
    EXPECT_EQ(r.outcome.state, "success");
    EXPECT_EQ(r.text(), "/workspace/test2.py\n/workspace/test1.py");
    EXPECT_EQ(glob({{"pattern", "**/*.py"}}).text(),
              "/workspace/test2.py\n/workspace/subdir/test3.py\n/workspace/test1.py\n/workspace/.hidden/h.py");
}

TEST_F(GlobToolTest, PatternRules) {
    EXPECT_EQ(glob({{"pattern", "subdir\\*.py"}}).text(), "/workspace/subdir/test3.py");  // backslash separates
    EXPECT_EQ(glob({{"pattern", "/subdir//test?.py"}}).text(), "/workspace/subdir/test3.py");  // leading / dropped
    EXPECT_EQ(glob({{"pattern", "br[a].txt"}}).text(), "/workspace/br[a].txt");  // brackets are literal
    EXPECT_EQ(glob({{"pattern", "bra.txt"}}).text(), "No files found matching pattern: bra.txt");
    EXPECT_EQ(glob({{"pattern", "subdir/**"}}).text(), "/workspace/subdir/test3.py");
    EXPECT_EQ(glob({{"pattern", "*.PY"}}).text(), "No files found matching pattern: *.PY");
    EXPECT_EQ(glob({{"pattern", "subdir"}}).text(), "No files found matching pattern: subdir");  // dirs are not results
    EXPECT_EQ(glob({{"pattern", "*.py"}, {"path", "subdir"}}).text(), "subdir/test3.py");
    EXPECT_EQ(glob({{"pattern", "*.py"}, {"path", "/workspace/subdir/"}}).text(), "/workspace/subdir/test3.py");
}

TEST_F(GlobToolTest, SymlinkedDirectoriesAreNotEntered) {
    std::filesystem::create_symlink(ws->host("subdir"), ws->host("linkdir"));
    std::filesystem::create_symlink(ws->host("test.txt"), ws->host("linkfile.txt"));
    EXPECT_EQ(glob({{"pattern", "linkdir/*.py"}}).text(), "No files found matching pattern: linkdir/*.py");
    EXPECT_EQ(glob({{"pattern", "**/test3.py"}}).text(), "/workspace/subdir/test3.py");
    // A trailing ** lists links to files (os.walk semantics), but only the last segment of *.txt requires a regular file.
    const auto all = glob({{"pattern", "**"}}).text();
    EXPECT_NE(all.find("/workspace/linkfile.txt"), std::string::npos);
    EXPECT_EQ(all.find("linkdir"), std::string::npos);
    EXPECT_EQ(glob({{"pattern", "link*.txt"}}).text(), "No files found matching pattern: link*.txt");
}

TEST_F(GlobToolTest, Errors) {
    EXPECT_EQ(glob({{"pattern", "*"}, {"path", "/workspace/nope"}}).text(), "Directory not found: /workspace/nope");
    EXPECT_EQ(glob({{"pattern", "*"}, {"path", "/workspace/test.txt"}}).text(), "Directory not found: /workspace/test.txt");
    EXPECT_EQ(glob({{"pattern", "*"}, {"path", "/etc"}}).text(), "Error: Path is outside the workspace: /etc");
    EXPECT_EQ(glob({{"pattern", "*"}, {"path", "../"}}).text(), "Error: Path is outside the workspace: ../");
    std::filesystem::create_symlink("/etc", ws->host("etc"));
    EXPECT_EQ(glob({{"pattern", "*"}, {"path", "/workspace/etc"}}).outcome.state, "error");
    EXPECT_EQ(glob({}).text(), "Input validation failed for tool 'Glob': 'pattern' is a required string");
}

TEST_F(GlobToolTest, SegmentMatcher) {
    EXPECT_TRUE(glob_segment_matches("*", ".dotfile"));
    EXPECT_TRUE(glob_segment_matches("a*b*c", "aXXbYYc"));
    EXPECT_FALSE(glob_segment_matches("a*b*c", "aXXbYY"));
    EXPECT_TRUE(glob_segment_matches("?.txt", "\xc3\xa9.txt"));
    EXPECT_TRUE(glob_segment_matches("{a,b}", "{a,b}"));
}

TEST_F(GlobToolTest, PermissionHooks) {
    EXPECT_TRUE(tool.match_rule("/workspace/**", bj::object{{"path", "/workspace/src"}, {"pattern", "*.txt"}}));
    EXPECT_TRUE(tool.match_rule("*.py", bj::object{{"pattern", "*.py"}}));
    EXPECT_FALSE(tool.match_rule("*.txt", bj::object{{"pattern", "*.py"}}));
    EXPECT_EQ(tool.suggestions(bj::object{{"pattern", "*.py"}})[0].rule_content, "/workspace/**");
    EXPECT_EQ(tool.suggestions(bj::object{{"path", "src/"}})[0].rule_content, "/workspace/src/**");
    EXPECT_EQ(tool.check_permissions({}, permission::Context{}).behavior, permission::Behavior::kPassthrough);
}

}  // namespace
}  // namespace agentd::tool
