#include "permission/shell_parser.hpp"

#include <gtest/gtest.h>

namespace agentd::permission {
namespace {

std::vector<std::string> command_texts(const ShellScript& s) {
    std::vector<std::string> out;
    for (const auto& c : s.commands) out.push_back(c.text);
    return out;
}

std::vector<std::string> values(const SimpleCommand& c) {
    std::vector<std::string> out;
    for (const auto& w : c.words) out.push_back(w.value);
    return out;
}

ShellScript parse_ok(std::string_view src) {
    auto r = parse_shell(src);
    EXPECT_TRUE(r.ok()) << src << ": " << r.error;
    return r.ok() ? *r.script : ShellScript{};
}

TEST(ShellParser, SplitsListsAndPipelines) {
    const auto s = parse_ok("git add . && git commit -m 'x y' || echo failed; ls | wc -l |& cat &");
    EXPECT_EQ(command_texts(s),
              (std::vector<std::string>{"git add .", "git commit -m 'x y'", "echo failed", "ls",
                                        "wc -l", "cat"}));
    EXPECT_EQ(values(s.commands[1]), (std::vector<std::string>{"git", "commit", "-m", "x y"}));
    EXPECT_TRUE(s.commands[1].words[3].quoted);
    EXPECT_TRUE(s.has(ShellConstruct::kBackground));
    EXPECT_FALSE(s.first_risk().has_value());
}

TEST(ShellParser, QuotingAndEscapes) {
    const auto s = parse_ok(R"(echo "a \"b\" $HOME" 'c\d' e\ f $'g\n' "")");
    EXPECT_EQ(values(s.commands[0]),
              (std::vector<std::string>{"echo", "a \"b\" $HOME", "c\\d", "e f", "g\\n", ""}));
    EXPECT_TRUE(s.commands[0].words[1].expanded);
    EXPECT_FALSE(s.commands[0].words[2].expanded);
    EXPECT_FALSE(s.first_risk().has_value());  // $VAR is not a risk
}

TEST(ShellParser, AssignmentsAndRedirections) {
    const auto s = parse_ok("FOO=1 BAR+=2 cmd arg 2>&1 >out.txt 2>>err <in <<<word &>all 3<>rw");
    ASSERT_EQ(s.commands.size(), 1u);
    const auto& c = s.commands[0];
    ASSERT_EQ(c.assignments.size(), 2u);
    EXPECT_EQ(c.assignments[1].raw, "BAR+=2");
    EXPECT_EQ(values(c), (std::vector<std::string>{"cmd", "arg"}));
    ASSERT_EQ(c.redirects.size(), 7u);
    EXPECT_EQ(c.redirects[0].kind, RedirectKind::kDuplicate);
    EXPECT_EQ(c.redirects[0].fd, "2");
    EXPECT_EQ(c.redirects[1].kind, RedirectKind::kOutput);
    EXPECT_EQ(c.redirects[1].target.value, "out.txt");
    EXPECT_EQ(c.redirects[2].kind, RedirectKind::kAppend);
    EXPECT_EQ(c.redirects[3].kind, RedirectKind::kInput);
    EXPECT_EQ(c.redirects[4].kind, RedirectKind::kHereString);
    EXPECT_EQ(c.redirects[5].kind, RedirectKind::kOutputAll);
    EXPECT_EQ(c.redirects[6].kind, RedirectKind::kReadWrite);
    EXPECT_TRUE(c.redirects[1].writes_file());
    EXPECT_FALSE(c.redirects[3].writes_file());
    EXPECT_FALSE(c.redirects[0].names_file());
}

TEST(ShellParser, HeredocBodies) {
    auto s = parse_ok("cat <<EOF > out\nhello $(not parsed as command)\nEOF\nls");
    EXPECT_EQ(command_texts(s), (std::vector<std::string>{"cat <<EOF > out", "ls"}));
    EXPECT_TRUE(s.has(ShellConstruct::kCommandSubstitution));  // the body expands
    s = parse_ok("cat <<'EOF'\n$(quoted delimiter: literal)\nEOF\n");
    EXPECT_FALSE(s.first_risk().has_value());
    s = parse_ok("cat <<-EOF\n\tbody\n\tEOF\necho done");
    EXPECT_EQ(command_texts(s), (std::vector<std::string>{"cat <<-EOF", "echo done"}));
}

struct RiskCase {
    const char* command;
    const char* construct;  ///< first risk, or "" for none
};

TEST(ShellParser, ReportsConstructsInSourceOrder) {
    const RiskCase cases[] = {
        {"ls $(pwd)", "command_substitution"},
        {"echo `date`", "command_substitution"},
        {"diff <(ls a) >(cat)", "process_substitution"},
        {"echo ${HOME:-x}", "expansion"},
        {"echo \"${HOME}\"", "expansion"},
        {"(cd /tmp && ls)", "subshell"},
        {"for f in *.txt; do cat $f; done", "for_statement"},
        {"for file in $(ls); do rm $file; done", "for_statement"},
        {"for ((i=0;i<3;i++)); do echo $i; done", "for_statement"},
        {"while read l; do echo $l; done < f", "while_statement"},
        {"until false; do sleep 1; done", "until_statement"},
        {"if [ -f x ]; then cat x; elif true; then :; else echo no; fi", "if_statement"},
        {"case $1 in start) echo a;; stop|halt) echo b;; *) echo c;; esac", "case_statement"},
        {"function f() { echo hi; }", "function_definition"},
        {"f() { ls; }", "function_definition"},
        {"[[ -f x && $a < b ]]", "test_command"},
        {"(( x = 1 + 2 ))", "arithmetic_command"},
        {"echo $((1 + 2))", ""},
        {"echo $(( $(rm -rf /) ))", "command_substitution"},
        {"{ ls; pwd; } > out", ""},
        {"! grep x f", ""},
        {"a=(1 2 3); echo ${a[0]}", "expansion"},
        {"echo start && for f in *; do cat $f; done", "for_statement"},
    };
    for (const auto& c : cases) {
        const auto s = parse_ok(c.command);
        const auto risk = s.first_risk();
        EXPECT_EQ(risk ? std::string(to_string(*risk)) : std::string(), c.construct) << c.command;
    }
}

TEST(ShellParser, CommandsInsideConstructsAreCollected) {
    const auto s = parse_ok("if true; then rm a; fi; echo $(touch b) `mkdir c`");
    EXPECT_EQ(command_texts(s),
              (std::vector<std::string>{"true", "rm a", "echo $(touch b) `mkdir c`", "touch b",
                                        "mkdir c"}));
    EXPECT_FALSE(s.commands[2].in_substitution);
    EXPECT_TRUE(s.commands[3].in_substitution);
    EXPECT_TRUE(s.commands[4].in_substitution);
}

TEST(ShellParser, CommentsAndLineContinuations) {
    const auto s = parse_ok("ls -la # rm -rf /\necho a\\\nb");
    EXPECT_EQ(s.commands.size(), 2u);
    EXPECT_EQ(values(s.commands[1]), (std::vector<std::string>{"echo", "ab"}));
    EXPECT_EQ(values(parse_ok("echo a#b").commands[0]),
              (std::vector<std::string>{"echo", "a#b"}));
}

TEST(ShellParser, RejectsMalformedInput) {
    const char* bad[] = {
        "echo 'unterminated",  "echo \"unterminated", "echo $(ls",   "echo `ls", "(ls",
        "ls)",                  "if true; then ls",    "for x in a", "case x in a) ls", "&& ls",
        "ls &&",                "ls | | wc",           "echo ${x",   "cat <",    "ls; ;",
        "fi",                   "done",                "{ ls",       "[[ -f x",  "(( 1 + 2",
        "echo $(( 1 + 2 )",     "coproc cat",          "a=(1 2",     "f()",      "ls <& x",
    };
    for (const char* c : bad) EXPECT_FALSE(parse_shell(c).ok()) << c;
}

TEST(ShellParser, Limits) {
    EXPECT_FALSE(parse_shell(std::string(kMaxShellInput + 1, 'a')).ok());
    EXPECT_TRUE(parse_shell(std::string(kMaxShellInput, 'a')).ok());
    EXPECT_FALSE(parse_shell(std::string("ls\0rm", 5)).ok());
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "$(";
    deep += "ls";
    for (int i = 0; i < 100; ++i) deep += ")";
    const auto r = parse_shell(deep);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, "nesting too deep");
    std::string shallow;
    for (int i = 0; i < 10; ++i) shallow += "$(echo ";
    shallow += "x";
    for (int i = 0; i < 10; ++i) shallow += ")";
    EXPECT_TRUE(parse_shell(shallow).ok());
}

TEST(ShellParser, EmptyAndBlank) {
    EXPECT_TRUE(parse_ok("").commands.empty());
    EXPECT_TRUE(parse_ok("  \n\t # only a comment").commands.empty());
}

}  // namespace
}  // namespace agentd::permission
