// Deterministic stand-in for the fuzzer (fuzz/shell_parser_fuzz.cpp): random
// and adversarial commands must never crash, hang or be judged read-only
// when the parser could not understand them.
#include <chrono>
#include <cstdint>
#include <random>

#include <gtest/gtest.h>

#include "permission/bash_analysis.hpp"
#include "permission/shell_parser.hpp"
#include "permission/tool_rules.hpp"

namespace agentd::permission {
namespace {

void exercise(std::string_view input) {
    static const PathEnvironment env{"/work/proj", "/home/u"};
    Context ctx;
    ctx.mode = Mode::kAcceptEdits;
    ctx.working_directories = {"/work/proj"};
    const auto parsed = parse_shell(input);
    const bool read_only = bash_read_only(input);
    const Decision d = bash_check_permissions(input, ctx, env);
    (void)bash_suggestions(input);
    (void)bash_rule_matches(input.substr(0, input.size() / 2), input);
    if (!parsed.ok()) {
        // Anything the parser rejects is never read-only and never allowed.
        EXPECT_FALSE(read_only);
        if (!input.empty() && input.find_first_not_of(" \t\n\r\v\f") != std::string_view::npos) {
            EXPECT_EQ(d.behavior, Behavior::kAsk);
            EXPECT_TRUE(d.bypass_immune);
        }
    }
    if (read_only) {
        EXPECT_EQ(d.behavior, Behavior::kAllow);
    }
}

TEST(ShellParserRobustness, RandomFragments) {
    static const char* kFragments[] = {
        "ls", " ", "'", "\"", "\\", "$", "$(", "${", "$((", "))", ")", "(", "`", "<(", ">(", "<<",
        "<<-", "<<<", "EOF", "\n", ";", ";;", "&", "&&", "|", "||", "|&", ">", ">>", "2>&1", "&>",
        "if", "then", "fi", "for", "in", "do", "done", "case", "esac", "while", "{", "}", "[[",
        "]]", "function", "=", "a=", "#", "rm -rf /", "sed -i", "git branch -D", "*", "~", "\t",
        "find", "-delete", "tee", "x", "/dev/null", std::string_view("\0", 1).data(),
    };
    constexpr std::size_t kCount = sizeof(kFragments) / sizeof(kFragments[0]);
    std::mt19937 rng(20240607);  // fixed seed: the test is reproducible
    for (int i = 0; i < 3000; ++i) {
        std::string input;
        const int pieces = static_cast<int>(rng() % 24);
        for (int p = 0; p < pieces; ++p) {
            const auto k = rng() % (kCount + 1);
            if (k == kCount) {
                input += static_cast<char>(rng() % 256);  // raw byte, NUL and high bytes included
            } else {
                input += kFragments[k];
            }
            if (rng() % 3 == 0) input += ' ';
        }
        exercise(input);
    }
}

TEST(ShellParserRobustness, AdversarialInputs) {
    std::vector<std::string> inputs;
    for (const char* open : {"$(", "(", "{ ", "`", "${", "$((", "<(", "\"$(", "if true; then "}) {
        std::string deep;
        for (int i = 0; i < 5000; ++i) deep += open;
        inputs.push_back(deep);
    }
    std::string nested_ok;
    for (int i = 0; i < 20; ++i) nested_ok = "$(echo " + nested_ok + ")";
    inputs.push_back(nested_ok);
    std::string backticks = "echo ";
    for (int i = 0; i < 200; ++i) backticks += "\\`";
    inputs.push_back(backticks);
    inputs.push_back(std::string(kMaxShellInput + 10, 'a'));
    inputs.push_back(std::string(kMaxShellInput, ' '));
    inputs.push_back(std::string(kMaxShellInput / 2, '\''));
    inputs.push_back(std::string(kMaxShellInput / 2, '\\'));
    inputs.push_back(std::string(kMaxShellInput / 4, '|'));
    inputs.push_back("ls\0 && rm -rf /");
    inputs.push_back(std::string("ls\0rm -rf /", 11));
    std::string many;
    for (int i = 0; i < 5000; ++i) many += "ls -la && ";
    many += "pwd";
    inputs.push_back(many);
    std::string heredocs;
    for (int i = 0; i < 2000; ++i) heredocs += "cat <<E" + std::to_string(i) + " ";
    inputs.push_back(heredocs + "\nbody\n");
    inputs.push_back("'unbalanced");
    inputs.push_back("\"unbalanced $(");
    inputs.push_back("echo ${a:-${b:-${c:-$(ls `pwd`)}}}");
    inputs.push_back("case x in (a) ls;; esac");
    inputs.push_back(std::string(3000, '*') + "b");

    const auto start = std::chrono::steady_clock::now();
    for (const auto& in : inputs) exercise(in);
    for (const auto& in : inputs) {
        EXPECT_FALSE(path_glob_matches(std::string(200, '*') + "b", in + "x"));
    }
    // Linear scanning: the whole adversarial set takes well under ten seconds
    // even unoptimised and under sanitizers.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_TRUE(bash_read_only(many));
    EXPECT_FALSE(bash_read_only(inputs.front()));
}

}  // namespace
}  // namespace agentd::permission
