// The storage::Storage contract, written once against the interface and run for every
// backend (CONVENTIONS "Every backend passes the same test suite").
//
// To add a backend, write a Backend struct like SqliteBackend below and add it to
// `Backends`. A Backend owns one fresh, migrated, empty store and offers three hooks the
// interface cannot express:
//   Storage& storage();
//   int migrate();                       // applies missing migrations again, returns how many ran
//   std::string raw_bytes();             // everything persisted, as stored (at-rest checks)
//   std::int64_t count_rows(table, column, value);   // rows left behind (cascade checks)
//   void insert_context_row(session_id, seq, msg_id, payload_json);  // seeds state.context
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/secret_box.hpp"
#include "domain/credential.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace agentd::storage {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using domain::AgentRecord;
using domain::CredentialRecord;
using domain::SessionRecord;

SecretBox test_secret_box() {
    std::array<unsigned char, SecretBox::kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 7 + 1);
    return SecretBox(key);
}

// ---- backends -----------------------------------------------------------------------

class SqliteBackend {
public:
    SqliteBackend()
        : dir_(fs::temp_directory_path() / ("agentd-storage-test-" + new_id())),
          file_((fs::create_directories(dir_), dir_ / "agentd.db")),
          storage_(file_, test_secret_box(), 2) {
        storage_.migrate();
    }
    ~SqliteBackend() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    Storage& storage() { return storage_; }
    int migrate() { return storage_.migrate(); }

    std::string raw_bytes() {
        std::string all;
        for (const auto& entry : fs::directory_iterator(dir_)) {  // the db, its -wal and -shm
            std::ifstream in(entry.path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            all += ss.str();
        }
        return all;
    }

    std::int64_t count_rows(const std::string& table, const std::string& column,
                            const std::string& value) {
        std::int64_t n = -1;
        with_db([&](sqlite3* db) {
            sqlite3_stmt* st = nullptr;
            std::string sql = "SELECT COUNT(*) FROM " + table + " WHERE " + column + " = ?";
            EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
                << sqlite3_errmsg(db);
            sqlite3_bind_text(st, 1, value.c_str(), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        });
        return n;
    }

    void insert_context_row(const std::string& session_id, std::int64_t seq,
                            const std::string& msg_id, const std::string& payload) {
        with_db([&](sqlite3* db) {
            sqlite3_stmt* st = nullptr;
            ASSERT_EQ(
                sqlite3_prepare_v2(db,
                                   "INSERT INTO session_context (session_id, seq, msg_id, payload) "
                                   "VALUES (?, ?, ?, ?)",
                                   -1, &st, nullptr),
                SQLITE_OK);
            sqlite3_bind_text(st, 1, session_id.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, seq);
            sqlite3_bind_text(st, 3, msg_id.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, payload.c_str(), -1, SQLITE_TRANSIENT);
            EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db);
            sqlite3_finalize(st);
        });
    }

private:
    template <typename F>
    void with_db(F&& f) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        f(db);
        sqlite3_close_v2(db);
    }

    fs::path dir_;
    fs::path file_;
    sqlite::SqliteStorage storage_;
};

using Backends = ::testing::Types<SqliteBackend>;

// ---- fixture and builders -------------------------------------------------------------

template <typename B>
class StorageContract : public ::testing::Test {
protected:
    Storage& s() { return backend_.storage(); }

    /// Canonical credential data, as the service stores it.
    static CredentialRecord credential(const std::string& user, const std::string& id,
                                       const std::string& type, const std::string& name = "",
                                       const std::string& api_key = "sk-test-key") {
        bj::object in{{"id", id}, {"name", name}, {"type", type}};
        if (type != "ollama_credential") in["api_key"] = api_key;
        validation::Issues issues;
        auto data = domain::parse_credential_data(in, issues);
        EXPECT_TRUE(data && issues.empty());
        CredentialRecord r;
        r.user_id = user;
        r.id = id;
        r.data = data ? *data : bj::object{};
        return r;
    }

    std::string name_of(const std::string& user, const std::string& id) {
        auto c = s().get_credential(user, id);
        return c ? std::string(c->data.at("name").as_string()) : "<absent>";
    }

    AgentRecord agent(const std::string& user, const std::string& id, std::int64_t created_us,
                      const std::string& source = "user") {
        AgentRecord r;
        r.id = id;
        r.user_id = user;
        r.source = source;
        r.created_us = r.updated_us = created_us;
        r.data = bj::object{{"id", "data-" + id}, {"name", "Agent " + id}};
        return r;
    }

    SessionRecord session(const std::string& user, const std::string& agent_id,
                          const std::string& id, std::int64_t created_us) {
        SessionRecord r;
        r.id = id;
        r.user_id = user;
        r.agent_id = agent_id;
        r.created_us = r.updated_us = created_us;
        r.config = bj::object{{"workspace_id", "ws"}, {"name", "S " + id}, {"cwd", nullptr}};
        r.state = domain::SessionState::fresh();
        return r;
    }

    /// Stores the session, creating its agent first when needed.
    void add(const SessionRecord& rec) {
        if (!s().get_agent(rec.user_id, rec.agent_id))
            s().insert_agent(agent(rec.user_id, rec.agent_id, 1));
        ASSERT_TRUE(s().insert_session(rec)) << rec.id;
    }
    void add_session(const std::string& user, const std::string& agent_id, const std::string& id,
                     std::int64_t created_us) {
        add(session(user, agent_id, id, created_us));
    }

    static bj::object message(const std::string& id, const std::string& text) {
        return bj::object{{"id", id},
                          {"role", "user"},
                          {"content", bj::array{bj::object{{"type", "text"}, {"text", text}}}},
                          {"created_at", "2026-03-14T09:33:01.000090"}};
    }

    static std::vector<std::string> ids_of(const MessagePage& page) {
        std::vector<std::string> out;
        for (const auto& m : page.messages) out.emplace_back(m.at("id").as_string());
        return out;
    }

    B backend_;
};

TYPED_TEST_SUITE(StorageContract, Backends);

using Ids = std::vector<std::string>;

// ---- credentials --------------------------------------------------------------------------

TYPED_TEST(StorageContract, CredentialAutoNamesCountUpPerTypeAndUser) {
    auto& s = this->s();
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c1", "openai_credential")).data.at("name"),
        "Openai");
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c2", "openai_credential")).data.at("name"),
        "Openai (2)");
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c3", "openai_credential")).data.at("name"),
        "Openai (3)");
    // Another type and another user start from the base name.
    EXPECT_EQ(s.upsert_credential(this->credential("alice", "a1", "anthropic_credential"))
                  .data.at("name"),
              "Anthropic");
    EXPECT_EQ(
        s.upsert_credential(this->credential("bob", "b1", "openai_credential")).data.at("name"),
        "Openai");
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "x1", "xai_credential")).data.at("name"),
        "Xai");
    // The stored record carries the generated name too.
    EXPECT_EQ(this->name_of("alice", "c2"), "Openai (2)");
    EXPECT_EQ(this->name_of("alice", "a1"), "Anthropic");
}

TYPED_TEST(StorageContract, CredentialAutoNameDoesNotCountItself) {
    auto& s = this->s();
    s.upsert_credential(this->credential("alice", "c1", "openai_credential"));
    s.upsert_credential(this->credential("alice", "c2", "openai_credential"));
    // Re-saving with a blank name keeps the record's own name free for it.
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c1", "openai_credential")).data.at("name"),
        "Openai");
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c2", "openai_credential")).data.at("name"),
        "Openai (2)");
}

TYPED_TEST(StorageContract, CredentialAutoNameTakesTheFirstFreeNumber) {
    auto& s = this->s();
    for (const char* id : {"c1", "c2", "c3"})
        s.upsert_credential(this->credential("alice", id, "openai_credential"));
    ASSERT_TRUE(s.delete_credential("alice", "c2"));
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c4", "openai_credential")).data.at("name"),
        "Openai (2)");
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c5", "openai_credential")).data.at("name"),
        "Openai (4)");
}

TYPED_TEST(StorageContract, CredentialRenameFreesTheName) {
    auto& s = this->s();
    s.upsert_credential(this->credential("alice", "c1", "openai_credential"));
    s.upsert_credential(this->credential("alice", "c2", "openai_credential"));
    EXPECT_EQ(s.upsert_credential(this->credential("alice", "c1", "openai_credential", "Work"))
                  .data.at("name"),
              "Work");
    EXPECT_EQ(
        s.upsert_credential(this->credential("alice", "c3", "openai_credential")).data.at("name"),
        "Openai");
    // An explicit name is stored as given, even one that looks generated.
    EXPECT_EQ(s.upsert_credential(this->credential("alice", "c4", "openai_credential", "Openai"))
                  .data.at("name"),
              "Openai");
}

TYPED_TEST(StorageContract, CredentialSecretsRoundTripInClear) {
    auto& s = this->s();
    auto rec = this->credential("alice", "c1", "openai_credential", "Mine", "sk-live-abcdef123456");
    std::vector<std::string> keys;
    for (const auto& kv : rec.data) keys.emplace_back(kv.key());
    s.upsert_credential(rec);

    auto got = s.get_credential("alice", "c1");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, "c1");
    EXPECT_EQ(got->user_id, "alice");
    EXPECT_EQ(got->data.at("api_key"), "sk-live-abcdef123456");
    std::vector<std::string> got_keys;
    for (const auto& kv : got->data) got_keys.emplace_back(kv.key());
    EXPECT_EQ(got_keys, keys);  // the secret goes back in its place
    EXPECT_EQ(json::write(got->data), json::write(rec.data));

    auto all = s.list_credentials("alice");
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].data.at("api_key"), "sk-live-abcdef123456");
}

TYPED_TEST(StorageContract, CredentialSecretsAreEncryptedAtRest) {
    auto& s = this->s();
    const std::string secret = "sk-plaintext-canary-5f2d9c81";
    const std::string marker =
        "https://canary-base-url.example/v1";  // a non-secret field, stored in clear
    auto rec = this->credential("alice", "c1", "openai_credential", "", secret);
    rec.data["base_url"] = marker;
    s.upsert_credential(rec);
    // Update it too, so an old version cannot hide in a page or log.
    rec.data["name"] = "Renamed";
    s.upsert_credential(rec);

    std::string raw = this->backend_.raw_bytes();
    ASSERT_NE(raw.find(marker), std::string::npos) << "raw_bytes() does not see the stored data";
    EXPECT_EQ(raw.find(secret), std::string::npos) << "the api_key is stored in clear";
    EXPECT_EQ(raw.find("sk-plaintext-canary"), std::string::npos);
    EXPECT_EQ(s.get_credential("alice", "c1")->data.at("api_key"), bj::value(secret));
}

TYPED_TEST(StorageContract, CredentialsAreScopedByUser) {
    auto& s = this->s();
    s.upsert_credential(this->credential("alice", "c1", "openai_credential", "", "alice-key"));
    EXPECT_FALSE(s.get_credential("bob", "c1"));
    EXPECT_TRUE(s.list_credentials("bob").empty());
    EXPECT_FALSE(s.delete_credential("bob", "c1"));
    EXPECT_TRUE(s.get_credential("alice", "c1"));

    // The same client-chosen id under two users is two credentials.
    s.upsert_credential(this->credential("bob", "c1", "anthropic_credential", "", "bob-key"));
    EXPECT_EQ(s.get_credential("alice", "c1")->data.at("api_key"), "alice-key");
    EXPECT_EQ(s.get_credential("alice", "c1")->data.at("type"), "openai_credential");
    EXPECT_EQ(s.get_credential("bob", "c1")->data.at("api_key"), "bob-key");
    EXPECT_EQ(s.list_credentials("alice").size(), 1u);
    EXPECT_EQ(s.list_credentials("bob").size(), 1u);

    EXPECT_TRUE(s.delete_credential("bob", "c1"));
    EXPECT_FALSE(s.get_credential("bob", "c1"));
    EXPECT_TRUE(s.get_credential("alice", "c1"));
}

TYPED_TEST(StorageContract, CredentialIdInUseLooksAcrossUsers) {
    auto& s = this->s();
    EXPECT_FALSE(s.credential_id_in_use("c1"));
    s.upsert_credential(this->credential("alice", "c1", "openai_credential"));
    EXPECT_TRUE(s.credential_id_in_use("c1"));
    EXPECT_FALSE(s.credential_id_in_use("c2"));
    s.delete_credential("alice", "c1");
    EXPECT_FALSE(s.credential_id_in_use("c1"));
}

TYPED_TEST(StorageContract, CredentialUpdateKeepsCreatedAt) {
    auto& s = this->s();
    auto first = s.upsert_credential(this->credential("alice", "c1", "openai_credential"));
    EXPECT_GT(first.created_us, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto second = s.upsert_credential(this->credential("alice", "c1", "openai_credential", "New"));
    EXPECT_EQ(second.created_us, first.created_us);
    EXPECT_GT(second.updated_us, first.updated_us);
    auto got = s.get_credential("alice", "c1");
    EXPECT_EQ(got->created_us, first.created_us);
    EXPECT_EQ(got->updated_us, second.updated_us);
    EXPECT_EQ(got->data.at("name"), "New");
}

// ---- agents --------------------------------------------------------------------------------

TYPED_TEST(StorageContract, AgentInsertGetUpdate) {
    auto& s = this->s();
    s.insert_agent(this->agent("alice", "a1", 1000));
    auto got = s.get_agent("alice", "a1");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->user_id, "alice");
    EXPECT_EQ(got->source, "user");
    EXPECT_EQ(got->created_us, 1000);
    EXPECT_EQ(json::write(got->data), R"({"id":"data-a1","name":"Agent a1"})");

    auto updated = s.update_agent("alice", "a1", [](domain::AgentRecord& a) {
        a.data["name"] = "Renamed";
        a.updated_us = 5000;
    });
    ASSERT_TRUE(updated);
    EXPECT_EQ(updated->data.at("name"), "Renamed");
    got = s.get_agent("alice", "a1");
    EXPECT_EQ(json::write(got->data), R"({"id":"data-a1","name":"Renamed"})");
    EXPECT_EQ(got->updated_us, 5000);
    EXPECT_EQ(got->created_us, 1000);

    // Absent, or another user's: nullopt, the change is never called, nothing changes.
    int called = 0;
    const auto hijack = [&called](domain::AgentRecord& a) {
        ++called;
        a.data["name"] = "Hijacked";
    };
    EXPECT_FALSE(s.update_agent("alice", "missing", hijack));
    EXPECT_FALSE(s.update_agent("bob", "a1", hijack));
    EXPECT_EQ(called, 0);
    EXPECT_EQ(s.get_agent("alice", "a1")->data.at("name"), "Renamed");
    EXPECT_FALSE(s.get_agent("bob", "a1"));

    // A change that throws writes nothing.
    EXPECT_THROW(s.update_agent("alice", "a1",
                                [](domain::AgentRecord& a) {
                                    a.data["name"] = "Half";
                                    throw std::runtime_error("invalid");
                                }),
                 std::runtime_error);
    EXPECT_EQ(s.get_agent("alice", "a1")->data.at("name"), "Renamed");
}

TYPED_TEST(StorageContract, ConcurrentUpdatesOfDifferentFieldsBothLand) {
    auto& s = this->s();
    s.insert_agent(this->agent("alice", "a1", 1000));
    s.upsert_credential(this->credential("alice", "c1", "openai_credential"));
    // Two threads each count up a field of their own: a write that carried a
    // stale copy of the record would undo the other's counts.
    constexpr int kTimes = 100;
    const auto bump = [](bj::object& data, const char* field) {
        const auto* n = data.if_contains(field);
        data[field] = (n ? n->as_int64() : 0) + 1;
    };
    auto worker = [&](const char* field) {
        for (int i = 0; i < kTimes; ++i) {
            // The change takes a while: a backend that read outside the write
            // would let the other thread's write in meanwhile.
            s.update_agent("alice", "a1", [&](domain::AgentRecord& a) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                bump(a.data, field);
            });
            s.update_credential("alice", "c1", [&](const domain::CredentialRecord& c) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                bj::object data = c.data;
                bump(data, field);
                return data;
            });
        }
    };
    std::thread a(worker, "left"), b(worker, "right");
    a.join();
    b.join();
    const auto agent = s.get_agent("alice", "a1");
    const auto credential = s.get_credential("alice", "c1");
    for (const char* field : {"left", "right"}) {
        EXPECT_EQ(agent->data.at(field).as_int64(), kTimes) << field;
        EXPECT_EQ(credential->data.at(field).as_int64(), kTimes) << field;
    }
}

TYPED_TEST(StorageContract, CredentialUpdateKeepsCreationTimeAndNeverRecreates) {
    auto& s = this->s();
    auto created = s.upsert_credential(this->credential("alice", "c1", "openai_credential"));
    auto updated = s.update_credential("alice", "c1", [](const domain::CredentialRecord& c) {
        bj::object data = c.data;
        data["name"] = "";  // auto-named again, as by upsert
        data["api_key"] = "sk-new";
        return data;
    });
    ASSERT_TRUE(updated);
    EXPECT_EQ(updated->created_us, created.created_us);
    EXPECT_GE(updated->updated_us, created.updated_us);
    EXPECT_EQ(updated->data.at("name"), "Openai");
    EXPECT_EQ(s.get_credential("alice", "c1")->data.at("api_key"), "sk-new");
    // Absent, or another user's: nullopt and nothing is created.
    int called = 0;
    const auto change = [&called](const domain::CredentialRecord& c) {
        ++called;
        return c.data;
    };
    EXPECT_FALSE(s.update_credential("alice", "gone", change));
    EXPECT_FALSE(s.update_credential("bob", "c1", change));
    EXPECT_EQ(called, 0);
    EXPECT_FALSE(s.get_credential("alice", "gone"));
    EXPECT_FALSE(s.get_credential("bob", "c1"));
    ASSERT_TRUE(s.delete_credential("alice", "c1"));
    EXPECT_FALSE(s.update_credential("alice", "c1", change));
    EXPECT_FALSE(s.get_credential("alice", "c1"));
}

TYPED_TEST(StorageContract, AgentListHasOnlyUserAgentsOldestFirst) {
    auto& s = this->s();
    s.insert_agent(this->agent("alice", "a2", 2000));
    s.insert_agent(this->agent("alice", "a1", 1000));
    s.insert_agent(this->agent("alice", "worker", 1500, "team"));
    s.insert_agent(this->agent("bob", "b1", 500));
    Ids ids;
    for (const auto& a : s.list_agents("alice")) ids.push_back(a.id);
    EXPECT_EQ(ids, (Ids{"a1", "a2"}));
    // A team worker is never listed but can still be resolved by id.
    auto worker = s.get_agent("alice", "worker");
    ASSERT_TRUE(worker);
    EXPECT_EQ(worker->source, "team");
    EXPECT_EQ(s.list_agents("bob").size(), 1u);
    EXPECT_TRUE(s.list_agents("carol").empty());
}

TYPED_TEST(StorageContract, AgentDeleteCascadesToSessionsContextAndMessages) {
    auto& s = this->s();
    auto& b = this->backend_;
    s.insert_agent(this->agent("alice", "a1", 1000));
    s.insert_agent(this->agent("alice", "a2", 1000));
    for (const char* id : {"s1", "s2"}) {
        this->add_session("alice", "a1", id, 2000);
        s.upsert_message("alice", id, this->message(std::string(id) + "-m1", "hi"));
        b.insert_context_row(id, 1, std::string(id) + "-c1",
                             R"({"id":"c","role":"user","content":[]})");
    }
    this->add_session("alice", "a2", "other", 2000);
    s.upsert_message("alice", "other", this->message("other-m1", "keep me"));
    ASSERT_EQ(b.count_rows("messages", "session_id", "s1"), 1);
    ASSERT_EQ(b.count_rows("session_context", "session_id", "s1"), 1);

    EXPECT_TRUE(s.delete_agent("alice", "a1"));
    EXPECT_FALSE(s.get_agent("alice", "a1"));
    EXPECT_TRUE(s.list_sessions("alice", "a1").empty());
    for (const char* id : {"s1", "s2"}) {
        EXPECT_FALSE(s.get_session("alice", id, true)) << id;
        EXPECT_EQ(b.count_rows("sessions", "id", id), 0) << id;
        EXPECT_EQ(b.count_rows("messages", "session_id", id), 0) << id;
        EXPECT_EQ(b.count_rows("session_context", "session_id", id), 0) << id;
    }
    // A session reusing a deleted id starts with an empty log (nothing orphaned resurfaces).
    this->add_session("alice", "a2", "s1", 3000);
    EXPECT_TRUE(s.list_messages("alice", "s1", 50, std::nullopt).messages.empty());

    // Other agents' sessions are untouched.
    EXPECT_TRUE(s.get_session("alice", "other", false));
    EXPECT_EQ(this->ids_of(s.list_messages("alice", "other", 50, std::nullopt)), (Ids{"other-m1"}));

    EXPECT_FALSE(s.delete_agent("alice", "a1"));
}

TYPED_TEST(StorageContract, AgentDeleteIsScopedByUser) {
    auto& s = this->s();
    s.insert_agent(this->agent("alice", "a1", 1000));
    this->add_session("alice", "a1", "s1", 2000);
    EXPECT_FALSE(s.delete_agent("bob", "a1"));
    EXPECT_TRUE(s.get_agent("alice", "a1"));
    EXPECT_TRUE(s.get_session("alice", "s1", false));
}

// ---- sessions ------------------------------------------------------------------------------

TYPED_TEST(StorageContract, SessionInsertNeedsTheOwnersAgent) {
    auto& s = this->s();
    auto gen = s.write_generation();
    EXPECT_FALSE(s.insert_session(this->session("alice", "nope", "s1", 1000)));
    EXPECT_FALSE(s.get_session("alice", "s1", false));
    EXPECT_EQ(s.write_generation(), gen);  // nothing was written
    s.insert_agent(this->agent("alice", "a1", 1));
    EXPECT_FALSE(s.insert_session(this->session("bob", "a1", "s1", 1000)));  // not bob's agent
    EXPECT_FALSE(s.get_session("bob", "s1", false));
    EXPECT_TRUE(s.insert_session(this->session("alice", "a1", "s1", 1000)));
    EXPECT_TRUE(s.get_session("alice", "s1", false));
    s.delete_agent("alice", "a1");
    EXPECT_FALSE(s.insert_session(this->session("alice", "a1", "s2", 1000)));  // deleted meanwhile
}

TYPED_TEST(StorageContract, SessionInsertGetRoundTripsEveryField) {
    auto& s = this->s();
    auto rec = this->session("alice", "a1", "s1", 1773480612123450);
    rec.updated_us = 1773480613000000;
    rec.source = "schedule";
    rec.source_schedule_id = "sch1";
    rec.source_chat_id = "chat1";
    rec.source_channel_id = std::nullopt;
    rec.team_id = "t1";
    rec.state.summary = "so far";
    rec.state.middle_context = bj::object{{"k", bj::array{1, 2.5, "x"}}};
    rec.state.tasks_context = bj::object{{"tasks", bj::array{bj::object{{"id", "t"}}}}};
    rec.tail_status = "awaiting_permission";
    this->add(rec);

    auto got = s.get_session("alice", "s1", false);
    ASSERT_TRUE(got);
    EXPECT_FALSE(got->context.has_value());
    rec.context = bj::array{};
    got = s.get_session("alice", "s1", true);
    ASSERT_TRUE(got);
    ASSERT_TRUE(got->context.has_value());
    EXPECT_TRUE(got->context->empty());
    // Every field, compared through the record JSON plus what it does not show.
    EXPECT_EQ(json::write(domain::to_json(*got)), json::write(domain::to_json(rec)));
    EXPECT_EQ(got->tail_status, "awaiting_permission");
    EXPECT_EQ(got->created_us, rec.created_us);
    EXPECT_EQ(got->updated_us, rec.updated_us);
    EXPECT_FALSE(got->source_channel_id.has_value());
    EXPECT_EQ(got->source_schedule_id, "sch1");
}

TYPED_TEST(StorageContract, SessionContextComesInSequenceOrder) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    this->backend_.insert_context_row("s1", 2, "m2", R"({"id":"m2"})");
    this->backend_.insert_context_row("s1", 1, "m1", R"({"id":"m1"})");
    auto got = s.get_session("alice", "s1", true);
    ASSERT_TRUE(got && got->context);
    EXPECT_EQ(json::write(*got->context), R"([{"id":"m1"},{"id":"m2"}])");
}

TYPED_TEST(StorageContract, SessionsAreScopedByUser) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    EXPECT_FALSE(s.get_session("bob", "s1", true));
    EXPECT_TRUE(s.list_sessions("bob", "a1").empty());
    EXPECT_TRUE(s.list_session_ids("bob", "a1").empty());
    EXPECT_FALSE(s.update_session("bob", "s1", bj::object{{"name", "x"}}, nullptr));
    EXPECT_FALSE(s.delete_session("bob", "s1"));
    auto still = s.get_session("alice", "s1", false);
    ASSERT_TRUE(still);
    EXPECT_EQ(still->config.at("name"), "S s1");
}

TYPED_TEST(StorageContract, SessionListIsNewestFirstPerUserAndAgent) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s-old", 1000);
    this->add_session("alice", "a1", "s-new", 3000);
    this->add_session("alice", "a1", "s-mid", 2000);
    this->add_session("alice", "a2", "s-other-agent", 4000);
    this->add_session("bob", "bob-agent", "s-bob", 5000);
    Ids ids;
    for (const auto& r : s.list_sessions("alice", "a1")) {
        ids.push_back(r.id);
        EXPECT_FALSE(r.context.has_value()) << "lists must not read the conversation";
    }
    EXPECT_EQ(ids, (Ids{"s-new", "s-mid", "s-old"}));
    auto id_list = s.list_session_ids("alice", "a1");
    std::sort(id_list.begin(), id_list.end());
    EXPECT_EQ(id_list, (Ids{"s-mid", "s-new", "s-old"}));
    EXPECT_TRUE(s.list_sessions("alice", "nope").empty());
}

TYPED_TEST(StorageContract, SessionUpdateConfigOnlyKeepsState) {
    auto& s = this->s();
    auto rec = this->session("alice", "a1", "s1", 1000);
    rec.state.permission_context["mode"] = "explore";
    this->add(rec);

    bj::object config = rec.config;
    config["name"] = "Renamed";
    auto updated = s.update_session("alice", "s1", config, nullptr);
    ASSERT_TRUE(updated);
    EXPECT_EQ(updated->config.at("name"), "Renamed");
    EXPECT_EQ(updated->state.permission_context.at("mode"), "explore");
    EXPECT_EQ(updated->state.reply_context, rec.state.reply_context);
    EXPECT_EQ(updated->created_us, 1000);
    EXPECT_GT(updated->updated_us, 1000);  // refreshed to now

    auto got = s.get_session("alice", "s1", false);
    EXPECT_EQ(got->config.at("name"), "Renamed");
    EXPECT_EQ(got->state.session_id, rec.state.session_id);
    EXPECT_EQ(got->state.permission_context.at("mode"), "explore");
    EXPECT_EQ(got->updated_us, updated->updated_us);
}

TYPED_TEST(StorageContract, SessionUpdateWithStateReplacesIt) {
    auto& s = this->s();
    auto rec = this->session("alice", "a1", "s1", 1000);
    this->add(rec);
    auto state = rec.state;
    state.permission_context["mode"] = "bypass";
    state.summary = "sum";
    state.reply_context["cur_iter"] = 3;
    auto updated = s.update_session("alice", "s1", rec.config, &state);
    ASSERT_TRUE(updated);
    auto got = s.get_session("alice", "s1", false);
    EXPECT_EQ(got->state.permission_context.at("mode"), "bypass");
    EXPECT_EQ(got->state.summary, "sum");
    EXPECT_EQ(got->state.reply_context.at("cur_iter"), 3);
    EXPECT_EQ(got->config, rec.config);
    EXPECT_EQ(got->source, "user");
    EXPECT_EQ(got->agent_id, "a1");

    EXPECT_FALSE(s.update_session("alice", "missing", rec.config, &state));
}

TYPED_TEST(StorageContract, SessionDeleteRemovesItsLog) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    this->add_session("alice", "a1", "s2", 1000);
    s.upsert_message("alice", "s1", this->message("m1", "a"));
    s.upsert_message("alice", "s2", this->message("m2", "b"));
    this->backend_.insert_context_row("s1", 1, "c1", "{}");
    EXPECT_TRUE(s.delete_session("alice", "s1"));
    EXPECT_FALSE(s.get_session("alice", "s1", true));
    EXPECT_EQ(this->backend_.count_rows("messages", "session_id", "s1"), 0);
    EXPECT_EQ(this->backend_.count_rows("session_context", "session_id", "s1"), 0);
    EXPECT_FALSE(s.delete_session("alice", "s1"));
    EXPECT_EQ(this->ids_of(s.list_messages("alice", "s2", 50, std::nullopt)), (Ids{"m2"}));
}

// ---- message log ---------------------------------------------------------------------------

TYPED_TEST(StorageContract, MessagesAppendOldestFirst) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    auto empty = s.list_messages("alice", "s1", 50, std::nullopt);
    EXPECT_TRUE(empty.messages.empty());
    EXPECT_FALSE(empty.has_more);

    for (const char* id : {"m1", "m2", "m3"})
        s.upsert_message("alice", "s1", this->message(id, id));
    auto page = s.list_messages("alice", "s1", 50, std::nullopt);
    EXPECT_EQ(this->ids_of(page), (Ids{"m1", "m2", "m3"}));
    EXPECT_FALSE(page.has_more);
    EXPECT_EQ(json::write(page.messages[0]),
              json::write(this->message("m1", "m1")));  // stored verbatim
}

TYPED_TEST(StorageContract, MessageWithKnownIdIsReplacedInPlace) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    for (const char* id : {"m1", "m2", "m3"})
        s.upsert_message("alice", "s1", this->message(id, "v1"));
    s.upsert_message("alice", "s1", this->message("m2", "v2"));  // not the last one
    s.upsert_message("alice", "s1", this->message("m3", "v2"));  // the last one
    auto page = s.list_messages("alice", "s1", 50, std::nullopt);
    EXPECT_EQ(this->ids_of(page), (Ids{"m1", "m2", "m3"}));
    EXPECT_EQ(page.messages[0].at("content").at(0).at("text"), "v1");
    EXPECT_EQ(page.messages[1].at("content").at(0).at("text"), "v2");
    EXPECT_EQ(page.messages[2].at("content").at(0).at("text"), "v2");
    s.upsert_message("alice", "s1", this->message("m4", "v1"));
    EXPECT_EQ(this->ids_of(s.list_messages("alice", "s1", 50, std::nullopt)),
              (Ids{"m1", "m2", "m3", "m4"}));
}

TYPED_TEST(StorageContract, MessagePagesWalkBackWithTheBeforeCursor) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    for (const char* id : {"m1", "m2", "m3", "m4", "m5"})
        s.upsert_message("alice", "s1", this->message(id, id));

    auto p1 = s.list_messages("alice", "s1", 2, std::nullopt);
    EXPECT_EQ(this->ids_of(p1), (Ids{"m4", "m5"}));
    EXPECT_TRUE(p1.has_more);
    auto p2 = s.list_messages("alice", "s1", 2, std::string("m4"));
    EXPECT_EQ(this->ids_of(p2), (Ids{"m2", "m3"}));
    EXPECT_TRUE(p2.has_more);
    auto p3 = s.list_messages("alice", "s1", 2, std::string("m2"));
    EXPECT_EQ(this->ids_of(p3), (Ids{"m1"}));
    EXPECT_FALSE(p3.has_more);
    auto p4 = s.list_messages("alice", "s1", 2, std::string("m1"));
    EXPECT_TRUE(p4.messages.empty());
    EXPECT_FALSE(p4.has_more);

    // Exactly `limit` older messages: no more beyond them.
    auto exact = s.list_messages("alice", "s1", 3, std::string("m4"));
    EXPECT_EQ(this->ids_of(exact), (Ids{"m1", "m2", "m3"}));
    EXPECT_FALSE(exact.has_more);
    auto all = s.list_messages("alice", "s1", 5, std::nullopt);
    EXPECT_EQ(all.messages.size(), 5u);
    EXPECT_FALSE(all.has_more);
    auto one = s.list_messages("alice", "s1", 1, std::nullopt);
    EXPECT_EQ(this->ids_of(one), (Ids{"m5"}));
    EXPECT_TRUE(one.has_more);
}

TYPED_TEST(StorageContract, MessageUnknownCursorGivesAnEmptyPage) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    this->add_session("alice", "a1", "s2", 1000);
    s.upsert_message("alice", "s1", this->message("m1", "a"));
    s.upsert_message("alice", "s2", this->message("other", "b"));
    for (const char* cursor : {"nope", "other"}) {  // "other" exists, but in another session
        auto page = s.list_messages("alice", "s1", 50, std::string(cursor));
        EXPECT_TRUE(page.messages.empty()) << cursor;
        EXPECT_FALSE(page.has_more) << cursor;
    }
}

TYPED_TEST(StorageContract, MessagesAreScopedThroughTheSessionOwner) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    s.upsert_message("alice", "s1", this->message("m1", "secret"));
    EXPECT_TRUE(s.list_messages("bob", "s1", 50, std::nullopt).messages.empty());
    s.upsert_message("bob", "s1", this->message("m2", "injected"));
    s.upsert_message("bob", "s1", this->message("m1", "overwritten"));
    auto page = s.list_messages("alice", "s1", 50, std::nullopt);
    EXPECT_EQ(this->ids_of(page), (Ids{"m1"}));
    EXPECT_EQ(page.messages[0].at("content").at(0).at("text"), "secret");
    // A message for a session that does not exist is dropped, not kept for later.
    s.upsert_message("alice", "ghost", this->message("g1", "x"));
    this->add_session("alice", "a1", "ghost", 2000);
    EXPECT_TRUE(s.list_messages("alice", "ghost", 50, std::nullopt).messages.empty());
}

// ---- step persistence ------------------------------------------------------------------------

/// An assistant reply with `blocks` tool-call/result blocks and a usage that changes with them;
/// the results are long enough that a reply of a few steps outgrows a database page.
bj::object reply_with(const std::string& id, int blocks, const std::string& mark = "") {
    bj::array content;
    for (int i = 0; i < blocks; ++i)
        content.push_back(i % 2 == 0 ? bj::object{{"type", "tool_use"}, {"id", "c" + std::to_string(i)},
                                                 {"name", "bash"}, {"input", bj::object{{"command", "ls"}}}}
                                     : bj::object{{"type", "tool_result"}, {"id", "c" + std::to_string(i - 1)},
                                                 {"output", "result " + std::to_string(i) + mark +
                                                                std::string(1500, static_cast<char>('a' + i))}});
    return bj::object{{"id", id},
                      {"name", "Friday"},
                      {"role", "assistant"},
                      {"content", std::move(content)},
                      {"usage", bj::object{{"output_tokens", blocks}}},
                      {"created_at", "2026-03-14T09:33:01.000090"},
                      {"finished_reason", nullptr}};
}

/// A step that stores `msg` in the log and in the context, as a run's checkpoint does.
StepDelta both_copies(const bj::object& msg) {
    StepDelta step;
    step.log_upserts.push_back(msg);
    step.context_upserts.push_back(msg);
    return step;
}

/// Every copy of reply `id` the backend gives back: the log's (list and get) and the context's.
void expect_stored(Storage& s, const std::string& session, const bj::object& want, std::size_t context_at) {
    const auto id = std::string(want.at("id").as_string());
    auto got = s.get_message("alice", session, id);
    ASSERT_TRUE(got) << id;
    EXPECT_EQ(json::write(*got), json::write(want));
    auto page = s.list_messages("alice", session, 50, std::nullopt);
    ASSERT_FALSE(page.messages.empty());
    EXPECT_EQ(json::write(page.messages.back()), json::write(want));
    auto rec = s.get_session("alice", session, true);
    ASSERT_TRUE(rec && rec->context);
    ASSERT_GT(rec->context->size(), context_at);
    EXPECT_EQ(json::write(rec->context->at(context_at)), json::write(want));
}

TYPED_TEST(StorageContract, AReplyStoredAfterEveryStepReadsBackAsItsLastVersion) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(this->message("u1", "do it"))));
    // The reply grows a block at a time, as a tool-calling turn does.
    for (int blocks = 0; blocks <= 7; ++blocks) {
        ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(reply_with("r1", blocks))));
        expect_stored(this->s(), "s1", reply_with("r1", blocks), 1);
    }
    // A block in the middle changes (a tool result rewritten), then the list shrinks.
    for (const auto& want : {reply_with("r1", 7, " (edited)"), reply_with("r1", 3), reply_with("r1", 1)}) {
        ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(want)));
        expect_stored(this->s(), "s1", want, 1);
    }
    // Content that is no list at all, then a long list again.
    auto plain = reply_with("r1", 0);
    plain["content"] = "just text";
    for (const auto& want : {plain, reply_with("r1", 5)}) {
        ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(want)));
        expect_stored(this->s(), "s1", want, 1);
    }
    auto page = s.list_messages("alice", "s1", 50, std::nullopt);
    EXPECT_EQ(this->ids_of(page), (Ids{"u1", "r1"}));
}

TYPED_TEST(StorageContract, ABorrowedReplyChangedInPlaceBetweenStepsIsStoredAsItWasAtEachStep) {
    // A run lends its own reply to every step and changes it in place between
    // them: each step stores what the reply was then, never what it becomes.
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    bj::object reply = reply_with("r1", 1);
    auto lend = [&reply] {
        StepDelta step;
        step.log_upserts.push_back(MessageRef::borrowed(reply));
        step.context_upserts.push_back(MessageRef::borrowed(reply));
        return step;
    };
    for (int blocks = 2; blocks <= 6; ++blocks) {
        reply = reply_with("r1", blocks);  // a new block at the end
        ASSERT_TRUE(s.persist_step("alice", "s1", lend()));
        const auto stored = reply;
        // Changed in place after the step: a block in the middle and the usage.
        reply["content"].as_array()[1].as_object()["output"] = "rewritten after the step";
        reply["usage"].as_object()["output_tokens"] = 99;
        expect_stored(this->s(), "s1", stored, 0);
        reply = stored;
    }
    // The in-place change is stored by the next step that lends it.
    reply["content"].as_array()[1].as_object()["output"] = "rewritten in this step";
    ASSERT_TRUE(s.persist_step("alice", "s1", lend()));
    expect_stored(this->s(), "s1", reply, 0);
}

TYPED_TEST(StorageContract, AMessageWithoutContentHasEveryOtherFieldOfTheStoredOne) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    this->add_session("bob", "a2", "s2", 2000);
    auto without_content = [](bj::object m) {
        m.erase("content");
        return json::write(m);
    };
    // A short message, a long reply (stored split) and one whose content is no list.
    auto plain = reply_with("r3", 0);
    plain["content"] = "just text";
    plain["finished_reason"] = "completed";
    for (const auto& msg : {this->message("u1", "hello"), reply_with("r2", 7), plain}) {
        ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(msg)));
        const std::string id(msg.at("id").as_string());
        auto got = s.get_message_without_content("alice", "s1", id);
        ASSERT_TRUE(got) << id;
        EXPECT_EQ(json::write(*got), without_content(msg)) << id;
        // Another user, another session, an unknown id: absent.
        EXPECT_FALSE(s.get_message_without_content("bob", "s1", id)) << id;
        EXPECT_FALSE(s.get_message_without_content("alice", "s2", id)) << id;
    }
    EXPECT_FALSE(s.get_message_without_content("alice", "s1", "nope"));
    // It follows the message as later steps change it.
    auto finished = reply_with("r2", 8);
    finished["finished_reason"] = "completed";
    ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(finished)));
    EXPECT_EQ(json::write(*s.get_message_without_content("alice", "s1", "r2")), without_content(finished));
}

TYPED_TEST(StorageContract, PagesOfLongRepliesComeWhole) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    for (int i = 0; i < 6; ++i) {
        StepDelta step;
        step.log_upserts.push_back(reply_with("r" + std::to_string(i), i + 1));
        ASSERT_TRUE(s.persist_step("alice", "s1", step));
    }
    auto newest = s.list_messages("alice", "s1", 4, std::nullopt);
    EXPECT_EQ(this->ids_of(newest), (Ids{"r2", "r3", "r4", "r5"}));
    EXPECT_TRUE(newest.has_more);
    for (int i = 2; i < 6; ++i)
        EXPECT_EQ(json::write(newest.messages[static_cast<std::size_t>(i - 2)]),
                  json::write(reply_with("r" + std::to_string(i), i + 1)));
    auto oldest = s.list_messages("alice", "s1", 4, std::string("r2"));
    EXPECT_EQ(this->ids_of(oldest), (Ids{"r0", "r1"}));
    EXPECT_EQ(json::write(oldest.messages[1]), json::write(reply_with("r1", 2)));
}

TYPED_TEST(StorageContract, ReplacingTheContextDropsTheOldRepliesBlocks) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(reply_with("r1", 6))));
    // Compaction: the context becomes a summary and a new, shorter reply with the same id.
    StepDelta compacted;
    compacted.replace_context = true;
    compacted.context_upserts.push_back(this->message("sum", "summary of the turn"));
    compacted.context_upserts.push_back(reply_with("r1", 2));
    ASSERT_TRUE(s.persist_step("alice", "s1", compacted));
    auto rec = s.get_session("alice", "s1", true);
    ASSERT_TRUE(rec && rec->context);
    ASSERT_EQ(rec->context->size(), 2u);
    EXPECT_EQ(json::write(rec->context->at(1)), json::write(reply_with("r1", 2)));
    // The log keeps its own copy.
    EXPECT_EQ(json::write(*s.get_message("alice", "s1", "r1")), json::write(reply_with("r1", 6)));
}

TYPED_TEST(StorageContract, LongRepliesLeaveNothingBehindWhenTheirSessionGoes) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(reply_with("r1", 6))));
    ASSERT_TRUE(s.delete_session("alice", "s1"));
    // A new session under the same id starts empty: no blocks of the old reply resurface.
    this->add_session("alice", "a1", "s1", 2000);
    ASSERT_TRUE(s.persist_step("alice", "s1", both_copies(reply_with("r1", 2))));
    expect_stored(this->s(), "s1", reply_with("r1", 2), 0);
    EXPECT_EQ(s.list_messages("alice", "s1", 50, std::nullopt).messages.size(), 1u);
}

TYPED_TEST(StorageContract, StepsOfAnotherUsersSessionAreRefused) {
    auto& s = this->s();
    this->add_session("alice", "a1", "s1", 1000);
    EXPECT_FALSE(s.persist_step("bob", "s1", both_copies(reply_with("r1", 4))));
    EXPECT_FALSE(s.get_message("alice", "s1", "r1"));
    EXPECT_TRUE(s.get_session("alice", "s1", true)->context->empty());
}

// ---- bookkeeping ---------------------------------------------------------------------------

TYPED_TEST(StorageContract, WriteGenerationIncreasesOnEveryWrite) {
    auto& s = this->s();
    if (!s.write_generation()) GTEST_SKIP() << "backend shares writes with other processes";
    std::uint64_t last = *s.write_generation();
    auto advanced = [&](const char* what) {
        std::uint64_t now = *s.write_generation();
        EXPECT_GT(now, last) << what;
        last = now;
    };
    s.upsert_credential(this->credential("alice", "c1", "openai_credential"));
    advanced("upsert_credential");
    s.delete_credential("alice", "c1");
    advanced("delete_credential");
    auto a = this->agent("alice", "a1", 1000);
    s.insert_agent(a);
    advanced("insert_agent");
    s.update_agent("alice", "a1", [](domain::AgentRecord& r) { r.data["name"] = "x"; });
    advanced("update_agent");
    s.upsert_credential(this->credential("alice", "c2", "openai_credential"));
    advanced("upsert_credential");
    s.update_credential("alice", "c2", [](const domain::CredentialRecord& r) { return r.data; });
    advanced("update_credential");
    auto rec = this->session("alice", "a1", "s1", 1000);
    this->add(rec);
    advanced("insert_session");
    s.update_session("alice", "s1", rec.config, nullptr);
    advanced("update_session");
    s.upsert_message("alice", "s1", this->message("m1", "x"));
    advanced("upsert_message");
    s.delete_session("alice", "s1");
    advanced("delete_session");
    this->add_session("alice", "a1", "s2", 1000);
    advanced("insert_session");
    s.delete_agent("alice", "a1");
    advanced("delete_agent");
}

TYPED_TEST(StorageContract, MigrateIsIdempotentAndHealthy) {
    EXPECT_EQ(this->backend_.migrate(), 0);
    EXPECT_EQ(this->backend_.migrate(), 0);
    EXPECT_TRUE(this->s().healthy());
}

// The very first migrate applies every migration; a second applies none.
TEST(SqliteStorageMigrations, FirstRunAppliesAllThenNone) {
    auto dir = fs::temp_directory_path() / ("agentd-migrate-test-" + new_id());
    fs::create_directories(dir);
    {
        sqlite::SqliteStorage st(dir / "agentd.db", test_secret_box(), 1);
        EXPECT_GE(st.migrate(), 1);
        EXPECT_EQ(st.migrate(), 0);
    }
    {
        sqlite::SqliteStorage reopened(dir / "agentd.db", test_secret_box(), 1);
        EXPECT_EQ(reopened.migrate(), 0);
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace agentd::storage
