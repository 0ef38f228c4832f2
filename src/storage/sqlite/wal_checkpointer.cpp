#include "storage/sqlite/wal_checkpointer.hpp"

#include <spdlog/spdlog.h>

#include "storage/sqlite/sqlite_db.hpp"

namespace agentd::storage::sqlite {

WalCheckpointer::WalCheckpointer(std::string path, std::mutex& writer, int threshold_frames)
    : path_(std::move(path)), writer_(writer), threshold_(threshold_frames), thread_([this] { loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void WalCheckpointer::attach(sqlite3* db) { sqlite3_wal_hook(db, &WalCheckpointer::on_commit, this); }

int WalCheckpointer::on_commit(void* self, sqlite3*, const char*, int frames) {
    auto* me = static_cast<WalCheckpointer*>(self);
    if (frames >= me->threshold_) {
        {
            std::lock_guard lock(me->mutex_);
            me->due_ = true;
        }
        me->wake_.notify_one();
    }
    return SQLITE_OK;
}

void WalCheckpointer::loop() {
    // Opened on first use: the database may not exist yet when the pool is made.
    std::unique_ptr<Connection> conn;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return due_ || stopping_; });
        if (stopping_) return;
        due_ = false;
        running_ = true;
        lock.unlock();
        try {
            if (!conn) {
                conn = std::make_unique<Connection>(path_);
                attach(conn->raw());  // its own commits (none expected) checkpoint nothing either
            }
            auto passive = [&] {
                const int rc = sqlite3_wal_checkpoint_v2(conn->raw(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                                         nullptr);
                if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                    spdlog::warn("sqlite: checkpoint of {} failed: {}", path_, sqlite3_errmsg(conn->raw()));
            };
            passive();  // the bulk, while commits go on
            {
                std::lock_guard writing(writer_);
                passive();  // what they added meanwhile: a few pages
            }
            checkpoints_.fetch_add(1);
        } catch (const std::exception& e) {
            spdlog::warn("sqlite: checkpointer: {}", e.what());
        }
        lock.lock();
        running_ = false;
    }
}

bool WalCheckpointer::idle() const {
    std::lock_guard lock(mutex_);
    return !due_ && !running_;
}

}  // namespace agentd::storage::sqlite
