#pragma once
// Deterministic tools for tests and demos (`agentd serve --debug-tools`): they
// let an end-to-end test drive the agent loop's acting step without touching the
// host. Never enabled by default.
#include "agent/toolkit.hpp"

namespace agentd::tool {

/// Adds debug_echo (returns its `text`), debug_sleep (waits `ms`, honours interrupts),
/// debug_fail (raises), debug_chunks (streams `count` text chunks) — all allowed
/// without asking — plus debug_guarded (echoes after the user allowed it) and
/// debug_external (executed by the client) and debug_guarded_external (both).
void add_debug_tools(agent::Toolkit& toolkit);

}  // namespace agentd::tool
