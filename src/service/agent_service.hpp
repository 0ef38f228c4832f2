#pragma once
#include <boost/json.hpp>
#include <string>

#include "bus/message_bus.hpp"
#include "storage/storage.hpp"

namespace agentd::service {

namespace bj = boost::json;

/// Agents of one owner: list, create, update, delete with its cascade.
class AgentService {
public:
    AgentService(storage::Storage& storage, bus::MessageBus& bus) : storage_(storage), bus_(bus) {}

    /// {agents: [AgentView], total}
    bj::object list(const std::string& user_id);
    /// Stores validated AgentData (domain::agent_data_from_create); returns the new agent id.
    std::string create(const std::string& user_id, bj::object data);
    /// Applies a validated patch (domain::parse_agent_update); returns the AgentView.
    bj::object update(const std::string& user_id, const std::string& agent_id, const bj::object& patch);
    /// Deletes the agent and its sessions; throws 404 when absent.
    void remove(const std::string& user_id, const std::string& agent_id);

    /// The agent, or a 404 Error in the reference's words.
    domain::AgentRecord require(const std::string& user_id, const std::string& agent_id);

private:
    storage::Storage& storage_;
    bus::MessageBus& bus_;
};

/// Deleting sessions (api-core §7.3 step 3): asks whichever process runs them
/// to cancel their runs and background tasks.
void cancel_sessions(bus::MessageBus& bus, const std::vector<std::string>& session_ids);
/// Waits (up to `timeout` in all) for the sessions' runs to release their run
/// locks. Deletes call it after removing the records, unlike the reference, which
/// waits before: no new run can start then, so a client that keeps chatting
/// cannot keep the delete waiting, and the runs' last steps find their session
/// gone and store nothing.
void wait_for_session_locks(bus::MessageBus& bus, const std::vector<std::string>& session_ids,
                            std::chrono::milliseconds timeout);
/// After deleting sessions (§7.3 step 5): drops what the bus keeps for them,
/// the event log, the inbox and the background-task registry.
void purge_sessions(bus::MessageBus& bus, const std::vector<std::string>& session_ids);

std::string not_found_detail(std::string_view kind, std::string_view id);

}  // namespace agentd::service
