#pragma once
// Copies SQLite's write-ahead log back into the database file on a thread of
// its own.
//
// SQLite checkpoints automatically inside the COMMIT that takes the log past
// 1,000 pages: that commit copies every page written since the last checkpoint
// and syncs the database file, and with group commit every run waiting on that
// commit waits for the copy too. Connections that attach() here run no
// automatic checkpoint; their commits only report the log's size, and past
// `threshold_frames` this thread checkpoints on a connection of its own: first
// without blocking anyone (PASSIVE: readers and writers go on), then once more
// under the process's writer mutex for what was committed meanwhile, so that
// the log is fully copied when the next writer starts and that writer begins it
// anew. Without the second pass a busy server would never find the log fully
// copied, and the log would grow without bound.
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace agentd::storage::sqlite {

class Connection;

class WalCheckpointer {
public:
    /// `writer`: the mutex every write transaction of this process takes (see
    /// Transaction); it must outlive the checkpointer.
    WalCheckpointer(std::string path, std::mutex& writer, int threshold_frames = 1000);
    /// Stops the thread; the last connection to close checkpoints what is left.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    /// Replaces `db`'s automatic checkpoint with this one. The checkpointer must
    /// outlive the connection.
    void attach(sqlite3* db);

    /// Checkpoints run so far (tests, diagnostics).
    std::uint64_t checkpoints() const { return checkpoints_.load(); }
    /// Nothing due and nothing running: every commit that asked for a
    /// checkpoint has had one start after it (tests).
    bool idle() const;

private:
    static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
    void loop();

    std::string path_;
    std::mutex& writer_;
    int threshold_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool due_ = false;
    bool running_ = false;
    bool stopping_ = false;
    std::atomic<std::uint64_t> checkpoints_{0};
    std::thread thread_;  // last: started once everything above is ready
};

}  // namespace agentd::storage::sqlite
