#include "tool/builtin/grep_tool.hpp"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include "tool/builtin/file_tool_test_support.hpp"
#include "tool/builtin/python_text.hpp"

namespace agentd::tool {
namespace {

using testing::fresh_state;
using testing::run_tool;
using testing::TempWorkspace;

void make_tree(const TempWorkspace& ws) {
    ws.write("test1.py", "def hello():\n    print('Hello World')\n");
    ws.write("test2.py", "def goodbye():\n    print('Goodbye')\n");
    ws.write("test.txt", "This is a text file\nHello from text\n");
    ws.write("subdir/nested.py", "def nested():\n    print('Nested')\n");
}

class GrepToolTest : public ::testing::Test {
protected:
    void SetUp() override { make_tree(*ws); }
    std::shared_ptr<TempWorkspace> ws = TempWorkspace::make();
    GrepTool tool{ws};
    domain::SessionState state = fresh_state();

    testing::ToolRun grep(bj::object input) { return run_tool(tool, input, state); }
};

TEST_F(GrepToolTest, SchemaAndFlags) {
    EXPECT_EQ(tool.schema().name, "Grep");
    const auto& props = tool.schema().parameters.at("properties").as_object();
    for (const char* key : {"pattern", "path", "output_mode", "glob", "type", "-A", "-B", "-C", "context", "n", "i",
                            "case_insensitive", "multiline", "head_limit", "offset"}) {
        EXPECT_TRUE(props.contains(key)) << key;
    }
    EXPECT_EQ(bj::serialize(props.at("output_mode").as_object().at("enum")), R"(["content","files_with_matches","count"])");
    EXPECT_TRUE(tool.read_only());
    EXPECT_TRUE(tool.concurrency_safe());
}

TEST_F(GrepToolTest, OutputModes) {
    auto files = grep({{"pattern", "Hello"}});
    EXPECT_EQ(files.outcome.state, "success");
    EXPECT_EQ(files.text(), "/workspace/test.txt\n/workspace/test1.py");
    EXPECT_EQ(grep({{"pattern", "def"}, {"output_mode", "content"}, {"type", "py"}}).text(),
              "/workspace/subdir/nested.py:1:def nested():\n/workspace/test1.py:1:def hello():\n"
              "/workspace/test2.py:1:def goodbye():");
    EXPECT_EQ(grep({{"pattern", "print"}, {"output_mode", "count"}}).text(),
              "/workspace/subdir/nested.py:1\n/workspace/test1.py:1\n/workspace/test2.py:1");
    EXPECT_EQ(grep({{"pattern", "def"}, {"output_mode", "content"}, {"n", false}, {"path", "/workspace/subdir"}}).text(),
              "/workspace/subdir/nested.py:def nested():");
    // One file: no path prefix in content and count modes; files mode prints it.
    EXPECT_EQ(grep({{"pattern", "o"}, {"output_mode", "content"}, {"path", "/workspace/test2.py"}}).text(),
              "1:def goodbye():\n2:    print('Goodbye')");
    EXPECT_EQ(grep({{"pattern", "o"}, {"output_mode", "count"}, {"path", "/workspace/test2.py"}}).text(), "2");
    EXPECT_EQ(grep({{"pattern", "o"}, {"path", "/workspace/test2.py"}}).text(), "/workspace/test2.py");
}

TEST_F(GrepToolTest, CaseGlobAndTypeFilters) {
    EXPECT_EQ(grep({{"pattern", "HELLO"}, {"case_insensitive", true}}).text(), "/workspace/test.txt\n/workspace/test1.py");
    EXPECT_EQ(grep({{"pattern", "HELLO"}, {"i", true}, {"type", "py"}}).text(), "/workspace/test1.py");
    EXPECT_EQ(grep({{"pattern", "def"}, {"glob", "**/*.py"}}).text(),
              "/workspace/subdir/nested.py\n/workspace/test1.py\n/workspace/test2.py");
    EXPECT_EQ(grep({{"pattern", "e"}, {"glob", "*.txt, nested.*"}}).text(),
              "/workspace/subdir/nested.py\n/workspace/test.txt");
    EXPECT_EQ(grep({{"pattern", "e"}, {"glob", "*.{txt,md}"}}).text(), "/workspace/test.txt");
    EXPECT_EQ(grep({{"pattern", "e"}, {"glob", "!*.py"}}).text(), "/workspace/test.txt");
    EXPECT_EQ(split_grep_globs("*.js,*.ts  *.{a,b} ,x"), (std::vector<std::string>{"*.js", "*.ts", "*.{a,b}", "x"}));
}

TEST_F(GrepToolTest, NoMatchesIsSuccess) {
    auto r = grep({{"pattern", "NonExistentPattern"}});
    EXPECT_EQ(r.outcome.state, "success");
    EXPECT_EQ(r.text(), "No matches found for pattern: NonExistentPattern");
}

TEST_F(GrepToolTest, ErrorTexts) {
    auto bad = grep({{"pattern", "[invalid(regex"}});
    EXPECT_EQ(bad.outcome.state, "error");
    EXPECT_EQ(bad.text(),
              "ripgrep error (code 2): regex parse error:\n    [invalid(regex\n                  ^\nerror: missing "
              "terminating ] for character class");
    EXPECT_EQ(grep({{"pattern", "x"}, {"type", "nosuch"}}).text(), "ripgrep error (code 2): unrecognized file type: nosuch");
    EXPECT_EQ(grep({{"pattern", "x"}, {"glob", "[ab"}}).text(),
              "ripgrep error (code 2): error parsing glob '[ab': unclosed character class; missing ']'");
    EXPECT_EQ(grep({{"pattern", "x"}, {"path", "/workspace/missing"}}).text(),
              "ripgrep error (code 2): /workspace/missing: No such file or directory (os error 2)");
    EXPECT_EQ(grep({{"pattern", "x"}, {"head_limit", -1}}).text(), "Error: head_limit must be non-negative.");
    EXPECT_EQ(grep({{"pattern", "x"}, {"offset", -1}}).text(), "Error: offset must be non-negative.");
    EXPECT_EQ(grep({{"pattern", "x"}, {"path", "/etc"}}).text(), "Error: Path is outside the workspace: /etc");
    EXPECT_EQ(grep({{"pattern", "x"}, {"path", "/workspace/../etc"}}).text(),
              "Error: Path is outside the workspace: /workspace/../etc");
    EXPECT_EQ(grep({{"pattern", "x"}, {"output_mode", "lines"}}).text(),
              "Input validation failed for tool 'Grep': 'lines' is not one of ['content', 'files_with_matches', 'count']");
}

TEST_F(GrepToolTest, SymlinksAreNotFollowed) {
    const auto outside = TempWorkspace::make();
    outside->write("secret.txt", "Hello secret\n");
    std::filesystem::create_symlink(outside->host_dir(), ws->host("outdir"));
    std::filesystem::create_symlink(outside->host("secret.txt"), ws->host("secret.txt"));
    EXPECT_EQ(grep({{"pattern", "secret"}}).text(), "No matches found for pattern: secret");
    EXPECT_EQ(grep({{"pattern", "secret"}, {"path", "/workspace/outdir"}}).text(),
              "Error: Path is outside the workspace: /workspace/outdir");
}

TEST_F(GrepToolTest, Pagination) {
    std::string many;
    for (int i = 0; i < 300; ++i) many += "hit " + std::to_string(i) + "\n";
    ws->write("many.log", many);
    auto def = grep({{"pattern", "hit"}, {"output_mode", "content"}, {"path", "/workspace/many.log"}});
    EXPECT_NE(def.text().find("\n250:hit 249\n\n[Showing results with pagination = limit: 250]"), std::string::npos);
    EXPECT_EQ(grep({{"pattern", "hit"}, {"output_mode", "content"}, {"path", "/workspace/many.log"}, {"head_limit", 2},
                    {"offset", 5}})
                  .text(),
              "6:hit 5\n7:hit 6\n\n[Showing results with pagination = limit: 2, offset: 5]");
    EXPECT_EQ(grep({{"pattern", "hit"}, {"output_mode", "content"}, {"path", "/workspace/many.log"}, {"head_limit", 0},
                    {"offset", 298}})
                  .text(),
              "299:hit 298\n300:hit 299");
    EXPECT_EQ(grep({{"pattern", "hit"}, {"output_mode", "content"}, {"path", "/workspace/many.log"}, {"head_limit", 3},
                    {"offset", 297}})
                  .text(),
              "298:hit 297\n299:hit 298\n300:hit 299");
}

TEST_F(GrepToolTest, ContextGroupsAndSeparators) {
    ws->write("c/one.txt", "a\nfoo\nb\nc\nd\ne\nf\nfoo bar\ng\n");
    ws->write("c/two.txt", "foo\n");
    EXPECT_EQ(grep({{"pattern", "foo"}, {"output_mode", "content"}, {"path", "/workspace/c"}, {"-C", 1}}).text(),
              "/workspace/c/one.txt-1-a\n/workspace/c/one.txt:2:foo\n/workspace/c/one.txt-3-b\n--\n"
              "/workspace/c/one.txt-7-f\n/workspace/c/one.txt:8:foo bar\n/workspace/c/one.txt-9-g\n--\n"
              "/workspace/c/two.txt:1:foo");
    // context wins over -C, which wins over -A/-B.
    EXPECT_EQ(grep({{"pattern", "bar"}, {"output_mode", "content"}, {"path", "/workspace/c/one.txt"}, {"context", 0},
                    {"-C", 5}, {"-A", 1}})
                  .text(),
              "8:foo bar");
    EXPECT_EQ(grep({{"pattern", "bar"}, {"output_mode", "content"}, {"path", "/workspace/c/one.txt"}, {"-A", 1},
                    {"-B", 2}})
                  .text(),
              "6-e\n7-f\n8:foo bar\n9-g");
    // Context flags are ignored outside content mode.
    EXPECT_EQ(grep({{"pattern", "bar"}, {"path", "/workspace/c"}, {"-C", 3}}).text(), "/workspace/c/one.txt");
}

TEST_F(GrepToolTest, IgnoreFilesHiddenFilesAndVcsDirectories) {
    ws->write("g/.git/config", "needle\n");
    ws->write("g/.gitignore", "ignored.txt\nbuild/\n!build/keep.txt\n");
    ws->write("g/ignored.txt", "needle\n");
    ws->write("g/build/out.txt", "needle\n");
    ws->write("g/.hidden.txt", "needle\n");
    ws->write("g/sub/.gitignore", "*.md\n");
    ws->write("g/sub/a.md", "needle\n");
    ws->write("g/sub/a.txt", "needle\n");
    ws->write("g/.ignore", "sub/a.txt\n");
    ws->write("nogit/.gitignore", "x.txt\n");
    ws->write("nogit/x.txt", "needle\n");
    ws->write("nogit/.svn/entries", "needle\n");
    EXPECT_EQ(grep({{"pattern", "needle"}}).text(), "/workspace/g/.hidden.txt\n/workspace/nogit/x.txt");
    // A --glob whitelist wins over ignore files.
    EXPECT_EQ(grep({{"pattern", "needle"}, {"glob", "ignored.txt"}}).text(), "/workspace/g/ignored.txt");
    // Searching below the repository root still honours its .gitignore.
    EXPECT_EQ(grep({{"pattern", "needle"}, {"path", "/workspace/g/sub"}}).text(), "No matches found for pattern: needle");
}

TEST_F(GrepToolTest, BinaryLongLinesCrlfMultilineUnicode) {
    ws->write("m/bin.dat", std::string("needle\0rest", 11));
    ws->write("m/long.txt", "needle" + std::string(493, 'x') + "\n" + "needle" + std::string(494, 'x') + "\nctx\n");
    ws->write("m/crlf.txt", "x\r\nneedle\r\n");
    ws->write("m/multi.txt", "foo\nbar\nfoo\n");
    ws->write("m/uni.txt", "\xc3\x89t\xc3\xa9 needle \xe2\x98\x95\n");
    EXPECT_EQ(grep({{"pattern", "needle"}, {"path", "/workspace/m"}}).text(),
              "/workspace/m/crlf.txt\n/workspace/m/long.txt\n/workspace/m/uni.txt");
    EXPECT_EQ(grep({{"pattern", "needle"}, {"output_mode", "content"}, {"path", "/workspace/m/long.txt"}, {"-A", 1}}).text(),
              "1:needle" + std::string(493, 'x') + "\n2:[Omitted long matching line]\n3-ctx");
    EXPECT_EQ(grep({{"pattern", "needle$"}, {"output_mode", "content"}, {"path", "/workspace/m/crlf.txt"}}).text(),
              "No matches found for pattern: needle$");
    EXPECT_EQ(grep({{"pattern", "needle"}, {"output_mode", "content"}, {"path", "/workspace/m/crlf.txt"}}).text(),
              "2:needle");
    EXPECT_EQ(grep({{"pattern", "foo.bar"}, {"path", "/workspace/m/multi.txt"}}).text(),
              "No matches found for pattern: foo.bar");
    EXPECT_EQ(grep({{"pattern", "foo.bar"}, {"multiline", true}, {"output_mode", "content"},
                    {"path", "/workspace/m/multi.txt"}})
                  .text(),
              "1:foo\n2:bar");
    EXPECT_EQ(grep({{"pattern", "o\\sb"}, {"path", "/workspace/m/multi.txt"}}).text(),
              "No matches found for pattern: o\\sb");
    EXPECT_EQ(grep({{"pattern", "\\w+ needle"}, {"output_mode", "content"}, {"path", "/workspace/m/uni.txt"}}).text(),
              "1:\xc3\x89t\xc3\xa9 needle \xe2\x98\x95");
    EXPECT_EQ(grep({{"pattern", "^\xc3\xa9"}, {"i", true}, {"path", "/workspace/m/uni.txt"}}).text(),
              "/workspace/m/uni.txt");
    EXPECT_EQ(grep({{"pattern", "needle"}, {"output_mode", "content"}, {"path", "/workspace/m/bin.dat"}}).text(),
              "binary file matches (found \"\\0\" byte around offset 6)");
}

TEST_F(GrepToolTest, PermissionHooks) {
    EXPECT_TRUE(tool.match_rule("/workspace", bj::object{{"pattern", "x"}}));
    EXPECT_TRUE(tool.match_rule("/workspace/**", bj::object{{"path", "/workspace/src"}}));
    EXPECT_FALSE(tool.match_rule("/other/**", bj::object{{"path", "/workspace/src"}}));
    EXPECT_EQ(tool.suggestions(bj::object{{"pattern", "x"}})[0].rule_content, "/workspace/**");
    EXPECT_EQ(tool.suggestions(bj::object{{"path", "/workspace/src/"}})[0].rule_content, "/workspace/src/**");
}

// ripgrep as an oracle: the same tree and arguments must give the same lines
// (rg sorted by path). Skipped when rg is not installed.
std::string run_rg(const std::vector<std::string>& args) {
    std::string cmd = "rg --sort path --hidden --glob '!.git' --glob '!.svn' --glob '!.hg' --glob '!.bzr' --glob '!.jj' "
                      "--glob '!.sl' --max-columns 500";
    for (const auto& a : args) cmd += " '" + a + "'";
    FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
    std::string out;
    char buf[4096];
    while (std::size_t n = ::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    std::string lines;
    std::string_view rest = out;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string line(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        while (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) lines += (lines.empty() ? "" : "\n") + decode_utf8_ignore(line);
    }
    return lines;
}

TEST(GrepOracle, MatchesRipgrep) {
    if (std::system("rg --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "rg not installed";
    auto ws = TempWorkspace::make("");  // local style: visible paths are host paths
    make_tree(*ws);
    ws->write(".git/HEAD", "ref\n");
    ws->write(".gitignore", "*.log\n/build/\n");
    ws->write("a.log", "Hello\n");
    ws->write("build/x.py", "def x(): Hello\n");
    ws->write("docs/readme.md", "# Title\nHello there\n\n\nmore Hello\nend\n");
    ws->write("c.txt", "a\nfoo\nb\nc\nd\ne\nf\nfoo bar\ng\n");
    ws->write("crlf.txt", "x\r\nHello\r\n");
    GrepTool tool(ws);
    auto state = fresh_state();
    const std::string root = ws->workdir();
    struct Case {
        bj::object input;
        std::vector<std::string> rg;
    } cases[] = {
        {{{"pattern", "Hello"}}, {"-l", "Hello", root}},
        {{{"pattern", "o"}, {"output_mode", "count"}}, {"-c", "o", root}},
        {{{"pattern", "Hello"}, {"output_mode", "content"}}, {"-n", "Hello", root}},
        {{{"pattern", "foo|Hello"}, {"output_mode", "content"}, {"-C", 1}}, {"-n", "-C", "1", "foo|Hello", root}},
        {{{"pattern", "e"}, {"output_mode", "content"}, {"n", false}, {"-B", 1}}, {"-B", "1", "e", root}},
        {{{"pattern", "def"}, {"type", "py"}}, {"-l", "def", "--type", "py", root}},
        {{{"pattern", "HELLO"}, {"i", true}, {"glob", "*.md"}}, {"-i", "-l", "HELLO", "--glob", "*.md", root}},
        {{{"pattern", "^$"}, {"output_mode", "content"}}, {"-n", "^$", root}},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(run_tool(tool, c.input, state).text(), run_rg(c.rg)) << bj::serialize(c.input);
    }
}

}  // namespace
}  // namespace agentd::tool
