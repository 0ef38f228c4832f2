#pragma once
// The built-in tools' own permission opinions (spec/runtime.md §7.3–7.5), as
// free functions so the tool classes stay thin and the rules are testable alone.
#include <string>
#include <string_view>
#include <vector>

#include "permission/permission.hpp"

namespace agentd::permission {

/// Where a tool call runs, for path checks: paths are made absolute against
/// `cwd`, `~` expands to `home`, and "inside a working directory" means below
/// one of `ctx.working_directories` (after resolving symlinks on the host view).
struct PathEnvironment {
    std::string cwd;   ///< the agent-visible working directory (the workspace workdir)
    std::string home;  ///< the agent-visible home directory
};

// --- Bash -------------------------------------------------------------------
/// check_read_only of the Bash tool: false for an empty command or an injection risk.
bool bash_read_only(std::string_view command);
/// Bash check_permissions, steps 0–8 of §7.4.1.
Decision bash_check_permissions(std::string_view command, const Context& ctx, const PathEnvironment& env);
/// Bash rule content syntax (§7.4.6).
bool bash_rule_matches(std::string_view rule_content, std::string_view command);
/// Up to five `prefix:*` allow rules (§7.4.6).
std::vector<Rule> bash_suggestions(std::string_view command);

// --- File tools (Read, Write, Edit, Glob, Grep) -------------------------------
/// fnmatch-style glob where `*` also matches `/` (rule content against a path).
bool path_glob_matches(std::string_view pattern, std::string_view path);
/// Write/Edit check_permissions (§7.4): dangerous path → safety ask; accept_edits
/// or dont_ask with the path in a working directory → allow; else passthrough.
Decision file_edit_check(std::string_view file_path, const Context& ctx, const PathEnvironment& env);
/// `<parent>/**` (or `**`) allow rule for `tool_name`.
std::vector<Rule> path_suggestions(std::string_view tool_name, std::string_view path);
/// Whether a path's basename is a dangerous file or a segment a dangerous directory.
bool is_dangerous_path(std::string_view path);
/// Whether the path (absolute or relative to env.cwd) lies in a working directory.
bool in_working_directory(std::string_view path, const Context& ctx, const PathEnvironment& env);

}  // namespace agentd::permission
