#include "storage/sqlite/sqlite_db.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace agentd::storage::sqlite {

namespace {
[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    throw std::runtime_error(what + ": " + (db ? sqlite3_errmsg(db) : "sqlite"));
}
}  // namespace

Statement& Statement::bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
}
Statement& Statement::bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind(int i, const std::optional<std::string>& v) {
    if (v) return bind(i, std::string_view(*v));
    return bind_null(i);
}
Statement& Statement::bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(sqlite3_db_handle(stmt_), "sqlite step");
}

int Statement::exec() {
    while (step()) {
    }
    return sqlite3_changes(sqlite3_db_handle(stmt_));
}

std::string Statement::text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::string> Statement::opt_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
}

Connection::Connection(const std::string& path, std::mutex* writer) : writer_(writer) {
    // SQLite's allocation statistics take one process-wide mutex per malloc:
    // with several connections busy at once that is a contended futex per
    // statement, for numbers nothing reads. Only possible before the library
    // initialises; later calls are refused and harmless.
    static const bool no_memstatus = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();
    (void)no_memstatus;
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        fail(db_, "open " + path);
    sqlite3_busy_timeout(db_, 10000);
    exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
}

Connection::~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
}

Statement Connection::prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return Statement(it->second);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK)
        fail(db_, "prepare");
    cache_.emplace(sql, stmt);
    return Statement(stmt);
}

void Connection::exec_script(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown";
        sqlite3_free(err);
        throw std::runtime_error("sqlite: " + msg);
    }
}

Transaction::Transaction(Connection& c) : conn_(c) {
    if (auto* writer = conn_.writer()) writing_ = std::unique_lock(*writer);
    conn_.prepare("BEGIN IMMEDIATE").exec();
}

Transaction::~Transaction() {
    if (!done_) {
        try {
            conn_.prepare("ROLLBACK").exec();
        } catch (...) {
        }
    }
}

void Transaction::commit() {
    conn_.prepare("COMMIT").exec();
    done_ = true;
    if (writing_.owns_lock()) writing_.unlock();
}

ReadSnapshot::ReadSnapshot(Connection& c) : conn_(c) { conn_.prepare("BEGIN").exec(); }

ReadSnapshot::~ReadSnapshot() {
    // A read transaction ends the same way committed or rolled back; ROLLBACK
    // also ends one that a failed statement left open.
    try {
        conn_.prepare("ROLLBACK").exec();
    } catch (...) {
    }
}

ConnectionPool::ConnectionPool(std::string path, std::size_t size, int checkpoint_frames)
    : path_(std::move(path)), checkpointer_(path_, writer_, checkpoint_frames), size_(size) {}

ConnectionPool::Lease ConnectionPool::acquire() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(c));
        }
        if (created_ < size_) {
            ++created_;
            lock.unlock();
            try {
                auto c = std::make_unique<Connection>(path_, &writer_);
                checkpointer_.attach(c->raw());
                return Lease(*this, std::move(c));
            } catch (...) {
                std::lock_guard relock(mutex_);
                --created_;
                throw;
            }
        }
        available_.wait(lock);
    }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> c) {
    // Handed back inside a transaction (its end failed, or a caller forgot it),
    // a connection would go on reading one old snapshot, or hold the write lock:
    // it is rolled back, and closed when even that fails.
    if (!sqlite3_get_autocommit(c->raw())) {
        sqlite3_exec(c->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
        if (!sqlite3_get_autocommit(c->raw())) {
            spdlog::error("sqlite: closed a pooled connection left inside a transaction");
            c.reset();
            {
                std::lock_guard lock(mutex_);
                --created_;
            }
            available_.notify_one();
            return;
        }
    }
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(c));
    }
    available_.notify_one();
}

}  // namespace agentd::storage::sqlite
