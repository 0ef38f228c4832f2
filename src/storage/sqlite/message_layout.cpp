#include "storage/sqlite/message_layout.hpp"

#include <sodium.h>

#include <stdexcept>

#include "common/json.hpp"

namespace agentd::storage::sqlite {

namespace bj = boost::json;

MessageLayout lay_out(const bj::object& msg, std::size_t split_from, const BlockMemo* memo) {
    MessageLayout out;
    const auto* content = msg.if_contains("content");
    if (!content || !content->is_array() || content->get_array().size() < 2) {
        out.head = json::write(msg);
        return out;
    }
    // The head is written member by member, in the message's own order, so that
    // the place of the content list is known without searching the text.
    out.head += '{';
    bool first = true;
    for (const auto& member : msg) {
        if (!first) out.head += ',';
        first = false;
        json::write_string(out.head, member.key());
        out.head += ':';
        if (member.key() == "content") {
            out.head += '[';
            out.content_at = static_cast<std::int64_t>(out.head.size());
            out.head += ']';
        } else {
            json::write_to(out.head, member.value());
        }
    }
    out.head += '}';
    const auto& blocks = content->get_array();
    out.blocks.reserve(blocks.size());
    out.digests.resize(blocks.size());
    out.reused.resize(blocks.size());
    std::size_t size = out.head.size();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (memo && i < memo->values.size() && json::equal_in_order(memo->values[i], blocks[i])) {
            out.blocks.push_back(memo->texts[i]);
            out.digests[i] = memo->digests[i];
            out.reused[i] = true;
        } else {
            out.blocks.push_back(json::write(blocks[i]));
        }
        size += out.blocks.back().size() + 1;
    }
    if (size < split_from) {  // small: the whole text, the same bytes json::write gives
        out.head = assemble(out.head, out.content_at, out.blocks);
        out.content_at = -1;
        out.blocks.clear();
        out.digests.clear();
        out.reused.clear();
    }
    return out;
}

std::size_t BlockMemo::bytes() const {
    std::size_t n = 0;
    for (const auto& t : texts) n += 2 * t.size() + 64;  // the text, and about as much for its value
    return n;
}

BlockMemo remember(const bj::object& msg, MessageLayout&& layout, BlockMemo* previous) {
    BlockMemo memo;
    const auto& blocks = msg.at("content").get_array();
    memo.values.reserve(blocks.size());
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (layout.reused[i] && previous && i < previous->values.size())
            memo.values.push_back(std::move(previous->values[i]));
        else
            memo.values.push_back(blocks[i]);
    }
    memo.texts = std::move(layout.blocks);
    memo.digests = std::move(layout.digests);
    return memo;
}

std::string assemble(std::string_view head, std::int64_t content_at, const std::vector<std::string>& blocks) {
    if (content_at < 0) return std::string(head);
    const auto at = static_cast<std::size_t>(content_at);
    if (at == 0 || at >= head.size() || head[at - 1] != '[' || head[at] != ']')
        throw std::runtime_error("stored message head has no content list at its recorded offset");
    std::size_t size = head.size() + blocks.size();
    for (const auto& b : blocks) size += b.size();
    std::string out;
    out.reserve(size);
    out.append(head.substr(0, at));
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (i) out += ',';
        out += blocks[i];
    }
    out.append(head.substr(at));
    return out;
}

std::string block_digest(std::string_view block) {
    std::string digest(16, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(digest.data()), digest.size(),
                       reinterpret_cast<const unsigned char*>(block.data()), block.size(), nullptr, 0);
    return digest;
}

}  // namespace agentd::storage::sqlite
