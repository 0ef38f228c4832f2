#include "agent/context_budget.hpp"

#include <cmath>

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

bj::value truncate_tool_output(const bj::value& output, std::int64_t limit) {
    if (estimate_tokens(output) <= limit) return output;
    if (output.is_string()) {
        std::string kept(utf8_prefix(output.get_string(), static_cast<std::size_t>(std::max<std::int64_t>(0, limit)) * 4));
        kept += kTruncatedReminder;
        return bj::value(kept);
    }
    if (!output.is_array()) return output;
    bj::array kept;
    std::int64_t used = 0;
    for (const auto& block : output.get_array()) {
        std::int64_t cost = estimate_tokens(block);
        if (used + cost <= limit) {
            kept.push_back(block);
            used += cost;
            continue;
        }
        // The boundary block: a text block is cut to the remaining budget; any
        // other kind is left out entirely.
        if (block.is_object() && block.get_object().contains("text") && block.get_object().at("text").is_string()) {
            bj::object cut = block.get_object();
            auto budget = static_cast<std::size_t>(std::max<std::int64_t>(0, limit - used)) * 4;
            cut["text"] = std::string(utf8_prefix(cut.at("text").get_string(), budget));
            kept.push_back(std::move(cut));
        }
        break;
    }
    // The marker goes on the last kept text block, or becomes one.
    for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
        if (it->is_object() && it->get_object().contains("text") && it->get_object().at("text").is_string()) {
            auto& text = it->get_object()["text"];
            text = std::string(text.get_string()) + std::string(kTruncatedReminder);
            return bj::value(std::move(kept));
        }
    }
    kept.push_back(bj::object{{"type", "text"}, {"text", std::string(kTruncatedReminder)}});
    return bj::value(std::move(kept));
}

}  // namespace agentd::agent
