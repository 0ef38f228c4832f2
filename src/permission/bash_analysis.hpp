#pragma once
// The individual Bash checks behind bash_check_permissions (spec/runtime.md
// §7.4.1–7.4.6), exposed so each can be tested from its own table.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "permission/tool_rules.hpp"

namespace agentd::permission {

/// §7.4.3: why the command cannot be analysed statically (a parse failure or
/// a risky construct), or nullopt. An empty command is no risk.
std::optional<std::string> bash_injection_risk(std::string_view command);

/// §7.4.2 on an already risk-free command (bash_read_only adds the risk check).
bool bash_read_only_command(std::string_view command);

/// §7.4.4: the dangerous pattern the command contains, or nullopt.
std::optional<std::string> bash_dangerous_pattern(std::string_view command);

/// §7.4.4: why a sed invocation is unsafe, or nullopt.
std::optional<std::string> bash_sed_violation(std::string_view command);

/// §7.4.5: (command or "redirect", path) for every file the command names.
std::vector<std::pair<std::string, std::string>> bash_extract_paths(std::string_view command);

/// §7.4.5: the first rm/rmdir argument that is a critical removal path, or nullopt.
std::optional<std::string> bash_critical_removal(std::string_view command,
                                                 const PathEnvironment& env);

/// §7.4.6: up to `max_prefixes` distinct "command subcommand" prefixes.
std::vector<std::string> bash_command_prefixes(std::string_view command,
                                               std::size_t max_prefixes = 5);

}  // namespace agentd::permission
