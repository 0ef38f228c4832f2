#pragma once
// The search behind the Grep tool: what `rg --hidden --glob '!.git' … 
// --max-columns 500` prints, produced natively (PCRE2 with JIT, a directory
// walker that honours ignore files, parallel file scanning).
//
// Behaviour kept from ripgrep: hidden files are searched; .git/.svn/.hg/.bzr/
// .jj/.sl are skipped; .gitignore (only inside a git repository, nested ones
// included, the repository's .git/info/exclude too), .ignore and .rgignore
// files are honoured, parents' up to the workspace root included; --glob
// overrides win over ignore files; symlinks are not followed; a file with a NUL
// byte in its first 8 KiB is binary and skipped; lines of more than 500 bytes
// (terminator included) print as "[Omitted long matching line]" /
// "[Omitted long context line]"; output lines are `path`, `path:count`,
// `path:line:text` / `path-line-text` with `--` between context groups (no path
// when the search path is one file).
//
// Agentd decisions: files are visited in path order (ripgrep's order is
// unspecified), so the output is deterministic; anchored --glob patterns are
// relative to the search path.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace agentd::tool {

struct GrepOptions {
    enum class Mode { kFilesWithMatches, kContent, kCount };
    std::string pattern;
    Mode mode = Mode::kFilesWithMatches;
    bool line_numbers = true;  ///< content mode only
    bool case_insensitive = false;
    bool multiline = false;  ///< PCRE2 MULTILINE|DOTALL over whole files
    std::size_t before = 0;  ///< context lines, content mode only
    std::size_t after = 0;
    std::vector<std::string> globs;  ///< --glob values, in order
    std::optional<std::string> type;
    std::size_t max_columns = 500;
    /// Stop once more than this many output lines exist (0: no cap). The caller
    /// paginates; it only needs to know that more lines exist.
    std::size_t line_cap = 0;
    unsigned threads = 0;  ///< 0: a few, by hardware
};

struct GrepSearchResult {
    /// rg's exit-2 stderr (trimmed): a bad pattern, glob or type, a missing path,
    /// unreadable entries. When set, `lines` are to be discarded.
    std::string error;
    std::vector<std::string> lines;  ///< raw output lines, without terminators
    bool stopped = false;            ///< `stop` returned true
};

/// Searches `host_path` (a file or directory inside `host_root`, the workspace's
/// host directory), printing paths as `display_path` + the part below it.
/// `stop` is polled now and then.
GrepSearchResult grep_search(const GrepOptions& options, const std::string& host_root, const std::string& host_path,
                             const std::string& display_path, const std::function<bool()>& stop);

}  // namespace agentd::tool
