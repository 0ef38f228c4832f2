#include "tool/builtin/gitignore.hpp"

#include <gtest/gtest.h>

namespace agentd::tool {
namespace {

bool glob(std::string_view pattern, std::string_view path) {
    PathGlob g;
    std::string error;
    EXPECT_TRUE(g.compile(pattern, error)) << error;
    return g.matches(path);
}

TEST(PathGlob, Semantics) {
    struct Case {
        const char* pattern;
        const char* path;
        bool match;
    } cases[] = {
        {"*.py", "a.py", true},          {"*.py", "src/deep/a.py", true},   {"*.py", "a.pyc", false},
        {"src/*.py", "src/a.py", true},  {"src/*.py", "x/src/a.py", false}, {"src/*.py", "src/d/a.py", false},
        {"/build", "build", true},       {"/build", "x/build", false},      {"**/foo", "a/b/foo", true},
        {"**/foo", "foo", true},         {"a/**/b", "a/b", true},           {"a/**/b", "a/x/y/b", true},
        {"a/**", "a/x/y", true},         {"a/**", "a", false},              {"f?o", "foo", true},
        {"f?o", "f/o", false},           {"[abc].txt", "b.txt", true},      {"[!abc].txt", "b.txt", false},
        {"[a-c]x", "cx", true},          {"*.{ts,tsx}", "a/b.tsx", true},   {"*.{ts,tsx}", "a/b.js", false},
        {"\\*lit", "*lit", true},        {"\\*lit", "xlit", false},         {"**", "any/thing", true},
        {"a**b", "axxb", true},          {".git", "x/.git", true},          {"*", "x/y", true},
    };
    for (const auto& c : cases) EXPECT_EQ(glob(c.pattern, c.path), c.match) << c.pattern << " vs " << c.path;
}

TEST(PathGlob, Errors) {
    PathGlob g;
    std::string error;
    EXPECT_FALSE(g.compile("[abc", error));
    EXPECT_EQ(error, "unclosed character class; missing ']'");
    EXPECT_FALSE(g.compile("*.{a,b", error));
    EXPECT_EQ(error, "unclosed alternate group; missing '}'");
}

TEST(IgnoreRules, LastMatchWinsNegationAndDirectoryOnly) {
    const auto rules = IgnoreRules::parse(
        "# comment\n"
        "\n"
        "*.log\n"
        "!keep.log\n"
        "build/\n"
        "/root_only\n"
        "trailing   \n"
        "\\#hash\n"
        "\\!bang\n");
    EXPECT_EQ(rules.match("x.log", false), IgnoreMatch::kIgnore);
    EXPECT_EQ(rules.match("d/keep.log", false), IgnoreMatch::kWhitelist);
    EXPECT_EQ(rules.match("build", true), IgnoreMatch::kIgnore);
    EXPECT_EQ(rules.match("build", false), IgnoreMatch::kNone);
    EXPECT_EQ(rules.match("root_only", false), IgnoreMatch::kIgnore);
    EXPECT_EQ(rules.match("d/root_only", false), IgnoreMatch::kNone);
    EXPECT_EQ(rules.match("trailing", false), IgnoreMatch::kIgnore);
    EXPECT_EQ(rules.match("#hash", false), IgnoreMatch::kIgnore);
    EXPECT_EQ(rules.match("!bang", false), IgnoreMatch::kIgnore);
    EXPECT_EQ(rules.match("comment", false), IgnoreMatch::kNone);
    EXPECT_EQ(rules.positive_count(), 6u);
}

TEST(IgnoreRules, BraceExpansion) {
    bool ok = true;
    EXPECT_EQ(expand_braces("a{b,c{d,e}}f", ok), (std::vector<std::string>{"abf", "acdf", "acef"}));
    EXPECT_TRUE(ok);
    EXPECT_EQ(expand_braces("[{]x", ok), (std::vector<std::string>{"[{]x"}));
}

}  // namespace
}  // namespace agentd::tool
