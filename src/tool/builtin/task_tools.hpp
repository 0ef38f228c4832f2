#pragma once
// The task-list tools (spec/tools-workspace.md §5): TaskCreate, TaskGet,
// TaskList and TaskUpdate keep the session's plan in state.tasks_context
// ({"tasks": [Task]}). Always allowed, concurrency-safe, not read-only.
#include <memory>
#include <string>
#include <vector>

#include "agent/toolkit.hpp"
#include "common/python_repr.hpp"

namespace agentd::tool {

/// TaskCreate, TaskList, TaskGet, TaskUpdate, in the order the service offers them.
std::vector<std::shared_ptr<agent::Tool>> make_task_tools();

using agentd::python_repr;

}  // namespace agentd::tool
