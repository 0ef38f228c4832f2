#pragma once
// The memos of the messages stored split most recently (message_layout.hpp), by
// message, bounded in bytes; the least recently stored go first. A memo only
// saves work: one that is missing or evicted costs the next step one full pass
// over its message, and one that is stale never matches (blocks are compared by
// value), so nothing here needs to follow deletions.
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/sqlite/message_layout.hpp"

namespace agentd::storage::sqlite {

class BlockMemos {
public:
    explicit BlockMemos(std::size_t max_bytes = 32u << 20) : max_bytes_(max_bytes) {}

    /// Removes and returns the memo under `key` (null when there is none): the
    /// caller owns it while it stores that message.
    std::unique_ptr<BlockMemo> take(const std::string& key);
    /// Keeps `memo` under `key` as the most recent, evicting the oldest beyond the bound.
    void put(const std::string& key, std::unique_ptr<BlockMemo> memo);

    std::size_t size() const;   ///< memos kept (tests)
    std::size_t bytes() const;  ///< their bytes() together (tests)

private:
    struct Entry {
        std::unique_ptr<BlockMemo> memo;
        std::size_t bytes = 0;
        std::list<std::string>::iterator at;
    };
    void drop(std::unordered_map<std::string, Entry>::iterator it);

    std::size_t max_bytes_;
    mutable std::mutex mutex_;
    std::list<std::string> recent_;  ///< keys, most recently put first
    std::unordered_map<std::string, Entry> entries_;
    std::size_t bytes_ = 0;
};

}  // namespace agentd::storage::sqlite
