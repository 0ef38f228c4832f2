#include <gtest/gtest.h>

#include "permission/bash_analysis.hpp"
#include "permission/shell_parser.hpp"
#include "permission/tool_rules.hpp"

namespace agentd::permission {
namespace {

struct ReadOnlyCase {
    const char* command;
    bool read_only;
};

TEST(BashReadOnly, Table) {
    const ReadOnlyCase cases[] = {
        // reference: read-only
        {"git status", true}, {"git log --oneline", true}, {"git diff", true},
        {"git show", true}, {"git branch", true}, {"git remote -v", true},
        {"ls", true}, {"ls -la", true}, {"cat file.txt", true}, {"head -n 10 file.txt", true},
        {"tail -f log.txt", true}, {"grep pattern file.txt", true}, {"find . -name '*.py'", true},
        {"find . -name '-delete'", true}, {"find . -path './-fprint'", true},
        {"find . -regex '.*-exec.*'", true}, {"tree", true}, {"pwd", true},
        {"which python", true}, {"docker ps", true}, {"docker inspect container_id", true},
        {"cat ~/.bashrc", true}, {"ls ~/.ssh", true}, {"cat .git/config", true},
        {"ls -la && cat file.txt", true}, {"cat file1.txt || cat file2.txt", true},
        {"ls; pwd; cat file.txt", true}, {"git diff | grep pattern", true},
        {"  git status  ", true}, {"LANG=C ls", true}, {"echo hello | tee", true},
        {"pip show requests", true}, {"npm ls --depth 0", true},
        // reference: not read-only
        {"git commit -m 'message'", false}, {"git push", false}, {"git pull", false},
        {"rm file.txt", false}, {"mv a b", false}, {"cp a b", false}, {"chmod +x s.sh", false},
        {"mkdir d", false}, {"touch f", false}, {"ls -la && git commit -m x", false},
        {"pwd || mkdir d", false}, {"ls; touch f", false}, {"rm ~/.bashrc", false},
        {"cat f > out.txt", false}, {"git log >> h.txt", false}, {"cat f 2> err.log", false},
        {"ls &> out.log", false}, {"echo x >| f", false}, {"", false}, {"   ", false},
        {"\t", false}, {"\n", false}, {"find . -delete", false},
        {"find . -name '*.tmp' -delete", false}, {"find . -exec rm {} \\;", false},
        {"find . -fprintf results.txt '%p\\n'", false}, {"find . -okdir rm {} \\;", false},
        {"ls $(rm -rf /)", false}, {"ls `rm x`", false}, {"FOO=bar", false},
        // Agentd: stricter than the reference
        {"echo x | tee f", false}, {"tee -a log.txt", false}, {"git branch -D x", false},
        {"git branch -d x", false}, {"git branch --delete x", false}, {"git branch -m a b", false},
        {"git branch -f main HEAD~1", false}, {"git branch newbranch", false},
        {"git tag -d v1", false}, {"git tag v2", false}, {"git tag -a v2 -m msg", false},
        {"git remote add origin url", false}, {"git remote remove origin", false},
        {"git remote rename a b", false}, {"git remote set-url origin u", false},
        {"git reflog expire --all", false}, {"git diff --output=patch.txt", false},
        {"git grep -Ovim foo", false}, {"rg --pre ./evil x", false}, {"tree -o out.txt", false},
        {"find . \\-delete", false}, {"find . '-delete'", false},
        {"LD_PRELOAD=/tmp/x.so ls", false}, {"PATH=/tmp/evil ls", false},
        {"ls <> rw.txt", false}, {"cat f 1>&2 > out", false},
        // Agentd: precise where the reference is coarse
        {"ls 2>/dev/null", true}, {"ls foo 2>&1 | grep x", true}, {"grep '->' f", true},
        {"git branch -a", true}, {"git branch -vv", true}, {"git branch --list 'f*'", true},
        {"git branch --contains abc", true}, {"git tag", true}, {"git tag -l 'v1.*'", true},
        {"git tag --contains HEAD", true}, {"git remote show origin", true},
        {"git remote get-url origin", true}, {"echo x | tee /dev/null", true},
        {"cat <<EOF\nhello\nEOF", true}, {"wc -l < f.txt", true}, {"{ ls; pwd; }", true},
    };
    for (const auto& c : cases) EXPECT_EQ(bash_read_only(c.command), c.read_only) << c.command;
}

struct RiskCase {
    const char* command;
    const char* needle;  ///< substring of the reason, or nullptr when no risk
};

TEST(BashInjectionRisk, Table) {
    const RiskCase cases[] = {
        {"ls $(pwd)", "command_substitution"}, {"rm $(find . -name '*.tmp')", "command_substitution"},
        {"ls `pwd`", "command_substitution"}, {"diff <(ls a) <(ls b)", "process_substitution"},
        {"cat <(echo hello)", "process_substitution"}, {"(cd /tmp && ls)", "subshell"},
        {"(export V=1; echo $V)", "subshell"}, {"echo a && (cd /tmp; pwd) && echo b", "subshell"},
        {"for i in 1 2 3; do echo $i; done", "for_statement"},
        {"while true; do sleep 1; done", "while_statement"},
        {"while [ $i -lt 10 ]; do echo $i; i=$((i+1)); done", "while_statement"},
        {"if test -d /tmp; then echo exists; fi", "if_statement"},
        {"case $var in a) echo A;; *) echo other;; esac", "case_statement"},
        {"function myfunc() { echo hello; }", "function_definition"},
        {"myfunc() { ls -la; }", "function_definition"},
        {"ls && rm $(find . -name '*.tmp')", "command_substitution"},
        {"git status && (cd /tmp; ls)", "subshell"},
        {"echo ${PATH:-x}", "expansion"}, {"[[ -n $x ]] && ls", "test_command"},
        {"cat <<EOF\n$(id)\nEOF", "command_substitution"},
        {"echo 'unterminated", "parsing failed"},
        {nullptr, nullptr},
    };
    for (const auto& c : cases) {
        if (!c.command) break;
        const auto risk = bash_injection_risk(c.command);
        ASSERT_TRUE(risk.has_value()) << c.command;
        EXPECT_NE(risk->find(c.needle), std::string::npos) << c.command << " → " << *risk;
    }
    const char* safe[] = {"", "ls -la", "cat file.txt", "git status", "npm install",
                          "echo 'hello world'", "find . -name '*.py'", "python script.py",
                          "git add . && git commit -m 'fix'", "npm install || echo failed",
                          "cd /tmp; ls; pwd", "cat f | grep p", "echo $HOME", "echo $((1+2))"};
    for (const char* c : safe) EXPECT_FALSE(bash_injection_risk(c).has_value()) << c;
    EXPECT_TRUE(bash_injection_risk(std::string(kMaxShellInput + 1, 'a')).has_value());
}

TEST(BashDangerousPattern, Table) {
    const std::pair<const char*, const char*> hits[] = {
        {"rm -rf /tmp/test", "rm -rf"}, {"rm   -rf   .", "rm -rf"}, {"sudo rm -rf /var/log", "rm -rf"},
        {"sudo rm file.txt", "sudo rm"}, {"dd if=/dev/zero of=/dev/sda", "dd"},
        {"mkfs.ext4 /dev/sdb", "mkfs"}, {"fdisk -l", "fdisk"}, {"npm run format", "format"},
        {"chmod 777 f", "chmod 777"}, {"chmod -R 777 /var/www", "chmod -R 777"},
        {"chown -R u /x", "chown -R"}, {"kill -9 1", "kill -9"}, {"echo x > /dev/sda", "> /dev/"},
        {"cat f >/dev/sda", "> /dev/"},
    };
    for (const auto& [cmd, pattern] : hits) {
        const auto p = bash_dangerous_pattern(cmd);
        ASSERT_TRUE(p.has_value()) << cmd;
        EXPECT_EQ(*p, pattern) << cmd;
    }
    const char* safe[] = {"rm file.txt", "rm -f temp.log", "chmod +x s.sh", "chmod 644 f",
                          "ls -la", "git status", "git add .", "odd_tool", "make 2>/dev/null"};
    for (const char* c : safe) EXPECT_FALSE(bash_dangerous_pattern(c).has_value()) << c;
}

TEST(BashSed, Table) {
    const std::pair<const char*, const char*> cases[] = {
        {"sed -n '5p' file.txt", nullptr},
        {"sed -n '10,20p' file.txt", nullptr},
        {"sed 's/old/new/' file.txt", nullptr},
        {"sed 's/old/new/g' file.txt", nullptr},
        {"sed 's|old|new|' file.txt", nullptr},
        {"sed 's#pattern#replacement#' file.txt", nullptr},
        {"sed -i 's/a/b/' notes.txt", nullptr},
        {"sed -E -e 's/a+/b/2' f", nullptr},
        {"ls -la", nullptr},
        {"sed 's/old/new/w output.txt' file.txt", "write operation"},
        {"sed 's/old/new/W output.txt' file.txt", "write operation"},
        {"sed 's/old/new/e' file.txt", "execute operation"},
        {"sed 's/old/new/E' file.txt", "execute operation"},
        {"sed '{s/old/new/}' file.txt", "curly braces"},
        {"sed '!s/old/new/' file.txt", "negation"},
        {"sed 's/a/b/ # c' f", "comments"},
        {"sed 'd' file.txt", "not in allowlist"},
        {"sed 'a\\text' file.txt", "not in allowlist"},
        {"sed -n '5d' f", "not in allowlist"},
        {"sed -i 's/old/new/' .env", "dangerous file"},
        {"sed --in-place 's/old/new/' .bashrc", "dangerous file"},
        {"sed -r 's/old/new/' file.txt", "flag -r not allowed"},
        {"sed -u 's/old/new/' file.txt", "flag -u not allowed"},
        {"sed", "missing expression"},
        // Agentd: every -e expression is checked, long options are vetted
        {"sed -e 's/a/b/' -e 'w /etc/passwd' f", "'w /etc/passwd' not in allowlist"},
        {"sed --file=script.sed f", "option --file not allowed"},
        {"ls && sed 'd' f", "not in allowlist"},
        {"echo 'sed", "invalid shell syntax"},
    };
    for (const auto& [cmd, needle] : cases) {
        const auto v = bash_sed_violation(cmd);
        if (!needle) {
            EXPECT_FALSE(v.has_value()) << cmd << " → " << v.value_or("");
        } else {
            ASSERT_TRUE(v.has_value()) << cmd;
            EXPECT_NE(v->find(needle), std::string::npos) << cmd << " → " << *v;
        }
    }
}

using Paths = std::vector<std::pair<std::string, std::string>>;

TEST(BashPaths, Table) {
    const std::pair<const char*, Paths> cases[] = {
        {"rm file.txt", {{"rm", "file.txt"}}},
        {"rm -rf /tmp/test", {{"rm", "/tmp/test"}}},
        {"rm -f *.log", {{"rm", "*.log"}}},
        {"mv -f a b", {{"mv", "a"}, {"mv", "b"}}},
        {"chmod +x s.sh", {{"chmod", "+x"}, {"chmod", "s.sh"}}},
        {"chown -R user /var/www", {{"chown", "user"}, {"chown", "/var/www"}}},
        {"ln -s target link", {{"ln", "target"}, {"ln", "link"}}},
        {"sed -i 's/old/new/' file.txt", {{"sed", "s/old/new/"}, {"sed", "file.txt"}}},
        {"echo 'hello' > output.txt", {{"redirect", "output.txt"}}},
        {"ls -la >> list.txt", {{"redirect", "list.txt"}}},
        {"touch new.txt && chmod +x new.txt",
         {{"touch", "new.txt"}, {"chmod", "+x"}, {"chmod", "new.txt"}}},
        {"rm \"file with spaces.txt\"", {{"rm", "file with spaces.txt"}}},
        {"mv file.txt .git/hooks/", {{"mv", "file.txt"}, {"mv", ".git/hooks/"}}},
        {"sudo -n /bin/rm x", {{"rm", "x"}}},
        {"cat key > ~/.ssh/authorized_keys", {{"redirect", "~/.ssh/authorized_keys"}}},
        {"ls 2>&1", {}},
        {"git status", {}},
        {"", {}},
        {"rm 'a", {{"rm", "a"}}},  // unparsable: token fallback
    };
    for (const auto& [cmd, expected] : cases) EXPECT_EQ(bash_extract_paths(cmd), expected) << cmd;
}

TEST(BashCriticalRemoval, Table) {
    const PathEnvironment env{"/home/u/project", "/home/u"};
    const std::pair<const char*, const char*> cases[] = {
        {"rm -rf /", "/"}, {"rm -r *", "*"}, {"rm -r ./*", "./*"}, {"rm -r build/*", "build/*"},
        {"rm -r ~", "~"}, {"rm -r ~/", "~/"}, {"rm -r $HOME", "$HOME"}, {"rmdir /usr", "/usr"},
        {"rm -r /etc/", "/etc/"}, {"rm -r ../..", "../.."}, {"ls && rm -r /tmp", "/tmp"},
        {"sudo rm -r /var", "/var"}, {"rm -r '/'", "/"}, {"rm -r /home/u/project/../", "/home/u/project/../"},
        {"rm -r build", nullptr}, {"rm -r /home/u/project/x", nullptr}, {"ls /", nullptr},
        {"rm -r /usr/local", nullptr},
    };
    for (const auto& [cmd, path] : cases) {
        const auto r = bash_critical_removal(cmd, env);
        if (!path) {
            EXPECT_FALSE(r.has_value()) << cmd;
        } else {
            ASSERT_TRUE(r.has_value()) << cmd;
            EXPECT_EQ(*r, path) << cmd;
        }
    }
}

struct MatchCase {
    const char* rule;
    const char* command;
    bool matches;
};

TEST(BashRuleMatches, Table) {
    const MatchCase cases[] = {
        {"", "anything", true},
        {"git *", "git status", true}, {"git *", "git", true}, {"git * push", "git origin push", true},
        {"npm run *", "npm run build", true}, {"docker * up", "docker compose up", true},
        {"git *", "github", false}, {"npm run *", "yarn run build", false},
        {"docker * up", "docker ps", false}, {"git *", "git status\nrm -rf /", false},
        {"file\\*.txt", "file*.txt", true}, {"file\\*.txt", "file123.txt", false},
        {"path\\\\to\\\\file", "path\\to\\file", true}, {"path\\\\to\\\\file", "path/to/file", false},
        {"git:*", "git status", true}, {"git:*", "git", true}, {"git:*", "github", false},
        {"npm:*", "npm install", true}, {" npm :*", "npm", true},
        {"npm install", "npm install express", true}, {"npm install", "yarn install", false},
        {"git commit", "git commit -m 'fix'", true}, {"git commit", "git push", false},
        {"a.c*", "abc", false}, {"a.c*", "a.cdef", true}, {"(x)*", "(x)y", true},
        {"*.sh", "run.sh", true}, {"*", "", true},
    };
    for (const auto& c : cases)
        EXPECT_EQ(bash_rule_matches(c.rule, c.command), c.matches) << c.rule << " vs " << c.command;
}

TEST(BashSuggestions, Table) {
    using V = std::vector<std::string>;
    const std::pair<const char*, V> cases[] = {
        {"git commit -m 'fix'", {"git commit"}}, {"npm run build", {"npm run"}},
        {"docker compose up", {"docker compose"}}, {"cargo build --release", {"cargo build"}},
        {"python -m pytest", {"python -m"}}, {"ls", {}}, {"ls -la", {}}, {"echo hello", {}},
        {"cd /tmp", {}}, {"cat file.txt", {}}, {"NODE_ENV=prod npm run build", {"npm run"}},
        {"DEBUG=1 npm test", {"npm test"}}, {"PATH=/usr/bin npm run build", {"npm run"}},
        {"CUSTOM_VAR=value npm run build", {}}, {"API_KEY=abc npm run deploy", {}},
        {"git add . && git commit", {"git add", "git commit"}},
        {"npm install && npm run build && npm test", {"npm install", "npm run", "npm test"}},
        {"npm run build || echo failed", {"npm run"}}, {"cd /tmp; ls -la; pwd", {}},
        {"docker ps | grep nginx", {"docker ps"}}, {"npm run build | tee output.log", {"npm run"}},
        {"git add . && git commit -m 'fix' || echo failed", {"git add", "git commit"}},
        {"", {}}, {"   ", {}}, {"npm", {}}, {"   npm run build   ", {"npm run"}},
        {"npm install && npm run build && npm test && npm run lint && npm run format && npm run x",
         {"npm install", "npm run", "npm test"}},
        {"git add . && git commit && git push && git status", {"git add", "git commit", "git push", "git status"}},
        {"echo 'unterminated", {}},
    };
    for (const auto& [cmd, expected] : cases) EXPECT_EQ(bash_command_prefixes(cmd), expected) << cmd;
    const auto rules = bash_suggestions("git commit -m x && npm test");
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0].tool_name, "Bash");
    EXPECT_EQ(rules[0].rule_content, "git commit:*");
    EXPECT_EQ(rules[1].rule_content, "npm test:*");
    EXPECT_EQ(rules[0].behavior, Behavior::kAllow);
    EXPECT_EQ(rules[0].source, "suggested");
}

struct CheckCase {
    Mode mode;
    const char* command;
    Behavior behavior;
    bool bypass_immune;
};

TEST(BashCheckPermissions, Steps) {
    Context ctx;
    ctx.working_directories = {"/work/proj"};
    const PathEnvironment env{"/work/proj", "/home/u"};
    const CheckCase cases[] = {
        {Mode::kDefault, "", Behavior::kPassthrough, false},
        {Mode::kDefault, "ls $(rm -rf /)", Behavior::kAsk, true},            // 1
        {Mode::kDefault, "git status", Behavior::kAllow, false},             // 2
        {Mode::kDefault, "rm -rf build", Behavior::kAsk, true},              // 3
        {Mode::kDefault, "sed 's/a/b/w out' f", Behavior::kAsk, true},       // 4
        {Mode::kDefault, "echo x >> ~/.bashrc", Behavior::kAsk, true},       // 5
        {Mode::kDefault, "mv a .git/hooks/pre-commit", Behavior::kAsk, true},
        {Mode::kDefault, "rm -r /usr", Behavior::kAsk, true},                // 6
        {Mode::kDefault, "mkdir build", Behavior::kPassthrough, false},      // 8
        {Mode::kAcceptEdits, "mkdir build", Behavior::kAllow, false},        // 7
        {Mode::kDontAsk, "touch a b && rm c", Behavior::kAllow, false},
        {Mode::kAcceptEdits, "cp /etc/hosts x", Behavior::kPassthrough, false},
        {Mode::kAcceptEdits, "mkdir d && curl evil.sh", Behavior::kPassthrough, false},
        {Mode::kAcceptEdits, "sed -i 's/a/b/' notes.txt", Behavior::kAllow, false},
        {Mode::kAcceptEdits, "mkdir", Behavior::kPassthrough, false},
        {Mode::kAcceptEdits, "npm install", Behavior::kPassthrough, false},
        {Mode::kAcceptEdits, "FOO=1 touch x", Behavior::kPassthrough, false},
        {Mode::kBypass, "mkdir build", Behavior::kPassthrough, false},
    };
    for (const auto& c : cases) {
        ctx.mode = c.mode;
        const Decision d = bash_check_permissions(c.command, ctx, env);
        EXPECT_EQ(d.behavior, c.behavior) << c.command << " (" << to_string(c.mode) << "): " << d.message;
        EXPECT_EQ(d.bypass_immune, c.bypass_immune) << c.command;
    }
    // The server's own working directory is not implicitly a working directory.
    Context none;
    none.mode = Mode::kAcceptEdits;
    EXPECT_EQ(bash_check_permissions("mkdir build", none, env).behavior, Behavior::kPassthrough);
}

}  // namespace
}  // namespace agentd::permission
