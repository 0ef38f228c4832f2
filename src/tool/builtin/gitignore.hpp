#pragma once
// Gitignore-style glob rules, as ripgrep applies them: the lines of one
// .gitignore / .ignore / .rgignore file, and the --glob overrides of Grep.
//
// Supported: comments, blank lines, trailing-space trimming (unless escaped),
// `!` negation, `\` escapes, directory-only patterns (trailing `/`), anchoring
// (a `/` at the start or in the middle ties the pattern to the file's
// directory; otherwise it matches a name at any depth), `*`, `?`, `[...]`
// classes (`!`/`^` negation, ranges), `**` as a leading `**/`, a middle
// `/**/` and a trailing `/**`, and `{a,b}` alternatives (as ripgrep's globset
// accepts them).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tool {

enum class IgnoreMatch { kNone, kIgnore, kWhitelist };

/// One compiled glob; matches a `/`-separated path relative to its base.
class PathGlob {
public:
    /// `pattern` as written after `!` and escapes handling: anchored when it has a
    /// `/` other than a trailing one. Returns false (with `error`) for an unclosed
    /// class or brace.
    bool compile(std::string_view pattern, std::string& error);
    bool matches(std::string_view path) const;

private:
    enum class Op : std::uint8_t { kLiteral, kAnyChar, kStar, kClass, kAnyPrefixDirs, kAnyMiddleDirs, kAnySuffix, kAll };
    struct Token {
        Op op = Op::kLiteral;
        char literal = 0;
        bool negated = false;
        std::vector<std::pair<unsigned char, unsigned char>> ranges;  // kClass
    };
    static Token make_token(Op op, char literal = 0) {
        Token t;
        t.op = op;
        t.literal = literal;
        return t;
    }
    using Sequence = std::vector<Token>;
    bool match_from(const Sequence& seq, std::size_t ti, std::string_view s, std::size_t si) const;
    bool parse(std::string_view text, Sequence& out, std::string& error) const;

    std::vector<Sequence> alternatives_;
    // A literal suffix every match must end with (e.g. ".py" of "**/*.py"): a
    // cheap test that rejects most paths before the matcher runs.
    std::string required_suffix_;
};

/// The rules of one ignore file (or of a list of --glob overrides): the last
/// rule that matches decides.
class IgnoreRules {
public:
    /// Parses ignore-file text. Invalid lines are skipped, as git does.
    static IgnoreRules parse(std::string_view text);
    /// Adds one rule line (ignore-file syntax). Returns false with `error` when the glob is invalid.
    bool add_line(std::string_view line, std::string& error);

    /// How the rules judge `relative_path` (relative to the file's directory, no
    /// leading `/`).
    IgnoreMatch match(std::string_view relative_path, bool is_dir) const;
    bool empty() const { return rules_.empty(); }
    /// The number of positive (non-`!`) rules.
    std::size_t positive_count() const { return positive_; }

private:
    struct Rule {
        PathGlob glob;
        bool negated = false;
        bool dir_only = false;
    };
    std::vector<Rule> rules_;
    std::size_t positive_ = 0;
};

/// Splits `{a,b}` alternatives (nested braces allowed) into plain patterns.
std::vector<std::string> expand_braces(std::string_view pattern, bool& ok);

}  // namespace agentd::tool
