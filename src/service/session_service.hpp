#pragma once
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "bus/message_bus.hpp"
#include "service/agent_service.hpp"
#include "service/credential_service.hpp"
#include "storage/storage.hpp"
#include "workspace/isolation_policy.hpp"
#include "workspace/workspace.hpp"

namespace agentd::service {

namespace bj = boost::json;

/// A validated CreateSessionRequest.
struct CreateSessionInput {
    std::string agent_id;
    std::optional<std::string> workspace_id;
    std::optional<std::string> name;
    bj::object model_fields;  ///< the model / knowledge configs present in the body
};
CreateSessionInput parse_create_session(const bj::value& body, validation::Issues& issues);

/// A validated UpdateSessionRequest; presence matters (omitted keeps, null clears).
struct SessionPatch {
    std::optional<std::string> name;
    bool cwd_present = false;
    std::optional<std::string> cwd;
    std::optional<std::string> permission_mode;
    bj::object model_fields;
};
SessionPatch parse_session_patch(const bj::value& body, validation::Issues& issues);

/// Sessions of one owner: create, list, patch, delete, message pages, status.
class SessionService {
public:
    /// `workspaces` (optional) get the files of deleted sessions removed.
    SessionService(storage::Storage& storage, bus::MessageBus& bus, AgentService& agents,
                   CredentialService& credentials, workspace::IsolationPolicy policy,
                   workspace::WorkspaceManager* workspaces = nullptr)
        : storage_(storage), bus_(bus), agents_(agents), credentials_(credentials), policy_(policy),
          workspaces_(workspaces) {}

    /// The GET /sessions/ body, already serialised. Served from a cache that any
    /// write or lock change in this process invalidates.
    std::shared_ptr<const std::string> list_body(const std::string& user_id, const std::string& agent_id);
    /// The cached list body when it is still current; never touches storage.
    std::shared_ptr<const std::string> cached_list_body(const std::string& user_id, const std::string& agent_id);
    std::string create(const std::string& user_id, const CreateSessionInput& input);
    bj::object patch(const std::string& user_id, const std::string& session_id, const SessionPatch& patch);
    void remove(const std::string& user_id, const std::string& session_id);
    bj::object messages(const std::string& user_id, const std::string& session_id,
                        const std::optional<std::string>& before, int limit);
    bj::object status(const std::string& user_id, const std::string& session_id);

    bool is_running(const std::string& session_id) { return bus_.is_locked(bus::session_lock_key(session_id)); }

    /// Tells whether a run of this process holds a session (ChatService). A
    /// PATCH of such a session is refused at once: waiting out a lock is for
    /// holders that let go within milliseconds (another PATCH), and a run does
    /// not. Set once at start, before requests are served.
    void set_run_probe(std::function<bool(const std::string&)> probe) { runs_here_ = std::move(probe); }

private:
    std::string render_list(const std::string& user_id, const std::string& agent_id);
    /// 404 for any model config credential or knowledge base the caller cannot see.
    void check_references(const std::string& user_id, const bj::object& fields);

    storage::Storage& storage_;
    bus::MessageBus& bus_;
    AgentService& agents_;
    CredentialService& credentials_;
    workspace::IsolationPolicy policy_;
    workspace::WorkspaceManager* workspaces_;
    std::function<bool(const std::string&)> runs_here_;

    struct CachedList {
        std::uint64_t storage_generation;
        std::uint64_t lock_generation;
        std::shared_ptr<const std::string> body;
    };
    std::mutex cache_mutex_;  // guards list_cache_
    std::unordered_map<std::string, CachedList> list_cache_;
};

}  // namespace agentd::service
