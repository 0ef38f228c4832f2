#pragma once
// The persistence seam. Every method is blocking and must be called off the io
// threads (the HTTP layer runs handlers on the blocking pool). Every read and
// write is scoped by the owner's user id; a record of another user is "absent".
//
// Backends: sqlite/ (embedded default). A PostgreSQL backend implements the same
// interface: every query here is a plain indexed statement with no SQLite-only SQL.
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/agent.hpp"
#include "domain/credential.hpp"
#include "domain/session.hpp"

namespace agentd::storage {

namespace bj = boost::json;

/// A message a step stores: the step's own, or one borrowed from the caller,
/// who keeps it alive and unchanged until persist_step returns. A run borrows
/// its reply and context (it waits for the step), so that a step does not copy
/// and free a reply that grows through the turn.
class MessageRef {
public:
    MessageRef(bj::object owned) : message_(std::move(owned)) {}  // NOLINT: implicit, a message is a ref
    static MessageRef borrowed(const bj::object& m) { return MessageRef(&m); }
    static MessageRef borrowed(const bj::object&&) = delete;  // a temporary would be gone before the write
    const bj::object& get() const {
        const auto* borrowed = std::get_if<const bj::object*>(&message_);
        return borrowed ? **borrowed : std::get<bj::object>(message_);
    }

private:
    explicit MessageRef(const bj::object* m) : message_(m) {}
    std::variant<bj::object, const bj::object*> message_;
};

/// What one agent step changed, written in one transaction. Its cost depends on
/// the size of the change, never on the length of the conversation.
struct StepDelta {
    std::vector<MessageRef> context_upserts;  ///< state.context messages, appended or replaced by id
    std::vector<MessageRef> log_upserts;      ///< message-log messages, appended or replaced by id
    std::optional<domain::SessionState> state;  ///< the small state, when it changed
    std::optional<std::string> tail_status;     ///< derived status of the context's tail
    /// When set, the whole context is replaced by `context_upserts` (compaction).
    bool replace_context = false;
};

struct MessagePage {
    std::vector<bj::object> messages;  ///< oldest first
    bool has_more = false;
};

class Storage {
public:
    virtual ~Storage() = default;

    // Credentials. Ids are per user: two users may hold the same client-chosen id.
    /// Creates or replaces (user, rec.id). An empty name is auto-named
    /// ("Openai", "Openai (2)", ...) atomically with the write. Returns the stored record.
    virtual domain::CredentialRecord upsert_credential(domain::CredentialRecord rec) = 0;
    virtual std::vector<domain::CredentialRecord> list_credentials(const std::string& user_id) = 0;
    virtual std::optional<domain::CredentialRecord> get_credential(const std::string& user_id,
                                                                   const std::string& id) = 0;
    /// Changes (user, id) in one write transaction: `change` gets the stored
    /// record and returns its new data (it may throw: then nothing is written).
    /// The name is auto-assigned as by upsert. nullopt when absent: an update
    /// never brings back a credential deleted meanwhile.
    virtual std::optional<domain::CredentialRecord> update_credential(
        const std::string& user_id, const std::string& id,
        const std::function<bj::object(const domain::CredentialRecord&)>& change) = 0;
    virtual bool delete_credential(const std::string& user_id, const std::string& id) = 0;
    /// Whether any user holds a credential with this id.
    virtual bool credential_id_in_use(const std::string& id) = 0;

    // Agents.
    virtual void insert_agent(const domain::AgentRecord& rec) = 0;
    /// Changes (user, id) in one write transaction: `change` edits the stored
    /// record's data and updated_us (it may throw: then nothing is written), so
    /// two concurrent updates of different fields both land. Returns the stored
    /// result; nullopt when absent.
    virtual std::optional<domain::AgentRecord> update_agent(
        const std::string& user_id, const std::string& id,
        const std::function<void(domain::AgentRecord&)>& change) = 0;
    /// Agents with source "user" (team workers are never listed), oldest first.
    virtual std::vector<domain::AgentRecord> list_agents(const std::string& user_id) = 0;
    virtual std::optional<domain::AgentRecord> get_agent(const std::string& user_id,
                                                         const std::string& id) = 0;
    /// Deletes the agent with its sessions (and their context and messages) in
    /// one transaction. False when the agent was absent.
    virtual bool delete_agent(const std::string& user_id, const std::string& id) = 0;

    // Sessions.
    /// Inserts the session only while its agent exists (checked in the same
    /// transaction, so a concurrent agent delete cannot leave an orphan). False when
    /// the agent is gone.
    virtual bool insert_session(const domain::SessionRecord& rec) = 0;
    /// Replaces config and, when given, the small state; refreshes updated_at.
    /// Returns the updated record (without context), or nullopt when absent.
    virtual std::optional<domain::SessionRecord> update_session(
        const std::string& user_id, const std::string& id, const bj::object& config,
        const domain::SessionState* state) = 0;
    virtual std::optional<domain::SessionRecord> get_session(const std::string& user_id,
                                                             const std::string& id,
                                                             bool with_context) = 0;
    /// Sessions of (user, agent), newest first, without context (reads no conversation bytes).
    virtual std::vector<domain::SessionRecord> list_sessions(const std::string& user_id,
                                                             const std::string& agent_id) = 0;
    virtual std::vector<std::string> list_session_ids(const std::string& user_id,
                                                      const std::string& agent_id) = 0;
    /// Deletes the session, its context and its message log in one transaction.
    virtual bool delete_session(const std::string& user_id, const std::string& id) = 0;

    // The message log (UI transcript), scoped through the session's owner.
    /// Appends `msg`, or replaces in place the message with the same id.
    virtual void upsert_message(const std::string& user_id, const std::string& session_id,
                                const bj::object& msg) = 0;
    /// Up to `limit` messages before the cursor message (newest page when none).
    /// An unknown cursor gives an empty page.
    virtual MessagePage list_messages(const std::string& user_id, const std::string& session_id,
                                      int limit, const std::optional<std::string>& before) = 0;

    // The run's persistence.
    /// Applies a step's delta atomically; false when the session is gone.
    virtual bool persist_step(const std::string& user_id, const std::string& session_id,
                              const StepDelta& delta) = 0;
    /// One message of the log by id (continuation runs reload their reply).
    virtual std::optional<bj::object> get_message(const std::string& user_id, const std::string& session_id,
                                                  const std::string& message_id) = 0;
    /// The same message without its "content" member (role, timestamps,
    /// finished_reason, usage): what a launch checks of the previous reply,
    /// read without the blocks of a long one.
    virtual std::optional<bj::object> get_message_without_content(const std::string& user_id,
                                                                  const std::string& session_id,
                                                                  const std::string& message_id) = 0;

    /// Increases after every committed write made through this object; lets
    /// callers cache rendered reads. nullopt when other processes may write too.
    virtual std::optional<std::uint64_t> write_generation() const = 0;

    /// Readiness as last known, without I/O (callers may be on an io thread).
    virtual bool healthy() = 0;
};

}  // namespace agentd::storage
