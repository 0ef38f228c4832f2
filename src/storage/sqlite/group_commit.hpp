#pragma once
// Group commit: write work of concurrent callers shares one SQLite transaction.
//
// Every run persists after each step (Storage::persist_step). A commit costs
// the same whether it carries one step or ten: BEGIN IMMEDIATE and COMMIT take
// the WAL write lock, append the dirty pages and update the WAL index, and the
// connection that wrote next finds its page cache stale. With many sessions
// running at once the steps queue on SQLite's single writer, one commit each.
// Here the first caller leads: it takes every caller queued so far, runs each
// one's work in its own savepoint on one connection, and commits once; callers
// that arrive meanwhile form the next group. A caller returns only after its
// group committed, so durability is what a transaction of its own would give.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

#include "storage/sqlite/sqlite_db.hpp"

namespace agentd::storage::sqlite {

class GroupCommit {
public:
    explicit GroupCommit(ConnectionPool& pool) : pool_(pool) {}

    /// Runs `work` inside a write transaction and returns once it is committed.
    /// Work that throws is rolled back alone (its savepoint) and the exception
    /// is rethrown here; the rest of its group still commits. A failing BEGIN
    /// or COMMIT fails every caller of the group.
    void run(const std::function<void(Connection&)>& work);

    /// Callers waiting for the next group (tests).
    std::size_t queued() const;
    /// Transactions committed or attempted so far (tests, diagnostics).
    std::uint64_t groups() const;

private:
    struct Caller {
        const std::function<void(Connection&)>* work;
        std::exception_ptr error;
        bool done = false;
    };
    void commit(const std::vector<Caller*>& group);

    ConnectionPool& pool_;
    mutable std::mutex mutex_;
    std::condition_variable finished_;
    std::vector<Caller*> queue_;
    bool leading_ = false;
    std::uint64_t groups_ = 0;
};

}  // namespace agentd::storage::sqlite
