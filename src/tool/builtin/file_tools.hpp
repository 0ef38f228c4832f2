#pragma once
// The built-in file tools of a workspace, in the reference's order (§4.9,
// without Bash, which lives elsewhere): Edit, Glob, Grep, Read, Write.
#include <memory>
#include <vector>

#include "agent/toolkit.hpp"

namespace agentd::workspace {
class Workspace;
}

namespace agentd::tool {

std::vector<std::shared_ptr<agent::Tool>> make_file_tools(std::shared_ptr<workspace::Workspace> workspace);

}  // namespace agentd::tool
