#include "agent/context_budget.hpp"

#include <algorithm>
#include <cmath>

#include "domain/message.hpp"

namespace agentd::agent {

namespace bj = boost::json;

namespace {

struct Tally {
    std::size_t bytes = 0;
    std::int64_t data_blocks = 0;
    std::int64_t images = 0;
};

void collect(const bj::value& v, Tally& t) {
    if (v.is_string()) {
        t.bytes += v.get_string().size();
        return;
    }
    if (v.is_array()) {
        for (const auto& e : v.get_array()) collect(e, t);
        return;
    }
    if (!v.is_object()) return;
    const auto& o = v.get_object();
    if (o.contains("content") && o.contains("role")) {  // a message
        collect(o.at("content"), t);
        return;
    }
    auto type = o.contains("type") && o.at("type").is_string() ? std::string_view(o.at("type").get_string()) : "";
    if (type == "text" && o.contains("text")) collect(o.at("text"), t);
    else if (type == "thinking" && o.contains("thinking")) collect(o.at("thinking"), t);
    else if (type == "hint" && o.contains("hint")) collect(o.at("hint"), t);
    else if (type == "tool_call" && o.contains("input")) collect(o.at("input"), t);
    else if (type == "tool_result" && o.contains("output")) collect(o.at("output"), t);
    else if (type == "data") {
        ++t.data_blocks;
        const auto* src = o.if_contains("source");
        if (src && src->is_object()) {
            const auto* media = src->get_object().if_contains("media_type");
            if (media && media->is_string() && media->get_string().starts_with("image/")) ++t.images;
        }
    }
}

std::int64_t tokens_of(const Tally& t) {
    return static_cast<std::int64_t>(std::floor(static_cast<double>(t.bytes) / 4.0 + 0.5)) + 2000 * t.data_blocks;
}

/// Code points in UTF-8 `s` (Python's len).
std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

/// The first `count` code points of UTF-8 `s` (Python's s[:count]).
std::string_view code_point_prefix(std::string_view s, std::size_t count) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
        if (seen++ == count) return s.substr(0, i);
    }
    return s;
}

/// Longest prefix of `s` of at most `max_bytes` that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    std::size_t n = max_bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

}  // namespace

std::int64_t estimate_tokens(const bj::value& v) {
    Tally t;
    collect(v, t);
    return tokens_of(t);
}

ContextCost estimate_cost(const bj::value& v) {
    Tally t;
    collect(v, t);
    return ContextCost{tokens_of(t), t.images};
}

std::string truncated_reminder(std::string_view offload_path) {
    std::string out = "\n<<<TRUNCATED>>>\n<system-reminder>The remaining content has been omitted for limited context.";
    if (!offload_path.empty())
        out += " You can refer to the file in '" + std::string(offload_path) + "' for the truncated content if needed.";
    out += "</system-reminder>";
    return out;
}

namespace {

bool is_text_block(const bj::value& v) {
    if (!v.is_object()) return false;
    const auto& o = v.get_object();
    const auto* type = o.if_contains("type");
    const auto* text = o.if_contains("text");
    return type && type->is_string() && type->get_string() == "text" && text && text->is_string();
}

void append_text(bj::value& block, std::string_view more) {
    auto& text = block.get_object()["text"];
    text = std::string(text.get_string()) + std::string(more);
}

}  // namespace

std::optional<ToolOutputCut> cut_tool_output(const bj::value& output, std::int64_t limit) {
    if (estimate_tokens(output) <= limit) return std::nullopt;
    const auto budget_bytes = [](std::int64_t tokens) {
        return static_cast<std::size_t>(std::max<std::int64_t>(0, tokens)) * 4;
    };
    if (output.is_string()) {
        const std::string_view whole = output.get_string();
        const std::string_view kept = utf8_prefix(whole, budget_bytes(limit));
        return ToolOutputCut{bj::value(kept), bj::value(whole.substr(kept.size()))};
    }
    if (!output.is_array()) return std::nullopt;
    const auto& blocks = output.get_array();
    // Leading blocks are kept while all of them together, counted as one
    // message as the reference counts them, stay below the limit.
    bj::array kept, rest;
    Tally prefix;
    std::size_t i = 0;
    for (; i < blocks.size(); ++i) {
        Tally with = prefix;
        collect(blocks[i], with);
        if (tokens_of(with) >= limit) break;
        prefix = with;
        kept.push_back(blocks[i]);
    }
    if (i < blocks.size()) {
        const auto& boundary = blocks[i++];
        if (is_text_block(boundary)) {
            // The reference's layout: the kept head joins a text block before
            // it (nothing is added when it is empty), the cut tail one after it.
            const std::string_view whole = boundary.get_object().at("text").get_string();
            // The share of the text that fits, as the reference takes it: the
            // remaining budget over the tokens the whole text adds, applied to
            // its length in code points.
            Tally with = prefix;
            collect(boundary, with);
            const std::int64_t delta = tokens_of(with) - tokens_of(prefix);
            const std::int64_t remaining = limit - tokens_of(prefix);
            const auto length = static_cast<std::int64_t>(code_points(whole));
            std::int64_t share = delta <= 0 ? (remaining > 0 ? length : 0)
                                            : static_cast<std::int64_t>(static_cast<double>(remaining) /
                                                                        static_cast<double>(delta) *
                                                                        static_cast<double>(length));
            share = std::clamp<std::int64_t>(share, 0, length);
            const std::string_view head = code_point_prefix(whole, static_cast<std::size_t>(share));
            const std::string_view tail = whole.substr(head.size());
            if (!head.empty()) {
                if (!kept.empty() && is_text_block(kept.back())) {
                    append_text(kept.back(), head);
                } else {
                    bj::object front = boundary.get_object();
                    front["text"] = head;
                    kept.push_back(std::move(front));
                }
            }
            if (!tail.empty()) {
                if (i < blocks.size() && is_text_block(blocks[i])) {
                    bj::object next = blocks[i++].get_object();
                    next["text"] = std::string(tail) + std::string(next["text"].get_string());
                    rest.push_back(std::move(next));
                } else {
                    bj::object back = boundary.get_object();
                    back["text"] = tail;
                    rest.push_back(std::move(back));
                }
            }
        } else {
            rest.push_back(boundary);
        }
        for (; i < blocks.size(); ++i) rest.push_back(blocks[i]);
    }
    // Nothing cut after all: the output stays as it is, without a notice.
    if (rest.empty()) return std::nullopt;
    return ToolOutputCut{bj::value(std::move(kept)), bj::value(std::move(rest))};
}

bj::value with_reminder(bj::value kept, std::string_view reminder) {
    if (kept.is_string()) {
        std::string text(kept.get_string());
        text += reminder;
        return bj::value(text);
    }
    // Only a text block at the very end takes the notice; after an image it
    // is a block of its own, as the reference writes it.
    bj::array blocks = kept.is_array() ? std::move(kept.get_array()) : bj::array{};
    if (!blocks.empty() && is_text_block(blocks.back())) append_text(blocks.back(), reminder);
    else blocks.push_back(domain::text_block(reminder));
    return bj::value(std::move(blocks));
}

}  // namespace agentd::agent
