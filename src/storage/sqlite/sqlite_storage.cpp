#include "storage/sqlite/sqlite_storage.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/embedded_assets.hpp"
#include "common/json.hpp"
#include "storage/sqlite/message_layout.hpp"

namespace agentd::storage::sqlite {

using domain::AgentRecord;
using domain::CredentialRecord;
using domain::SessionRecord;
using domain::SessionState;

namespace {

// Objects and arrays are written as they are: through a bj::value parameter they would be copied first.
std::string to_text(const bj::value& v) { return json::write(v); }
std::string to_text(const bj::object& o) { return json::write(o); }
bj::object parse_object(const std::string& text) { return json::parse_trusted(text).as_object(); }

constexpr const char* kSessionColumns =
    "id, user_id, agent_id, source, source_schedule_id, source_chat_id, source_channel_id, team_id, "
    "created_us, updated_us, config, state_session_id, summary, reply_context, permission_context, "
    "tool_context, tasks_context, middle_context, tail_status";

SessionRecord read_session_row(Statement& st) {
    SessionRecord r;
    r.id = st.text(0);
    r.user_id = st.text(1);
    r.agent_id = st.text(2);
    r.source = st.text(3);
    r.source_schedule_id = st.opt_text(4);
    r.source_chat_id = st.opt_text(5);
    r.source_channel_id = st.opt_text(6);
    r.team_id = st.opt_text(7);
    r.created_us = st.int64(8);
    r.updated_us = st.int64(9);
    r.config = parse_object(st.text(10));
    r.state.session_id = st.text(11);
    r.state.summary = json::parse_trusted(st.text(12));
    r.state.reply_context = parse_object(st.text(13));
    r.state.permission_context = parse_object(st.text(14));
    r.state.tool_context = parse_object(st.text(15));
    r.state.tasks_context = parse_object(st.text(16));
    r.state.middle_context = parse_object(st.text(17));
    r.tail_status = st.text(18);
    return r;
}

/// A message store's statements, spelled once: they run at every step.
struct StoreSql {
    std::string find;    ///< (session_id, msg_id) -> seq, content_at of the rows with that id
    std::string update;  ///< payload, content_at, session_id, seq
    std::string insert;  ///< see insert_row for the parameters; RETURNING seq
};

const StoreSql& sql_of(MessageStore store) {
    auto make = [](const std::string& table, const std::string& columns, const std::string& values) {
        const std::string next = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM " + table + " WHERE session_id = ?)";
        return StoreSql{"SELECT seq, content_at FROM " + table + " WHERE session_id = ? AND msg_id = ?",
                        "UPDATE " + table + " SET payload = ?, content_at = ? WHERE session_id = ? AND seq = ?",
                        "INSERT INTO " + table + " (" + columns + ") VALUES (?, " + next + ", " + values +
                            ") RETURNING seq"};
    };
    static const StoreSql log = make("messages", "session_id, seq, msg_id, created_at, payload, content_at", "?, ?, ?, ?");
    static const StoreSql context = make("session_context", "session_id, seq, msg_id, payload, content_at", "?, ?, ?");
    return store == MessageStore::kLog ? log : context;
}

AgentRecord read_agent_row(Statement& st) {
    AgentRecord r;
    r.id = st.text(0);
    r.user_id = st.text(1);
    r.source = st.text(2);
    r.created_us = st.int64(3);
    r.updated_us = st.int64(4);
    r.data = parse_object(st.text(5));
    return r;
}

std::optional<AgentRecord> find_agent(Connection& c, const std::string& user_id, const std::string& id) {
    auto st = c.prepare(
        "SELECT id, user_id, source, created_us, updated_us, data FROM agents WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, id);
    if (!st.step()) return std::nullopt;
    return read_agent_row(st);
}

}  // namespace

SqliteStorage::SqliteStorage(const std::filesystem::path& db_file, SecretBox secrets, std::size_t pool_size,
                             int checkpoint_pages)
    : pool_(db_file.string(), pool_size, checkpoint_pages), secrets_(std::move(secrets)) {}

int SqliteStorage::migrate() {
    auto c = pool_.acquire();
    c->exec_script("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)");
    int applied = 0;
    for (const auto& asset : assets::all()) {
        if (asset.path.rfind("migrations/", 0) != 0) continue;
        std::string name(asset.path.substr(std::string_view("migrations/").size()));
        int version = std::stoi(name.substr(0, name.find('_')));
        Transaction tx(*c);
        auto check = c->prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
        check.bind(1, static_cast<std::int64_t>(version));
        bool done = check.step();
        if (done) continue;
        c->exec_script(std::string(asset.data));
        c->prepare("INSERT INTO schema_migrations (version, name, applied_us) VALUES (?, ?, ?)")
            .bind(1, static_cast<std::int64_t>(version)).bind(2, name).bind(3, clock::now_us()).exec();
        tx.commit();
        spdlog::info("applied migration {}", name);
        ++applied;
    }
    return applied;
}

bool SqliteStorage::healthy() {
    // No I/O here: /health runs on an io thread. The database was opened and
    // migrated at start; later failures surface on the requests that hit them.
    return true;
}

// ---- credentials ---------------------------------------------------------------

CredentialRecord SqliteStorage::read_credential(Statement& st) {
    CredentialRecord r;
    r.user_id = st.text(0);
    r.id = st.text(1);
    r.created_us = st.int64(2);
    r.updated_us = st.int64(3);
    r.data = parse_object(st.text(4));
    auto secrets = parse_object(secrets_.open(st.text(5)));
    for (auto& kv : secrets) r.data[kv.key()] = kv.value();
    return r;
}

CredentialRecord SqliteStorage::upsert_credential(CredentialRecord rec) {
    auto c = pool_.acquire();
    Transaction tx(*c);
    const std::int64_t now = clock::now_us();
    {
        auto existing = c->prepare("SELECT created_us FROM credentials WHERE user_id = ? AND id = ?");
        existing.bind(1, rec.user_id).bind(2, rec.id);
        rec.created_us = existing.step() ? existing.int64(0) : (rec.created_us ? rec.created_us : now);
    }
    write_credential(*c, rec, now);
    tx.commit();
    bump();
    return rec;
}

std::optional<CredentialRecord> SqliteStorage::update_credential(
    const std::string& user_id, const std::string& id,
    const std::function<bj::object(const CredentialRecord&)>& change) {
    auto c = pool_.acquire();
    Transaction tx(*c);
    auto rec = find_credential(*c, user_id, id);
    if (!rec) return std::nullopt;
    rec->data = change(*rec);
    write_credential(*c, *rec, clock::now_us());
    tx.commit();
    bump();
    return rec;
}

void SqliteStorage::write_credential(Connection& c, CredentialRecord& rec, std::int64_t now) {
    std::string type(rec.data.at("type").as_string());
    std::string name = rec.data.at("name").is_string() ? std::string(rec.data.at("name").as_string()) : "";
    if (name.empty()) {
        // First free "Base", "Base (2)", ... among this user's other credentials of the type.
        std::string base = domain::credential_base_name(type);
        auto st = c.prepare("SELECT name FROM credentials WHERE user_id = ? AND type = ? AND id <> ?");
        st.bind(1, rec.user_id).bind(2, type).bind(3, rec.id);
        std::vector<std::string> taken;
        while (st.step()) taken.push_back(st.text(0));
        auto is_taken = [&](const std::string& n) { return std::find(taken.begin(), taken.end(), n) != taken.end(); };
        name = base;
        for (int i = 2; is_taken(name); ++i) name = base + " (" + std::to_string(i) + ")";
        rec.data["name"] = name;
    }
    bj::object public_data = rec.data;
    bj::object secrets;
    for (const auto& f : domain::secret_fields(rec.data)) {
        auto it = public_data.find(f);
        if (it == public_data.end()) continue;
        secrets[f] = it->value();
        it->value() = "";
    }
    rec.updated_us = now;
    c.prepare(
         "INSERT INTO credentials (user_id, id, type, name, created_us, updated_us, data, secrets) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, id) DO UPDATE SET type = excluded.type, "
         "name = excluded.name, updated_us = excluded.updated_us, data = excluded.data, secrets = excluded.secrets")
        .bind(1, rec.user_id).bind(2, rec.id).bind(3, type).bind(4, name).bind(5, rec.created_us)
        .bind(6, rec.updated_us).bind(7, to_text(public_data)).bind_blob(8, secrets_.seal(to_text(secrets)))
        .exec();
}

std::vector<CredentialRecord> SqliteStorage::list_credentials(const std::string& user_id) {
    auto c = pool_.acquire();
    auto st = c->prepare(
        "SELECT user_id, id, created_us, updated_us, data, secrets FROM credentials WHERE user_id = ? "
        "ORDER BY created_us, id");
    st.bind(1, user_id);
    std::vector<CredentialRecord> out;
    while (st.step()) out.push_back(read_credential(st));
    return out;
}

std::optional<CredentialRecord> SqliteStorage::find_credential(Connection& c, const std::string& user_id,
                                                               const std::string& id) {
    auto st = c.prepare(
        "SELECT user_id, id, created_us, updated_us, data, secrets FROM credentials WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, id);
    if (!st.step()) return std::nullopt;
    return read_credential(st);
}

std::optional<CredentialRecord> SqliteStorage::get_credential(const std::string& user_id, const std::string& id) {
    auto c = pool_.acquire();
    return find_credential(*c, user_id, id);
}

bool SqliteStorage::delete_credential(const std::string& user_id, const std::string& id) {
    auto c = pool_.acquire();
    int n = c->prepare("DELETE FROM credentials WHERE user_id = ? AND id = ?").bind(1, user_id).bind(2, id).exec();
    bump();
    return n > 0;
}

bool SqliteStorage::credential_id_in_use(const std::string& id) {
    auto c = pool_.acquire();
    auto st = c->prepare("SELECT 1 FROM credentials WHERE id = ? LIMIT 1");
    st.bind(1, id);
    return st.step();
}

// ---- agents ---------------------------------------------------------------------

void SqliteStorage::insert_agent(const AgentRecord& rec) {
    auto c = pool_.acquire();
    c->prepare("INSERT INTO agents (id, user_id, source, created_us, updated_us, data) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, rec.id).bind(2, rec.user_id).bind(3, rec.source).bind(4, rec.created_us)
        .bind(5, rec.updated_us).bind(6, to_text(rec.data)).exec();
    bump();
}

std::optional<AgentRecord> SqliteStorage::update_agent(const std::string& user_id, const std::string& id,
                                                      const std::function<void(AgentRecord&)>& change) {
    auto c = pool_.acquire();
    Transaction tx(*c);
    auto rec = find_agent(*c, user_id, id);
    if (!rec) return std::nullopt;
    change(*rec);
    c->prepare("UPDATE agents SET data = ?, updated_us = ? WHERE user_id = ? AND id = ?")
        .bind(1, to_text(rec->data)).bind(2, rec->updated_us).bind(3, user_id).bind(4, id).exec();
    tx.commit();
    bump();
    return rec;
}

std::vector<AgentRecord> SqliteStorage::list_agents(const std::string& user_id) {
    auto c = pool_.acquire();
    auto st = c->prepare(
        "SELECT id, user_id, source, created_us, updated_us, data FROM agents WHERE user_id = ? AND source = 'user' "
        "ORDER BY created_us, id");
    st.bind(1, user_id);
    std::vector<AgentRecord> out;
    while (st.step()) out.push_back(read_agent_row(st));
    return out;
}

std::optional<AgentRecord> SqliteStorage::get_agent(const std::string& user_id, const std::string& id) {
    auto c = pool_.acquire();
    return find_agent(*c, user_id, id);
}

bool SqliteStorage::delete_agent(const std::string& user_id, const std::string& id) {
    auto c = pool_.acquire();
    Transaction tx(*c);
    {
        auto exists = c->prepare("SELECT 1 FROM agents WHERE user_id = ? AND id = ?");
        exists.bind(1, user_id).bind(2, id);
        if (!exists.step()) return false;
    }
    std::vector<std::string> sessions;
    {
        auto st = c->prepare("SELECT id FROM sessions WHERE user_id = ? AND agent_id = ?");
        st.bind(1, user_id).bind(2, id);
        while (st.step()) sessions.push_back(st.text(0));
    }
    for (const auto& s : sessions) delete_session_rows(*c, s);
    int n = c->prepare("DELETE FROM agents WHERE user_id = ? AND id = ?").bind(1, user_id).bind(2, id).exec();
    tx.commit();
    bump();
    return n > 0;
}

// ---- sessions -------------------------------------------------------------------

bool SqliteStorage::insert_session(const SessionRecord& r) {
    auto c = pool_.acquire();
    int n = c->prepare(std::string("INSERT INTO sessions (") + kSessionColumns +
               ") SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
               "WHERE EXISTS (SELECT 1 FROM agents WHERE user_id = ?20 AND id = ?21)")
        .bind(1, r.id).bind(2, r.user_id).bind(3, r.agent_id).bind(4, r.source).bind(5, r.source_schedule_id)
        .bind(6, r.source_chat_id).bind(7, r.source_channel_id).bind(8, r.team_id).bind(9, r.created_us)
        .bind(10, r.updated_us).bind(11, to_text(r.config)).bind(12, r.state.session_id)
        .bind(13, to_text(r.state.summary)).bind(14, to_text(r.state.reply_context))
        .bind(15, to_text(r.state.permission_context)).bind(16, to_text(r.state.tool_context))
        .bind(17, to_text(r.state.tasks_context)).bind(18, to_text(r.state.middle_context))
        .bind(19, r.tail_status).bind(20, r.user_id).bind(21, r.agent_id).exec();
    if (n > 0) bump();
    return n > 0;
}

std::optional<SessionRecord> SqliteStorage::update_session(const std::string& user_id, const std::string& id,
                                                           const bj::object& config, const SessionState* state) {
    auto c = pool_.acquire();
    Transaction tx(*c);
    std::int64_t now = clock::now_us();
    int n;
    if (state) {
        n = c->prepare(
                 "UPDATE sessions SET config = ?, updated_us = ?, state_session_id = ?, summary = ?, "
                 "reply_context = ?, permission_context = ?, tool_context = ?, tasks_context = ?, "
                 "middle_context = ? WHERE user_id = ? AND id = ?")
                .bind(1, to_text(config)).bind(2, now).bind(3, state->session_id).bind(4, to_text(state->summary))
                .bind(5, to_text(state->reply_context)).bind(6, to_text(state->permission_context))
                .bind(7, to_text(state->tool_context)).bind(8, to_text(state->tasks_context))
                .bind(9, to_text(state->middle_context)).bind(10, user_id).bind(11, id).exec();
    } else {
        n = c->prepare("UPDATE sessions SET config = ?, updated_us = ? WHERE user_id = ? AND id = ?")
                .bind(1, to_text(config)).bind(2, now).bind(3, user_id).bind(4, id).exec();
    }
    if (n == 0) return std::nullopt;
    auto st = c->prepare(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, id);
    st.step();
    auto rec = read_session_row(st);
    tx.commit();
    bump();
    return rec;
}

std::optional<SessionRecord> SqliteStorage::get_session(const std::string& user_id, const std::string& id,
                                                        bool with_context) {
    auto c = pool_.acquire();
    std::optional<ReadSnapshot> snapshot;
    if (with_context) snapshot.emplace(*c);  // the state and the context of one step
    std::optional<SessionRecord> rec;
    {
        auto st = c->prepare(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE user_id = ? AND id = ?");
        st.bind(1, user_id).bind(2, id);
        if (!st.step()) return std::nullopt;
        rec = read_session_row(st);
    }
    if (with_context) {
        bj::array ctx;
        std::vector<StoredRow> rows;
        {
            auto st = c->prepare("SELECT seq, payload, content_at FROM session_context WHERE session_id = ? ORDER BY seq");
            st.bind(1, id);
            while (st.step()) rows.push_back({st.int64(0), st.text(1), st.int64(2)});
        }
        assemble_rows(*c, MessageStore::kContext, id, rows);
        for (const auto& row : rows) ctx.push_back(json::parse_trusted(row.text));
        rec->context = std::move(ctx);
    }
    return rec;
}

std::vector<SessionRecord> SqliteStorage::list_sessions(const std::string& user_id, const std::string& agent_id) {
    auto c = pool_.acquire();
    auto st = c->prepare(std::string("SELECT ") + kSessionColumns +
                         " FROM sessions WHERE user_id = ? AND agent_id = ? ORDER BY created_us DESC, id DESC");
    st.bind(1, user_id).bind(2, agent_id);
    std::vector<SessionRecord> out;
    while (st.step()) out.push_back(read_session_row(st));
    return out;
}

std::vector<std::string> SqliteStorage::list_session_ids(const std::string& user_id, const std::string& agent_id) {
    auto c = pool_.acquire();
    auto st = c->prepare("SELECT id FROM sessions WHERE user_id = ? AND agent_id = ?");
    st.bind(1, user_id).bind(2, agent_id);
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

void SqliteStorage::delete_session_rows(Connection& c, const std::string& id) {
    c.prepare("DELETE FROM message_blocks WHERE session_id = ?").bind(1, id).exec();
    c.prepare("DELETE FROM session_context WHERE session_id = ?").bind(1, id).exec();
    c.prepare("DELETE FROM messages WHERE session_id = ?").bind(1, id).exec();
    c.prepare("DELETE FROM sessions WHERE id = ?").bind(1, id).exec();
}

bool SqliteStorage::delete_session(const std::string& user_id, const std::string& id) {
    auto c = pool_.acquire();
    Transaction tx(*c);
    if (!session_owned(*c, user_id, id)) return false;
    delete_session_rows(*c, id);
    tx.commit();
    bump();
    return true;
}

bool SqliteStorage::session_owned(Connection& c, const std::string& user_id, const std::string& session_id) {
    auto st = c.prepare("SELECT 1 FROM sessions WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, session_id);
    return st.step();
}

// ---- message log ----------------------------------------------------------------

void SqliteStorage::assemble_rows(Connection& c, MessageStore store, const std::string& session_id,
                                  std::vector<StoredRow>& rows) {
    std::int64_t low = 0, high = -1;
    for (const auto& row : rows) {
        if (row.content_at < 0) continue;
        if (high < low) low = high = row.seq;
        low = std::min(low, row.seq);
        high = std::max(high, row.seq);
    }
    if (high < low) return;  // every row is whole
    // One range query for every split row, rather than one query per row.
    std::unordered_map<std::int64_t, std::vector<std::string>> blocks;
    {
        auto st = c.prepare(
            "SELECT seq, payload FROM message_blocks WHERE session_id = ? AND store = ? AND seq BETWEEN ? AND ? "
            "ORDER BY seq, idx");
        st.bind(1, session_id).bind(2, static_cast<std::int64_t>(store)).bind(3, low).bind(4, high);
        while (st.step()) blocks[st.int64(0)].push_back(st.text(1));
    }
    for (auto& row : rows)
        if (row.content_at >= 0) row.text = assemble(row.text, row.content_at, blocks[row.seq]);
}

void SqliteStorage::write_blocks(Connection& c, MessageStore store, const std::string& session_id, std::int64_t seq,
                                 bool stored_split, MessageLayout& layout) {
    const auto& blocks = layout.blocks;
    const auto store_code = static_cast<std::int64_t>(store);
    std::vector<std::string> stored;  // digest by position
    bool contiguous = true;           // positions 0, 1, 2, ... as this function leaves them
    if (stored_split) {
        auto st = c.prepare(
            "SELECT idx, digest FROM message_blocks WHERE session_id = ? AND store = ? AND seq = ? ORDER BY idx");
        st.bind(1, session_id).bind(2, store_code).bind(3, seq);
        while (st.step()) {
            if (st.int64(0) != static_cast<std::int64_t>(stored.size())) contiguous = false;
            stored.push_back(st.text(1));
        }
    }
    if (!contiguous) {  // not what this code writes: start the row's blocks afresh
        c.prepare("DELETE FROM message_blocks WHERE session_id = ? AND store = ? AND seq = ?")
            .bind(1, session_id).bind(2, store_code).bind(3, seq).exec();
        stored.clear();
    }
    std::uint64_t written = 0;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        std::string& digest = layout.digests[i];
        if (digest.empty()) digest = block_digest(blocks[i]);
        if (i < stored.size() && stored[i] == digest) continue;
        c.prepare(
             "INSERT INTO message_blocks (session_id, store, seq, idx, digest, payload) VALUES (?, ?, ?, ?, ?, ?) "
             "ON CONFLICT (session_id, store, seq, idx) DO UPDATE SET digest = excluded.digest, payload = excluded.payload")
            .bind(1, session_id).bind(2, store_code).bind(3, seq).bind(4, static_cast<std::int64_t>(i))
            .bind_blob(5, digest).bind(6, blocks[i]).exec();
        ++written;
    }
    if (stored.size() > blocks.size())
        c.prepare("DELETE FROM message_blocks WHERE session_id = ? AND store = ? AND seq = ? AND idx >= ?")
            .bind(1, session_id).bind(2, store_code).bind(3, seq).bind(4, static_cast<std::int64_t>(blocks.size()))
            .exec();
    blocks_written_.fetch_add(written, std::memory_order_relaxed);
}

void SqliteStorage::upsert_row(Connection& c, MessageStore store, const std::string& session_id,
                               const bj::object& msg) {
    const StoreSql& sql = sql_of(store);
    std::string msg_id = msg.contains("id") && msg.at("id").is_string() ? std::string(msg.at("id").as_string()) : "";
    // A message stored split before is most likely the reply of a running turn:
    // its earlier blocks come from the memo instead of being written out again.
    // Only a list of several blocks can be split; other messages skip the memo.
    const auto* content = msg.if_contains("content");
    const bool may_split = content && content->is_array() && content->get_array().size() >= 2;
    std::string memo_key;
    std::unique_ptr<BlockMemo> memo;
    if (may_split) {
        memo_key = std::to_string(static_cast<std::int64_t>(store)) + '\n' + session_id + '\n' + msg_id;
        memo = memos_.take(memo_key);
    }
    MessageLayout layout = lay_out(msg, kSplitFromBytes, memo.get());
    // The rows holding this id already (one; a context written by an older
    // version may repeat an id, and every copy is replaced, as before).
    std::vector<std::pair<std::int64_t, bool>> rows;  // seq, stored split
    {
        auto st = c.prepare(sql.find);
        st.bind(1, session_id).bind(2, msg_id);
        while (st.step()) rows.emplace_back(st.int64(0), st.int64(1) >= 0);
    }
    for (const auto& [seq, stored_split] : rows) {
        c.prepare(sql.update)
            .bind(1, layout.head).bind(2, layout.content_at).bind(3, session_id).bind(4, seq).exec();
        if (stored_split || layout.split()) write_blocks(c, store, session_id, seq, stored_split, layout);
    }
    if (rows.empty()) insert_row(c, store, session_id, msg_id, msg, layout);
    if (layout.split()) memos_.put(memo_key, std::make_unique<BlockMemo>(remember(msg, std::move(layout), memo.get())));
}

void SqliteStorage::insert_row(Connection& c, MessageStore store, const std::string& session_id,
                               const std::string& msg_id, const bj::object& msg, MessageLayout& layout) {
    std::int64_t seq = 0;
    {
        auto st = c.prepare(sql_of(store).insert);
        st.bind(1, session_id).bind(2, session_id).bind(3, msg_id);
        int next = 4;
        std::string created;
        if (store == MessageStore::kLog) {  // the log also keeps the creation time in a column
            if (msg.contains("created_at") && msg.at("created_at").is_string())
                created = std::string(msg.at("created_at").as_string());
            st.bind(next++, created);
        }
        st.bind(next, layout.head).bind(next + 1, layout.content_at);
        if (st.step()) seq = st.int64(0);
    }
    if (layout.split()) write_blocks(c, store, session_id, seq, false, layout);
}

void SqliteStorage::upsert_message(const std::string& user_id, const std::string& session_id, const bj::object& msg) {
    auto c = pool_.acquire();
    Transaction tx(*c);
    if (!session_owned(*c, user_id, session_id)) return;
    upsert_row(*c, MessageStore::kLog, session_id, msg);
    tx.commit();
    bump();
}

bool SqliteStorage::persist_step(const std::string& user_id, const std::string& session_id, const StepDelta& d) {
    bool owned = false;
    const std::function<void(Connection&)> work = [&](Connection& c) {
        owned = session_owned(c, user_id, session_id);
        if (!owned) return;
        if (d.replace_context) {
            c.prepare("DELETE FROM message_blocks WHERE session_id = ? AND store = ?")
                .bind(1, session_id).bind(2, static_cast<std::int64_t>(MessageStore::kContext)).exec();
            c.prepare("DELETE FROM session_context WHERE session_id = ?").bind(1, session_id).exec();
        }
        for (const auto& m : d.context_upserts) upsert_row(c, MessageStore::kContext, session_id, m.get());
        for (const auto& m : d.log_upserts) upsert_row(c, MessageStore::kLog, session_id, m.get());
        std::int64_t now = clock::now_us();
        if (d.state) {
            const auto& st = *d.state;
            // The tail status rides along (COALESCE keeps the stored one): one statement per step.
            c.prepare(
                 "UPDATE sessions SET updated_us = ?, state_session_id = ?, summary = ?, reply_context = ?, "
                 "permission_context = ?, tool_context = ?, tasks_context = ?, middle_context = ?, "
                 "tail_status = COALESCE(?, tail_status) WHERE id = ?")
                .bind(1, now).bind(2, st.session_id).bind(3, to_text(st.summary)).bind(4, to_text(st.reply_context))
                .bind(5, to_text(st.permission_context)).bind(6, to_text(st.tool_context))
                .bind(7, to_text(st.tasks_context)).bind(8, to_text(st.middle_context))
                .bind(9, d.tail_status).bind(10, session_id).exec();
        } else if (d.tail_status)
            c.prepare("UPDATE sessions SET tail_status = ? WHERE id = ?").bind(1, *d.tail_status).bind(2, session_id).exec();
    };
    step_commits_.run(work);
    if (owned) bump();
    return owned;
}

std::optional<bj::object> SqliteStorage::get_message(const std::string& user_id, const std::string& session_id,
                                                     const std::string& message_id) {
    auto c = pool_.acquire();
    const ReadSnapshot snapshot(*c);
    if (!session_owned(*c, user_id, session_id)) return std::nullopt;
    std::vector<StoredRow> rows;
    {
        auto st = c->prepare("SELECT seq, payload, content_at FROM messages WHERE session_id = ? AND msg_id = ?");
        st.bind(1, session_id).bind(2, message_id);
        if (!st.step()) return std::nullopt;
        rows.push_back({st.int64(0), st.text(1), st.int64(2)});
    }
    assemble_rows(*c, MessageStore::kLog, session_id, rows);
    return parse_object(rows.front().text);
}

std::optional<bj::object> SqliteStorage::get_message_without_content(const std::string& user_id,
                                                                     const std::string& session_id,
                                                                     const std::string& message_id) {
    auto c = pool_.acquire();
    const ReadSnapshot snapshot(*c);
    if (!session_owned(*c, user_id, session_id)) return std::nullopt;
    // A split row's head is the message with an empty content list; a whole
    // row is short (under kSplitFromBytes) or was written before the split.
    auto st = c->prepare("SELECT payload FROM messages WHERE session_id = ? AND msg_id = ?");
    st.bind(1, session_id).bind(2, message_id);
    if (!st.step()) return std::nullopt;
    bj::object msg = parse_object(st.text(0));
    msg.erase("content");
    return msg;
}

MessagePage SqliteStorage::list_messages(const std::string& user_id, const std::string& session_id, int limit,
                                         const std::optional<std::string>& before) {
    auto c = pool_.acquire();
    const ReadSnapshot snapshot(*c);
    MessagePage page;
    if (!session_owned(*c, user_id, session_id)) return page;
    std::int64_t upper = INT64_MAX;
    if (before) {
        auto st = c->prepare("SELECT seq FROM messages WHERE session_id = ? AND msg_id = ?");
        st.bind(1, session_id).bind(2, *before);
        if (!st.step()) return page;  // unknown cursor: empty page
        upper = st.int64(0);
    }
    std::vector<StoredRow> rows;
    {
        auto st = c->prepare(
            "SELECT seq, payload, content_at FROM messages WHERE session_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?");
        st.bind(1, session_id).bind(2, upper).bind(3, static_cast<std::int64_t>(limit) + 1);
        while (st.step()) rows.push_back({st.int64(0), st.text(1), st.int64(2)});
    }
    assemble_rows(*c, MessageStore::kLog, session_id, rows);
    for (const auto& row : rows) page.messages.push_back(parse_object(row.text));
    if (static_cast<int>(page.messages.size()) > limit) {
        page.has_more = true;
        page.messages.pop_back();
    }
    std::reverse(page.messages.begin(), page.messages.end());
    return page;
}

}  // namespace agentd::storage::sqlite
