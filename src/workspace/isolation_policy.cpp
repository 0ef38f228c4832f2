#include "workspace/isolation_policy.hpp"

#include "common/blake2b.hpp"
#include "common/ids.hpp"

namespace agentd::workspace {

std::optional<IsolationPolicy> parse_isolation_policy(std::string_view text) {
    if (text == "per_agent") return IsolationPolicy::kPerAgent;
    if (text == "per_user") return IsolationPolicy::kPerUser;
    if (text == "per_session") return IsolationPolicy::kPerSession;
    return std::nullopt;
}

std::string_view to_string(IsolationPolicy p) {
    switch (p) {
        case IsolationPolicy::kPerAgent: return "per_agent";
        case IsolationPolicy::kPerUser: return "per_user";
        case IsolationPolicy::kPerSession: return "per_session";
    }
    return "per_agent";
}

std::string assign_workspace_id(IsolationPolicy policy, const std::string& user_id, const std::string& agent_id) {
    switch (policy) {
        case IsolationPolicy::kPerAgent: return blake2b_hex(user_id + "::" + agent_id, 8);
        case IsolationPolicy::kPerUser: return blake2b_hex("user::" + user_id, 8);
        case IsolationPolicy::kPerSession: return new_id();
    }
    return new_id();
}

}  // namespace agentd::workspace
