#pragma once
// How a message is laid out in SQLite rows.
//
// An agent's reply gathers every thinking, text, tool call and tool result of its
// turn in one message, and the run stores it after each step. Kept as one JSON
// text, step n of a turn would rewrite the blocks of all n steps, so a long turn
// would cost more per step the longer it ran. A message whose content is a list
// of two or more blocks and whose JSON outgrows a database page is therefore
// stored split: its row holds the head (the message's JSON with an empty content
// list) and each block has a row of its own (table message_blocks), keyed by
// position and carrying a digest, so that a step rewrites only the blocks that
// changed. Smaller messages stay whole, as before: rewriting one page costs less
// than the extra statements and digests.
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::storage::sqlite {

struct MessageLayout {
    /// The whole message's JSON (content_at < 0), or its head: the message's JSON
    /// with an empty content list, whose inside begins at byte `content_at`.
    std::string head;
    std::int64_t content_at = -1;
    std::vector<std::string> blocks;  ///< each content block's JSON, in order (split only)
    /// Per block (split only): its digest when known ("" until block_digest is run),
    /// and whether its text came from the memo.
    std::vector<std::string> digests;
    std::vector<bool> reused;

    bool split() const { return content_at >= 0; }
};

/// What the blocks of a message stored step after step were made into last time.
/// A block equal to the one at its position then is neither written to JSON nor
/// hashed again, so a step costs what its new blocks cost, not the whole reply.
struct BlockMemo {
    std::vector<boost::json::value> values;
    std::vector<std::string> texts;
    std::vector<std::string> digests;
    std::size_t bytes() const;  ///< roughly what it holds in memory
};

/// Messages whose JSON is shorter than this stay whole.
constexpr std::size_t kSplitFromBytes = 4096;

/// The layout `msg` is stored in: split when its "content" is a list of two or more
/// blocks and its JSON is at least `split_from` bytes long.
MessageLayout lay_out(const boost::json::object& msg, std::size_t split_from = kSplitFromBytes,
                      const BlockMemo* memo = nullptr);

/// The memo of a split layout of `msg` once every digest is known; takes the
/// layout's texts and digests, and the values of `previous` that were reused.
BlockMemo remember(const boost::json::object& msg, MessageLayout&& layout, BlockMemo* previous);

/// The message's JSON again from its row and its blocks (in position order).
/// Throws std::runtime_error when content_at does not point inside an empty list of `head`.
std::string assemble(std::string_view head, std::int64_t content_at, const std::vector<std::string>& blocks);

/// The digest stored beside a block (BLAKE2b, 16 raw bytes): a block whose new
/// text has the stored digest is not written again.
std::string block_digest(std::string_view block);

}  // namespace agentd::storage::sqlite
