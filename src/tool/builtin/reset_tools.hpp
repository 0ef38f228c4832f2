#pragma once
// reset_tools, the toolkit's meta tool (spec/tools-workspace.md §2.4): the model
// sends the complete desired activation state of the non-basic tool groups, one
// boolean per group; the tool replaces state.tool_context.activated_groups and
// answers with the groups now active and their instructions.
//
// Concurrency-safe and not read-only (the reference's flags), but allowed in
// every permission mode: it changes only which schemas the agent is offered,
// never the workspace or the outside world. Explicit deny or ask rules naming
// it still apply.
#include <memory>
#include <string>
#include <vector>

#include "agent/toolkit.hpp"

namespace agentd::tool {

inline constexpr std::string_view kResetToolsName = "reset_tools";

/// The meta tool for `groups` (the non-basic groups, in registration order;
/// only their name, description and instructions are read). Its input schema
/// has one boolean property per group.
std::shared_ptr<agent::Tool> make_reset_tools(std::vector<agent::ToolGroup> groups);

/// The result text for the active `groups` (registration order), as the
/// reference's default response template renders it.
std::string reset_tools_response(const std::vector<const agent::ToolGroup*>& groups);

}  // namespace agentd::tool
