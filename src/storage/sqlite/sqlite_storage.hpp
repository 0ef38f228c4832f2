#pragma once
#include <atomic>
#include <filesystem>
#include <memory>

#include "common/secret_box.hpp"
#include "storage/sqlite/group_commit.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/storage.hpp"

namespace agentd::storage::sqlite {

/// The embedded backend: one SQLite file in WAL mode, a pool of connections (one
/// per blocking thread), secrets sealed with SecretBox.
class SqliteStorage final : public Storage {
public:
    SqliteStorage(const std::filesystem::path& db_file, SecretBox secrets, std::size_t pool_size);

    /// Applies the embedded numbered migrations not yet recorded; returns how many ran.
    int migrate();

    domain::CredentialRecord upsert_credential(domain::CredentialRecord rec) override;
    std::vector<domain::CredentialRecord> list_credentials(const std::string& user_id) override;
    std::optional<domain::CredentialRecord> get_credential(const std::string& user_id,
                                                           const std::string& id) override;
    bool delete_credential(const std::string& user_id, const std::string& id) override;
    bool credential_id_in_use(const std::string& id) override;

    void insert_agent(const domain::AgentRecord& rec) override;
    bool update_agent(const domain::AgentRecord& rec) override;
    std::vector<domain::AgentRecord> list_agents(const std::string& user_id) override;
    std::optional<domain::AgentRecord> get_agent(const std::string& user_id, const std::string& id) override;
    bool delete_agent(const std::string& user_id, const std::string& id) override;

    bool insert_session(const domain::SessionRecord& rec) override;
    std::optional<domain::SessionRecord> update_session(const std::string& user_id, const std::string& id,
                                                        const bj::object& config,
                                                        const domain::SessionState* state) override;
    std::optional<domain::SessionRecord> get_session(const std::string& user_id, const std::string& id,
                                                     bool with_context) override;
    std::vector<domain::SessionRecord> list_sessions(const std::string& user_id,
                                                     const std::string& agent_id) override;
    std::vector<std::string> list_session_ids(const std::string& user_id, const std::string& agent_id) override;
    bool delete_session(const std::string& user_id, const std::string& id) override;

    void upsert_message(const std::string& user_id, const std::string& session_id,
                        const bj::object& msg) override;
    MessagePage list_messages(const std::string& user_id, const std::string& session_id, int limit,
                              const std::optional<std::string>& before) override;

    bool persist_step(const std::string& user_id, const std::string& session_id, const StepDelta& delta) override;
    std::optional<bj::object> get_message(const std::string& user_id, const std::string& session_id,
                                          const std::string& message_id) override;

    std::optional<std::uint64_t> write_generation() const override { return generation_.load(); }
    bool healthy() override;

private:
    domain::CredentialRecord read_credential(Statement& st);
    void delete_session_rows(Connection& c, const std::string& id);
    /// Appends `msg` to `table`, or replaces in place the row with the same msg id.
    void upsert_row(Connection& c, const char* table, const std::string& session_id, const bj::object& msg);
    bool session_owned(Connection& c, const std::string& user_id, const std::string& session_id);
    void bump() { generation_.fetch_add(1, std::memory_order_release); }

    ConnectionPool pool_;
    GroupCommit step_commits_{pool_};  ///< persist_step of concurrent runs shares commits
    SecretBox secrets_;
    std::atomic<std::uint64_t> generation_{0};
};

}  // namespace agentd::storage::sqlite
