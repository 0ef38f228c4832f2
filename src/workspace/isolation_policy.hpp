#pragma once
// How sessions are bound to workspaces when the client names none.
#include <optional>
#include <string>
#include <string_view>

namespace agentd::workspace {

enum class IsolationPolicy { kPerAgent, kPerUser, kPerSession };

std::optional<IsolationPolicy> parse_isolation_policy(std::string_view text);
std::string_view to_string(IsolationPolicy p);

/// The reference's ids: blake2b("{user}::{agent}", 8) for per_agent,
/// blake2b("user::{user}", 8) for per_user, a fresh uuid hex for per_session.
std::string assign_workspace_id(IsolationPolicy policy, const std::string& user_id,
                                const std::string& agent_id);

}  // namespace agentd::workspace
