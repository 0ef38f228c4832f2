#pragma once
// A hand-written parser for the Bash grammar subset the permission engine must
// see through (spec/runtime.md §7.4): words and quoting, expansions,
// substitutions, lists, pipelines, redirections, heredocs and the compound
// commands. It answers "which simple commands run, with which words and
// redirections, and which constructs appear" — it never executes or expands.
//
// Untrusted input: the parser is linear in the input, bounded in nesting
// (kMaxShellDepth) and size (kMaxShellInput), and reports anything it does not
// understand as a parse error, which callers treat as "cannot be analysed".
#include <bitset>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::permission {

inline constexpr std::size_t kMaxShellInput = 64 * 1024;
inline constexpr int kMaxShellDepth = 64;

/// Constructs worth reporting. The first eleven are the injection risks of
/// §7.4.3 (named as the reference's tree-sitter node types).
enum class ShellConstruct {
    kCommandSubstitution,  ///< $(…) or `…`, also inside an expanding heredoc body
    kProcessSubstitution,  ///< <(…) or >(…)
    kExpansion,            ///< ${…}
    kSubshell,             ///< ( … )
    kForStatement,         ///< for / select
    kWhileStatement,
    kUntilStatement,
    kIfStatement,
    kCaseStatement,
    kFunctionDefinition,
    kTestCommand,        ///< [[ … ]]
    kArithmeticCommand,  ///< (( … )) — a risk in Agentd, see docs/security.md
    kBraceGroup,         ///< { …; }
    kHeredoc,            ///< <<DELIM
    kBackground,         ///< cmd &
    kNegation,           ///< ! pipeline
    kCount
};

/// The reference's node-type name ("command_substitution", …).
std::string_view to_string(ShellConstruct c);
/// Whether the construct makes a command impossible to analyse statically.
bool is_injection_risk(ShellConstruct c);

struct ShellWord {
    std::string raw;        ///< exact source text
    std::string value;      ///< quotes and escapes removed; expansions kept literally
    bool quoted = false;    ///< any quote or backslash escape took part
    bool expanded = false;  ///< contains $…, ${…}, $(…) or `…`
};

enum class RedirectKind {
    kInput,        ///< <
    kOutput,       ///< >  (and >| )
    kAppend,       ///< >>
    kReadWrite,    ///< <>
    kOutputAll,    ///< &>  and >&file
    kAppendAll,    ///< &>>
    kDuplicate,    ///< >&N, <&N, >&-, <&-
    kHeredoc,      ///< << and <<-
    kHereString,   ///< <<<
};

struct ShellRedirect {
    RedirectKind kind = RedirectKind::kInput;
    std::string op;  ///< operator text, e.g. "2>" is op ">" with fd "2"
    std::string fd;  ///< explicit descriptor number, or empty
    ShellWord target;

    /// A file (not a descriptor, heredoc or here-string) is opened.
    bool names_file() const;
    /// The file is opened for writing (>, >>, >|, <>, &>, &>>, >&file).
    bool writes_file() const;
};

struct SimpleCommand {
    std::vector<ShellWord> assignments;  ///< leading NAME=value words
    std::vector<ShellWord> words;        ///< command name and arguments
    std::vector<ShellRedirect> redirects;
    std::string text;                 ///< source text from first to last token
    bool in_substitution = false;     ///< inside $(…), `…` or <(…)
};

struct ShellScript {
    std::vector<SimpleCommand> commands;  ///< every simple command, in source order
    std::vector<ShellRedirect> redirects;  ///< every redirection, compound ones included
    std::bitset<static_cast<std::size_t>(ShellConstruct::kCount)> constructs;
    std::vector<ShellConstruct> construct_order;  ///< first occurrences, in source order

    bool has(ShellConstruct c) const { return constructs.test(static_cast<std::size_t>(c)); }
    /// The first injection-risk construct in source order.
    std::optional<ShellConstruct> first_risk() const;
};

struct ShellParseResult {
    std::optional<ShellScript> script;  ///< set on success
    std::string error;                  ///< set on failure
    bool ok() const { return script.has_value(); }
};

/// Parses `source` as a Bash script. Never throws; inputs over kMaxShellInput,
/// containing NUL, nested deeper than kMaxShellDepth or not valid Bash are errors.
ShellParseResult parse_shell(std::string_view source);

}  // namespace agentd::permission
