#pragma once
// Bus keys and channels the services share, named as the reference names
// them (spec/runtime.md §1.1) so processes of both can share one bus.
#include <chrono>
#include <string>

namespace agentd::service {

/// Hard cancel of a session (deletion): its run and its background tasks.
inline const std::string kSessionCancelChannel = "agentscope:session:cancel";
/// Cancel of one background task, by id.
inline const std::string kTaskCancelChannel = "agentscope:task:cancel";

/// The registry hash of a session's live background tasks (field: task id).
inline std::string background_tasks_key(const std::string& session_id) { return "agentscope:bg_tasks:" + session_id; }
inline constexpr std::chrono::milliseconds kBackgroundTasksTtl{86'400'000};

}  // namespace agentd::service
