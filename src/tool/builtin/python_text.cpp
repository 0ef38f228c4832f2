#include "tool/builtin/python_text.hpp"

#include <cstring>

namespace agentd::tool {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at `i`, or 0 with `consumed` set to the
// length of the maximal invalid subpart (at least 1).
std::size_t valid_sequence(std::string_view s, std::size_t i, std::size_t& consumed) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return 1;
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        consumed = 1;
        return 0;
    }
    for (std::size_t k = 1; k < need; ++k) {
        if (i + k >= s.size()) {
            consumed = k;
            return 0;
        }
        const auto b = static_cast<unsigned char>(s[i + k]);
        const unsigned char l = k == 1 ? lo : 0x80;
        const unsigned char h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) {
            consumed = k;
            return 0;
        }
    }
    return need;
}

template <typename OnInvalid>
std::string decode(std::string_view bytes, OnInvalid on_invalid) {
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        // Runs of ASCII are the common case; copy them in one go.
        std::size_t j = i;
        while (j < bytes.size() && static_cast<unsigned char>(bytes[j]) < 0x80) ++j;
        out.append(bytes.data() + i, j - i);
        i = j;
        if (i >= bytes.size()) break;
        std::size_t consumed = 0;
        const std::size_t n = valid_sequence(bytes, i, consumed);
        if (n) {
            out.append(bytes.data() + i, n);
            i += n;
        } else {
            on_invalid(out);
            i += consumed;
        }
    }
    return out;
}

std::size_t sequence_length(unsigned char b) {
    if (b < 0x80) return 1;
    if (b >= 0xF0) return 4;
    if (b >= 0xE0) return 3;
    if (b >= 0xC0) return 2;
    return 1;  // a stray continuation byte; only reachable on invalid input
}

}  // namespace

std::string decode_utf8_replace(std::string_view bytes) {
    return decode(bytes, [](std::string& out) { out.append(kReplacement); });
}

std::string decode_utf8_ignore(std::string_view bytes) {
    return decode(bytes, [](std::string&) {});
}

bool is_valid_utf8(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::size_t consumed = 0;
        const std::size_t n = valid_sequence(bytes, i, consumed);
        if (!n) return false;
        i += n;
    }
    return true;
}

std::string normalize_newlines(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

std::vector<std::string> split_lines_keepends(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t end = 0;  // one past the line break, 0 if none here
        if (c == '\n' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e) {
            end = i + 1;
        } else if (c == '\r') {
            end = (i + 1 < text.size() && text[i + 1] == '\n') ? i + 2 : i + 1;
        } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x85) {
            end = i + 2;
        } else if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
            end = i + 3;
        }
        if (end) {
            lines.emplace_back(text.substr(start, end - start));
            start = i = end;
        } else {
            i += sequence_length(c);
        }
    }
    if (start < text.size()) lines.emplace_back(text.substr(start));
    return lines;
}

std::size_t code_point_count(std::string_view text) {
    std::size_t n = 0;
    for (char ch : text) {
        if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
    }
    return n;
}

std::size_t code_point_prefix_bytes(std::string_view text, std::size_t n) {
    std::size_t i = 0;
    while (i < text.size() && n > 0) {
        i += sequence_length(static_cast<unsigned char>(text[i]));
        --n;
    }
    return i < text.size() ? i : text.size();
}

std::size_t python_count(std::string_view haystack, std::string_view needle) {
    if (needle.empty()) return code_point_count(haystack) + 1;
    std::size_t count = 0;
    for (std::size_t pos = haystack.find(needle); pos != std::string_view::npos;
         pos = haystack.find(needle, pos + needle.size())) {
        ++count;
    }
    return count;
}

std::string python_replace(std::string_view text, std::string_view old, std::string_view replacement,
                           long max_count) {
    std::string out;
    long done = 0;
    auto more = [&] { return max_count < 0 || done < max_count; };
    if (old.empty()) {
        std::size_t i = 0;
        while (i < text.size()) {
            if (more()) {
                out.append(replacement);
                ++done;
            }
            const std::size_t n = sequence_length(static_cast<unsigned char>(text[i]));
            out.append(text.substr(i, n));
            i += n;
        }
        if (more()) out.append(replacement);
        return out;
    }
    std::size_t pos = 0;
    while (more()) {
        const std::size_t hit = text.find(old, pos);
        if (hit == std::string_view::npos) break;
        out.append(text.substr(pos, hit - pos));
        out.append(replacement);
        pos = hit + old.size();
        ++done;
    }
    out.append(text.substr(pos));
    return out;
}

}  // namespace agentd::tool
