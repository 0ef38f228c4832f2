#pragma once
// A thin RAII layer over the SQLite C API: connections, cached prepared
// statements, transactions, and a pool of connections shared by the blocking threads.
#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/sqlite/wal_checkpointer.hpp"

namespace agentd::storage::sqlite {

class Statement {
public:
    explicit Statement(sqlite3_stmt* s) : stmt_(s) {}
    ~Statement() { if (stmt_) { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); } }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, std::int64_t v);
    Statement& bind_blob(int i, std::string_view v);
    Statement& bind(int i, const std::optional<std::string>& v);
    Statement& bind_null(int i);

    /// True while a row is available.
    bool step();
    /// Runs to completion; returns the number of changed rows.
    int exec();

    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
    bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

private:
    sqlite3_stmt* stmt_;
};

class Connection {
public:
    /// `writer`: the mutex every write transaction of this process takes on the
    /// database (null: rely on SQLite's busy timeout alone).
    explicit Connection(const std::string& path, std::mutex* writer = nullptr);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// A prepared statement from this connection's cache, reset on destruction.
    Statement prepare(const std::string& sql);
    void exec_script(const std::string& sql);
    sqlite3* raw() { return db_; }
    std::mutex* writer() { return writer_; }

private:
    sqlite3* db_ = nullptr;
    std::mutex* writer_ = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() is reached.
/// Writers of one process queue on the connection's writer mutex first: SQLite
/// lets one writer in at a time, and a writer refused with SQLITE_BUSY sleeps in
/// its busy handler for 1-100 ms steps, which under many concurrent runs cost
/// far more than the writes. The busy timeout still covers other processes.
class Transaction {
public:
    explicit Transaction(Connection& c);
    ~Transaction();
    void commit();

private:
    Connection& conn_;
    std::unique_lock<std::mutex> writing_;
    bool done_ = false;
};

/// BEGIN ... COMMIT around a read of several statements. Outside a transaction
/// each statement reads the state committed when it started, so a read that
/// takes a row and then its blocks (or a session and then its context) could
/// mix two steps of a run writing meanwhile. Also one WAL read lock for the whole
/// read, not one per statement.
class ReadSnapshot {
public:
    explicit ReadSnapshot(Connection& c);
    ~ReadSnapshot();
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
    Connection& conn_;
};

class ConnectionPool {
public:
    /// `checkpoint_frames`: the log size past which the pool's checkpointer
    /// copies it back (see WalCheckpointer).
    ConnectionPool(std::string path, std::size_t size, int checkpoint_frames = 1000);

    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> c) : pool_(&pool), conn_(std::move(c)) {}
        Lease(Lease&&) = default;
        ~Lease() { if (conn_) pool_->give_back(std::move(conn_)); }
        Connection& operator*() { return *conn_; }
        Connection* operator->() { return conn_.get(); }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Connection> conn_;
    };

    Lease acquire();
    const WalCheckpointer& checkpointer() const { return checkpointer_; }

private:
    void give_back(std::unique_ptr<Connection> c);

    std::string path_;
    std::mutex writer_;  // one write transaction at a time (see Transaction)
    WalCheckpointer checkpointer_;  // before the connections: it must outlive them
    std::mutex mutex_;   // guards idle_ and created_
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::size_t created_ = 0;
    std::size_t size_;
};

}  // namespace agentd::storage::sqlite
