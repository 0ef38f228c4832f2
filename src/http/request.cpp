#include "http/request.hpp"

#include <algorithm>
#include <cctype>

#include "common/json.hpp"

namespace agentd::http {

Response Response::json(int status, const boost::json::value& v) {
    return json_text(status, agentd::json::write(v));
}

Response Response::json_text(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Response Response::empty(int status) {
    Response r;
    r.status = status;
    r.content_type.clear();
    return r;
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Percent-decoding. Strict: a malformed escape fails the whole text. Lenient
/// (query strings, as Starlette does): a malformed escape is kept as written.
std::optional<std::string> decode(std::string_view s, bool plus_is_space, bool lenient = false) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                if (!lenient) return std::nullopt;
                out.push_back('%');
                continue;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return to_valid_utf8(std::move(out));
}

/// Bytes in [lo, hi] that may follow `lead` as its second byte, or {0, 0} when
/// `lead` cannot start a sequence (the Unicode table of well-formed UTF-8).
std::pair<unsigned char, unsigned char> second_byte_range(unsigned char lead) {
    if (lead >= 0xC2 && lead <= 0xDF) return {0x80, 0xBF};
    if (lead == 0xE0) return {0xA0, 0xBF};
    if (lead == 0xED) return {0x80, 0x9F};  // no surrogates
    if (lead >= 0xE1 && lead <= 0xEF) return {0x80, 0xBF};
    if (lead == 0xF0) return {0x90, 0xBF};
    if (lead >= 0xF1 && lead <= 0xF3) return {0x80, 0xBF};
    if (lead == 0xF4) return {0x80, 0x8F};  // nothing past U+10FFFF
    return {0, 0};
}

}  // namespace

std::string to_valid_utf8(std::string text) {
    if (json::is_valid_utf8(text)) return text;
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::string out;
    out.reserve(n + 8);
    for (std::size_t i = 0; i < n;) {
        const unsigned char lead = s[i];
        if (lead < 0x80) {
            out.push_back(static_cast<char>(lead));
            ++i;
            continue;
        }
        const auto [lo, hi] = second_byte_range(lead);
        const std::size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        // The longest prefix of a well-formed sequence: replaced by one U+FFFD as a
        // whole when the sequence breaks off; a byte that cannot start one alone.
        std::size_t good = 1;
        if (hi != 0 && i + 1 < n && s[i + 1] >= lo && s[i + 1] <= hi) {
            good = 2;
            while (good < len && i + good < n && (s[i + good] & 0xC0) == 0x80) ++good;
        }
        if (hi != 0 && good == len) out.append(text, i, len);
        else out += kReplacement;
        i += good;
    }
    return out;
}

std::string latin1_header_text(std::string_view raw) {
    // Every request's user id passes here: plain ASCII, the usual case, is one copy.
    if (std::all_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
        return std::string(raw);
    std::string out;
    out.reserve(raw.size());
    for (const char c : raw) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x80) {
            out.push_back(c);
        } else {
            out.push_back(static_cast<char>(0xC0 | (b >> 6)));
            out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
        }
    }
    return out;
}

bool body_declared_json(const Request& req) {
    const std::string* declared = req.header("content-type");
    if (!declared || declared->empty()) return true;  // Python reads "" as absent
    std::string_view media(*declared);
    media = media.substr(0, media.find(';'));
    auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    while (!media.empty() && is_space(media.front())) media.remove_prefix(1);
    while (!media.empty() && is_space(media.back())) media.remove_suffix(1);
    std::string lower(media);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    constexpr std::string_view kApplication = "application/";
    if (!lower.starts_with(kApplication)) return false;
    const std::string_view subtype = std::string_view(lower).substr(kApplication.size());
    return subtype == "json" || subtype.ends_with("+json");
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!raw.empty()) {
        auto amp = raw.find('&');
        std::string_view part = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        std::string_view k = part.substr(0, eq);
        std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
        out.emplace_back(*decode(k, true, true), *decode(v, true, true));
    }
    return out;
}

std::optional<std::string> decode_path(std::string_view raw) { return decode(raw, false); }

}  // namespace agentd::http
