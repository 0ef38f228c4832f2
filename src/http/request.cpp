#include "http/request.hpp"

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
    return out;
}

}  // namespace

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
