#pragma once
// Deterministic tools for tests and demos (`agentd serve --debug-tools`): they
// let an end-to-end test drive the agent loop's acting step without touching the
// host. Never enabled by default.
#include "agent/toolkit.hpp"

namespace agentd::tool {

/// Adds debug_echo (returns its `text`), debug_sleep (waits `ms`, honours interrupts),
/// debug_fail (raises) and debug_chunks (streams `count` text chunks).
void add_debug_tools(agent::Toolkit& toolkit);

}  // namespace agentd::tool
