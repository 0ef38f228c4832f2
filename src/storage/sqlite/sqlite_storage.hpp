#pragma once
#include <atomic>
#include <filesystem>
#include <memory>

#include "common/secret_box.hpp"
#include "storage/sqlite/block_memos.hpp"
#include "storage/sqlite/group_commit.hpp"
#include "storage/sqlite/message_layout.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/storage.hpp"

namespace agentd::storage::sqlite {

/// Where a message row lives; the code is message_blocks.store.
enum class MessageStore : std::int64_t { kLog = 0, kContext = 1 };

/// The embedded backend: one SQLite file in WAL mode, a pool of connections (one
/// per blocking thread), secrets sealed with SecretBox.
class SqliteStorage final : public Storage {
public:
    /// `checkpoint_pages`: the write-ahead log's size past which a background
    /// thread copies it back into the database file (see WalCheckpointer).
    SqliteStorage(const std::filesystem::path& db_file, SecretBox secrets, std::size_t pool_size,
                  int checkpoint_pages = kDefaultCheckpointPages);
    /// 40 MB of log. A checkpoint copies each page the log holds once and syncs
    /// the file: the fewer checkpoints, the more rewrites of the same pages (the
    /// sessions' rows, the tail of the message tables) they coalesce. With 1,000
    /// pages a burst of 200 turns ran four checkpoints, 5% of agentd's CPU.
    static constexpr int kDefaultCheckpointPages = 10000;

    /// Applies the embedded numbered migrations not yet recorded; returns how many ran.
    int migrate();
    /// Checkpoints of the write-ahead log run so far (tests, diagnostics).
    std::uint64_t wal_checkpoints() const { return pool_.checkpointer().checkpoints(); }

    domain::CredentialRecord upsert_credential(domain::CredentialRecord rec) override;
    std::optional<domain::CredentialRecord> update_credential(
        const std::string& user_id, const std::string& id,
        const std::function<bj::object(const domain::CredentialRecord&)>& change) override;
    std::vector<domain::CredentialRecord> list_credentials(const std::string& user_id) override;
    std::optional<domain::CredentialRecord> get_credential(const std::string& user_id,
                                                           const std::string& id) override;
    bool delete_credential(const std::string& user_id, const std::string& id) override;
    bool credential_id_in_use(const std::string& id) override;

    void insert_agent(const domain::AgentRecord& rec) override;
    std::optional<domain::AgentRecord> update_agent(
        const std::string& user_id, const std::string& id,
        const std::function<void(domain::AgentRecord&)>& change) override;
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
    std::optional<bj::object> get_message_without_content(const std::string& user_id, const std::string& session_id,
                                                          const std::string& message_id) override;

    std::optional<std::uint64_t> write_generation() const override { return generation_.load(); }
    /// Content-block rows inserted or rewritten so far (tests, diagnostics).
    std::uint64_t blocks_written() const { return blocks_written_.load(std::memory_order_relaxed); }
    bool healthy() override;

private:
    domain::CredentialRecord read_credential(Statement& st);
    std::optional<domain::CredentialRecord> find_credential(Connection& c, const std::string& user_id,
                                                            const std::string& id);
    /// Names (when unnamed), seals and writes `rec`, updated at `now`, inside the caller's transaction.
    void write_credential(Connection& c, domain::CredentialRecord& rec, std::int64_t now);
    void delete_session_rows(Connection& c, const std::string& id);
    /// Appends `msg` to its store, or replaces in place the row with the same msg id
    /// (split into blocks as message_layout.hpp describes).
    void upsert_row(Connection& c, MessageStore store, const std::string& session_id, const bj::object& msg);
    /// Writes a split row's blocks: those whose digest differs from the stored one's,
    /// and drops stored blocks past the end. `stored_split`: the row had blocks before.
    void write_blocks(Connection& c, MessageStore store, const std::string& session_id, std::int64_t seq,
                      bool stored_split, MessageLayout& layout);
    /// Appends the row of a message whose id the store does not hold yet.
    void insert_row(Connection& c, MessageStore store, const std::string& session_id, const std::string& msg_id,
                    const bj::object& msg, MessageLayout& layout);
    /// A message row as read: its payload (the whole message, or its head) and content_at.
    struct StoredRow {
        std::int64_t seq;
        std::string text;
        std::int64_t content_at;
    };
    /// Turns the split rows among `rows` (one store, one session) into whole messages,
    /// with one query for all their blocks.
    void assemble_rows(Connection& c, MessageStore store, const std::string& session_id, std::vector<StoredRow>& rows);
    bool session_owned(Connection& c, const std::string& user_id, const std::string& session_id);
    void bump() { generation_.fetch_add(1, std::memory_order_release); }

    ConnectionPool pool_;
    GroupCommit step_commits_{pool_};  ///< persist_step of concurrent runs shares commits
    SecretBox secrets_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> blocks_written_{0};
    BlockMemos memos_;  ///< what the blocks of recently stored long messages were made into
};

}  // namespace agentd::storage::sqlite
