#include "storage/sqlite/wal_checkpointer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "storage/sqlite/sqlite_db.hpp"

namespace agentd::storage::sqlite {
namespace {

namespace fs = std::filesystem;

class WalCheckpointerTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("agentd-wal-" + std::to_string(::getpid()) + "-" +
                                            testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string db() const { return (dir_ / "db.sqlite").string(); }
    std::uintmax_t wal_bytes() const {
        std::error_code ec;
        auto n = fs::file_size(dir_ / "db.sqlite-wal", ec);
        return ec ? 0 : n;
    }
    /// `n` transactions of one 2 KB row each (at least one page per commit).
    static void write_rows(ConnectionPool& pool, int from, int n) {
        for (int i = from; i < from + n; ++i) {
            auto c = pool.acquire();
            Transaction tx(*c);
            c->prepare("INSERT INTO t (k, v) VALUES (?, ?)").bind(1, std::int64_t{i}).bind(2, std::string(2048, 'x')).exec();
            tx.commit();
        }
    }
    static bool wait_for(const std::function<bool()>& done) {
        for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return done();
    }

    fs::path dir_;
};

TEST_F(WalCheckpointerTest, TheLogIsCopiedBackOffTheCommittingThreadAndStaysBounded) {
    ConnectionPool pool(db(), 2, 64);
    pool.acquire()->exec_script("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    // Far more than the threshold, in bursts: without a checkpoint the log
    // only grows (the automatic one is off for the pool's connections).
    for (int burst = 0; burst < 10; ++burst) {
        write_rows(pool, burst * 100, 100);
        // Idle: the burst's last commits were seen by a checkpoint (one that was
        // already running when they came in may not have copied them).
        ASSERT_TRUE(wait_for([&] { return pool.checkpointer().idle(); })) << "still busy after burst " << burst;
        ASSERT_GT(pool.checkpointer().checkpoints(), static_cast<std::uint64_t>(burst))
            << "no checkpoint after burst " << burst;
    }
    // 1,000 commits of ~3 pages each make a 12 MB log when it is never begun
    // anew; restarted after checkpoints, it stays near two bursts' worth (the
    // file keeps its high-water size).
    EXPECT_LT(wal_bytes(), 1000u * 4096u) << "the log was never restarted";
    auto c = pool.acquire();
    auto st = c->prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.int64(0), 1000);
}

TEST_F(WalCheckpointerTest, BelowTheThresholdNothingRunsAndEverythingSurvivesAReopen) {
    {
        ConnectionPool pool(db(), 2, 100000);
        pool.acquire()->exec_script("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
        write_rows(pool, 0, 200);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_EQ(pool.checkpointer().checkpoints(), 0u);
        EXPECT_GT(wal_bytes(), 200u * 2048u);  // everything is still in the log
    }
    ConnectionPool reopened(db(), 1);
    auto c = reopened.acquire();
    auto st = c->prepare("SELECT count(*), min(length(v)) FROM t");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.int64(0), 200);
    EXPECT_EQ(st.int64(1), 2048);
}

}  // namespace
}  // namespace agentd::storage::sqlite
