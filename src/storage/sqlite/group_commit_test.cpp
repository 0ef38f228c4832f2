#include "storage/sqlite/group_commit.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace agentd::storage::sqlite {
namespace {

class GroupCommitTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("agentd-group-commit-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        pool_ = std::make_unique<ConnectionPool>((dir_ / "db.sqlite").string(), 6);
        auto c = pool_->acquire();
        c->exec_script("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
        commits_ = std::make_unique<GroupCommit>(*pool_);
    }
    void TearDown() override {
        commits_.reset();
        pool_.reset();
        std::filesystem::remove_all(dir_);
    }
    std::vector<std::string> keys() {
        auto c = pool_->acquire();
        auto st = c->prepare("SELECT k FROM t ORDER BY k");
        std::vector<std::string> out;
        while (st.step()) out.push_back(st.text(0));
        return out;
    }
    static std::function<void(Connection&)> insert(const std::string& k) {
        return [k](Connection& c) { c.prepare("INSERT INTO t (k, v) VALUES (?, 1)").bind(1, k).exec(); };
    }
    // Runs `first` on this thread as the leader of a group and, while it runs,
    // queues `followers` on other threads: they form the next group together.
    void lead_then_group(const std::function<void(Connection&)>& first,
                         const std::vector<std::function<void(Connection&)>>& followers,
                         std::vector<std::exception_ptr>& errors) {
        errors.assign(followers.size(), nullptr);
        std::atomic<bool> release{false};
        std::vector<std::thread> threads;
        const std::function<void(Connection&)> leader_work = [&](Connection& c) {
            first(c);
            for (std::size_t i = 0; i < followers.size(); ++i)
                threads.emplace_back([&, i] {
                    try {
                        commits_->run(followers[i]);
                    } catch (...) {
                        errors[i] = std::current_exception();
                    }
                });
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (commits_->queued() < followers.size() && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        };
        commits_->run(leader_work);
        for (auto& t : threads) t.join();
    }

    std::filesystem::path dir_;
    std::unique_ptr<ConnectionPool> pool_;
    std::unique_ptr<GroupCommit> commits_;
};

TEST_F(GroupCommitTest, CallersQueuedDuringACommitShareTheNextOne) {
    std::vector<std::exception_ptr> errors;
    lead_then_group(insert("a"), {insert("b"), insert("c"), insert("d"), insert("e")}, errors);
    for (const auto& e : errors) EXPECT_FALSE(e);
    EXPECT_EQ(keys(), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    EXPECT_EQ(commits_->groups(), 2u) << "the four followers committed together";
}

TEST_F(GroupCommitTest, AThrowingCallerIsRolledBackAloneAndHearsOfIt) {
    auto half_then_throw = [](Connection& c) {
        c.prepare("INSERT INTO t (k, v) VALUES ('half', 1)").exec();
        throw std::runtime_error("step failed");
    };
    auto duplicate = insert("a");  // a constraint violation inside SQLite
    std::vector<std::exception_ptr> errors;
    lead_then_group(insert("a"), {insert("b"), half_then_throw, duplicate, insert("c")}, errors);
    EXPECT_FALSE(errors[0]);
    ASSERT_TRUE(errors[1]);
    EXPECT_THROW(std::rethrow_exception(errors[1]), std::runtime_error);
    EXPECT_TRUE(errors[2]) << "the duplicate key fails its caller only";
    EXPECT_FALSE(errors[3]);
    EXPECT_EQ(keys(), (std::vector<std::string>{"a", "b", "c"})) << "nothing of the failed work remains";
}

TEST_F(GroupCommitTest, ManyThreadsEveryWriteCommittedOnce) {
    constexpr int kThreads = 6, kEach = 40;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                try {
                    commits_->run(insert(std::to_string(t) + "-" + std::to_string(i)));
                } catch (...) {
                    ++failures;
                }
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(keys().size(), static_cast<std::size_t>(kThreads * kEach));
    EXPECT_LE(commits_->groups(), static_cast<std::uint64_t>(kThreads * kEach));
}

// Not group commit itself, but the pool it writes through: a connection handed
// back inside a transaction would serve every later read from its old snapshot.
TEST_F(GroupCommitTest, ThePoolRollsBackAConnectionHandedBackInsideATransaction) {
    {
        auto c = pool_->acquire();
        c->prepare("BEGIN").exec();
        auto st = c->prepare("SELECT COUNT(*) FROM t");
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.int64(0), 0);
    }  // handed back with the read transaction open
    commits_->run([](Connection& c) { c.prepare("INSERT INTO t (k, v) VALUES ('a', 1)").exec(); });
    auto c = pool_->acquire();  // the connection handed back last
    EXPECT_NE(sqlite3_get_autocommit(c->raw()), 0);
    auto st = c->prepare("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.int64(0), 1);
}

}  // namespace
}  // namespace agentd::storage::sqlite
