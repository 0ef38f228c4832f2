#include "storage/sqlite/block_memos.hpp"

namespace agentd::storage::sqlite {

void BlockMemos::drop(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= it->second.bytes;
    recent_.erase(it->second.at);
    entries_.erase(it);
}

std::unique_ptr<BlockMemo> BlockMemos::take(const std::string& key) {
    std::unique_ptr<BlockMemo> out;
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return out;
    out = std::move(it->second.memo);
    drop(it);
    return out;
}

void BlockMemos::put(const std::string& key, std::unique_ptr<BlockMemo> memo) {
    if (!memo) return;
    const std::size_t bytes = memo->bytes();
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) drop(it);
    if (bytes > max_bytes_) return;  // would evict everything else for one message
    recent_.push_front(key);
    entries_.emplace(key, Entry{std::move(memo), bytes, recent_.begin()});
    bytes_ += bytes;
    while (bytes_ > max_bytes_ && !recent_.empty()) drop(entries_.find(recent_.back()));
}

std::size_t BlockMemos::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

std::size_t BlockMemos::bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace agentd::storage::sqlite
