// What the SQLite backend does beneath the Storage contract: how a long reply is
// laid out in rows (message_layout.hpp) and what a step rewrites.
#include "storage/sqlite/sqlite_storage.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"

namespace agentd::storage::sqlite {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

SecretBox test_secret_box() {
    std::array<unsigned char, SecretBox::kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 5 + 3);
    return SecretBox(key);
}

bj::object reply(int blocks, const std::string& last_output = "") {
    bj::array content;
    for (int i = 0; i < blocks; ++i)
        content.push_back(bj::object{{"type", "tool_result"},
                                     {"id", "c" + std::to_string(i)},
                                     {"output", i + 1 == blocks && !last_output.empty()
                                                    ? last_output
                                                    : std::string(2100, static_cast<char>('a' + i % 26))}});
    return bj::object{{"id", "r1"}, {"role", "assistant"}, {"name", "Friday"}, {"content", std::move(content)},
                      {"usage", bj::object{{"output_tokens", blocks}}}};
}

/// Agent a1 and its session s1, owned by alice: what every test here writes into.
void seed_session(SqliteStorage& storage) {
    domain::AgentRecord agent;
    agent.id = "a1";
    agent.user_id = "alice";
    agent.source = "user";
    agent.data = bj::object{{"id", "a1"}, {"name", "Friday"}};
    storage.insert_agent(agent);
    domain::SessionRecord session;
    session.id = "s1";
    session.user_id = "alice";
    session.agent_id = "a1";
    session.config = bj::object{{"workspace_id", "ws"}};
    session.state = domain::SessionState::fresh();
    EXPECT_TRUE(storage.insert_session(session));
}

class SqliteStorageTest : public testing::Test {
protected:
    SqliteStorageTest()
        : dir_(fs::temp_directory_path() / ("agentd-sqlite-storage-" + new_id())),
          file_((fs::create_directories(dir_), dir_ / "agentd.db")),
          storage_(file_, test_secret_box(), 2) {
        storage_.migrate();
        seed_session(storage_);
    }
    ~SqliteStorageTest() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void step(const bj::object& msg) {
        StepDelta d;
        d.log_upserts.push_back(msg);
        d.context_upserts.push_back(msg);
        ASSERT_TRUE(storage_.persist_step("alice", "s1", d));
    }

    /// Runs one statement on a connection of the test's own; returns the first column of the first row.
    std::int64_t query(const std::string& sql) {
        sqlite3* db = nullptr;
        std::int64_t out = -1;
        EXPECT_EQ(sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        const int rc = sqlite3_step(st);
        EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
        if (rc == SQLITE_ROW) out = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close_v2(db);
        return out;
    }
    std::int64_t block_rows() { return query("SELECT COUNT(*) FROM message_blocks WHERE session_id = 's1'"); }

    fs::path dir_;
    fs::path file_;
    SqliteStorage storage_;
};

TEST_F(SqliteStorageTest, AGrowingReplyWritesOnlyItsNewBlocks) {
    step(reply(1));  // one block: stored whole, no block rows (two blocks outgrow a page)
    EXPECT_EQ(storage_.blocks_written(), 0u);
    EXPECT_EQ(block_rows(), 0);
    step(reply(2));  // now split: both blocks, in the log and in the context
    EXPECT_EQ(storage_.blocks_written(), 4u);
    for (int blocks = 3; blocks <= 30; ++blocks) {
        const auto before = storage_.blocks_written();
        step(reply(blocks));
        EXPECT_EQ(storage_.blocks_written() - before, 2u) << blocks << " blocks: one new block per copy";
    }
    EXPECT_EQ(block_rows(), 60);
    // The row itself holds only the head: its size does not grow with the turn.
    EXPECT_LT(query("SELECT MAX(LENGTH(payload)) FROM messages WHERE session_id = 's1'"), 200);
    EXPECT_EQ(json::write(*storage_.get_message("alice", "s1", "r1")), json::write(reply(30)));
}

TEST_F(SqliteStorageTest, AChangedBlockIsRewrittenAndADroppedOneDeleted) {
    step(reply(5));
    auto before = storage_.blocks_written();
    step(reply(5, "streamed further"));  // the last block changed
    EXPECT_EQ(storage_.blocks_written() - before, 2u);
    before = storage_.blocks_written();
    step(reply(5, "streamed further"));  // nothing changed
    EXPECT_EQ(storage_.blocks_written() - before, 0u);
    step(reply(3));
    EXPECT_EQ(block_rows(), 6);
    EXPECT_EQ(json::write(storage_.get_session("alice", "s1", true)->context->at(0)), json::write(reply(3)));
    step(reply(1));  // whole again: no block rows left
    EXPECT_EQ(block_rows(), 0);
    EXPECT_EQ(query("SELECT MIN(content_at) FROM session_context WHERE session_id = 's1'"), -1);
    EXPECT_EQ(json::write(*storage_.get_message("alice", "s1", "r1")), json::write(reply(1)));
}

TEST_F(SqliteStorageTest, RowsWrittenWholeByEarlierVersionsReadAndUpdate) {
    // Revision 1 of the schema had no content_at: such rows hold the whole message.
    const std::string old = json::write(reply(4));
    query("INSERT INTO messages (session_id, seq, msg_id, created_at, payload) VALUES ('s1', 1, 'r1', '', '" + old +
          "')");
    query("INSERT INTO session_context (session_id, seq, msg_id, payload) VALUES ('s1', 1, 'r1', '" + old + "')");
    EXPECT_EQ(json::write(*storage_.get_message("alice", "s1", "r1")), old);
    EXPECT_EQ(json::write(storage_.get_session("alice", "s1", true)->context->at(0)), old);
    step(reply(5));  // first write since: every block is written
    EXPECT_EQ(storage_.blocks_written(), 10u);
    EXPECT_EQ(json::write(storage_.list_messages("alice", "s1", 10, std::nullopt).messages.at(0)),
              json::write(reply(5)));
    EXPECT_EQ(query("SELECT COUNT(*) FROM messages WHERE session_id = 's1'"), 1);
}

TEST_F(SqliteStorageTest, SplitAndWholeRowsInterleavedReadBackInOrder) {
    // Long and short messages alternate; each read assembles the long ones with one query.
    std::vector<bj::object> all;
    StepDelta d;
    for (int i = 0; i < 9; ++i) {
        bj::object m = reply(i % 3 == 0 ? 4 : 1, "message " + std::to_string(i));
        m["id"] = "m" + std::to_string(i);
        all.push_back(m);
        d.log_upserts.push_back(m);
        d.context_upserts.push_back(m);
    }
    ASSERT_TRUE(storage_.persist_step("alice", "s1", d));
    EXPECT_EQ(query("SELECT COUNT(*) FROM messages WHERE session_id = 's1' AND content_at >= 0"), 3);
    auto context = storage_.get_session("alice", "s1", true)->context;
    ASSERT_EQ(context->size(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(json::write(context->at(i)), json::write(all[i])) << i;
    // A page whose ends cut between split rows: m2..m5 (m3 is split), then m0..m1 (m0 is split).
    auto page = storage_.list_messages("alice", "s1", 4, std::string("m6"));
    ASSERT_EQ(page.messages.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(json::write(page.messages[i]), json::write(all[i + 2])) << i;
    auto first = storage_.list_messages("alice", "s1", 4, std::string("m2"));
    ASSERT_EQ(first.messages.size(), 2u);
    EXPECT_EQ(json::write(first.messages[0]), json::write(all[0]));
    EXPECT_EQ(json::write(first.messages[1]), json::write(all[1]));
}

TEST_F(SqliteStorageTest, BlocksNotAsThisCodeLeavesThemAreWrittenAfresh) {
    step(reply(4));
    // A gap in the positions (not something this code writes): the next step rewrites the row's blocks.
    query("DELETE FROM message_blocks WHERE session_id = 's1' AND store = 0 AND idx = 1");
    const auto before = storage_.blocks_written();
    step(reply(4));
    EXPECT_EQ(storage_.blocks_written() - before, 4u);
    EXPECT_EQ(json::write(*storage_.get_message("alice", "s1", "r1")), json::write(reply(4)));
    EXPECT_EQ(block_rows(), 8);
}

// A step rewrites a split message's head and blocks, and the session's state,
// in one transaction; a read of several statements must not mix two steps.
TEST_F(SqliteStorageTest, AReadNeverMixesTwoStepsOfARunWritingMeanwhile) {
    struct Version {
        std::string name;
        bj::object msg;
        std::string text;
    };
    std::array<Version, 2> versions;
    for (int v = 0; v < 2; ++v) {
        auto& ver = versions[static_cast<std::size_t>(v)];
        ver.name = v == 0 ? "A" : "B";
        ver.msg = reply(v == 0 ? 3 : 5);  // the block count differs too
        for (auto& b : ver.msg["content"].as_array()) b.as_object()["output"] = std::string(2100, v == 0 ? 'a' : 'b');
        ver.msg["usage"] = bj::object{{"version", ver.name}};
        ver.text = json::write(ver.msg);
    }
    const auto version_of = [&](const bj::object& m) -> std::string {
        const auto text = json::write(m);
        for (const auto& v : versions)
            if (text == v.text) return v.name;
        return "mixed";
    };
    auto state = storage_.get_session("alice", "s1", false)->state;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; i < 300; ++i) {
            const auto& v = versions[static_cast<std::size_t>(i % 2)];
            StepDelta d;
            d.log_upserts.push_back(storage::MessageRef::borrowed(v.msg));
            d.context_upserts.push_back(storage::MessageRef::borrowed(v.msg));
            state.reply_context["version"] = v.name;
            d.state = state;
            EXPECT_TRUE(storage_.persist_step("alice", "s1", d));
        }
        done = true;
    });
    int reads = 0, mixed = 0;
    std::string first_problem;
    const auto check = [&](const std::string& what, const std::string& got, const std::string& expected) {
        if (got == expected || (expected.empty() && got != "mixed")) return;
        if (first_problem.empty()) first_problem = what + ": got " + got + ", expected " + (expected.empty() ? "A or B" : expected);
        ++mixed;
    };
    while (!done) {
        if (auto m = storage_.get_message("alice", "s1", "r1")) check("get_message", version_of(*m), "");
        auto page = storage_.list_messages("alice", "s1", 10, std::nullopt);
        if (!page.messages.empty()) check("list_messages", version_of(page.messages.back()), "");
        auto s = storage_.get_session("alice", "s1", true);
        if (s && s->context && !s->context->empty())
            check("get_session", version_of(s->context->back().as_object()),
                  std::string(json::str_at(s->state.reply_context, "version")));
        ++reads;
    }
    writer.join();
    EXPECT_GT(reads, 20) << "the reader must overlap the writer";
    EXPECT_EQ(mixed, 0) << "of " << reads << " rounds; first: " << first_problem;
}

}  // namespace
}  // namespace agentd::storage::sqlite

namespace agentd::storage::sqlite {
namespace {

/// Checkpoints run after `steps` steps of fresh ~2 KB messages (~9 pages of log
/// each), with a checkpoint due past `checkpoint_pages` pages; waits up to
/// `patience` for the first one (the checkpointer runs behind the writes).
std::uint64_t checkpoints_after(int checkpoint_pages, int steps, std::chrono::milliseconds patience) {
    const fs::path dir = fs::temp_directory_path() / ("agentd-sqlite-wal-" + new_id());
    fs::create_directories(dir);
    std::uint64_t ran = 0;
    {
        SqliteStorage storage(dir / "agentd.db", test_secret_box(), 2, checkpoint_pages);
        storage.migrate();
        seed_session(storage);
        for (int i = 0; i < steps; ++i) {
            const bj::object msg{{"id", "m" + std::to_string(i)}, {"role", "user"}, {"name", "user"},
                                 {"content", bj::array{bj::object{{"type", "text"}, {"text", std::string(2000, 'x')}}}}};
            StepDelta d;
            d.log_upserts.push_back(msg);
            d.context_upserts.push_back(msg);
            EXPECT_TRUE(storage.persist_step("alice", "s1", d));
        }
        const auto until = std::chrono::steady_clock::now() + patience;
        while (storage.wal_checkpoints() == 0 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ran = storage.wal_checkpoints();
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return ran;
}

// 400 steps write ~3,600 pages of log: past a 100-page threshold, not past the
// default (10,000 pages), which the storage must not fall back to.
TEST(SqliteStorageCheckpoints, TheConfiguredSizeDecidesWhenTheLogIsCopiedBack) {
    EXPECT_GE(checkpoints_after(100, 400, std::chrono::seconds(20)), 1u);
    EXPECT_EQ(checkpoints_after(SqliteStorage::kDefaultCheckpointPages, 400, std::chrono::milliseconds(500)), 0u);
}

}  // namespace
}  // namespace agentd::storage::sqlite
