#include "common/json.hpp"

#include "common/python_json_error.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/stream_parser.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace agentd::json {

std::string format_double(double d) {
    if (std::isnan(d) || std::isinf(d)) return "null";  // not representable in JSON
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    // Shortest round-trip digits in scientific form: "d.ddddde[+-]xx".
    auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    bool negative = sci[0] == '-';
    if (negative) sci.erase(0, 1);
    auto epos = sci.find('e');
    std::string mantissa = sci.substr(0, epos);
    int exp = std::stoi(sci.substr(epos + 1));
    std::string digits;
    for (char c : mantissa)
        if (c != '.') digits.push_back(c);
    std::string out = negative ? "-" : "";
    if (exp >= -4 && exp < 16) {
        // Python's repr: positional notation for 1e-4 <= |d| < 1e16.
        if (exp >= 0) {
            if (static_cast<int>(digits.size()) <= exp + 1) {
                out += digits;
                out.append(exp + 1 - digits.size(), '0');
                out += ".0";
            } else {
                out += digits.substr(0, exp + 1);
                out += '.';
                out += digits.substr(exp + 1);
            }
        } else {
            out += "0.";
            out.append(-exp - 1, '0');
            out += digits;
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
        out += '.';
        out += digits.substr(1);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    int aexp = exp < 0 ? -exp : exp;
    if (aexp < 10) out += '0';
    out += std::to_string(aexp);
    return out;
}

namespace {

/// Whether any of the 8 bytes in `v` must be escaped: below 0x20, '"' or '\\'.
/// (Per byte, x - k borrows into the top bit only where x < k; the top bit of ~x
/// excludes bytes of 0x80 and above, which are written as they are.)
bool needs_escape(std::uint64_t v) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    const std::uint64_t quote = v ^ (kOnes * '"');
    const std::uint64_t backslash = v ^ (kOnes * '\\');
    return (((v - kOnes * 0x20) & ~v) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
}

}  // namespace

void write_string(std::string& out, std::string_view s) {
    static const char* kHex = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        // Long texts (tool results, file contents) are mostly plain: skip them 8 bytes at a time.
        while (i + 8 <= s.size()) {
            std::uint64_t chunk;
            std::memcpy(&chunk, s.data() + i, 8);
            if (needs_escape(chunk)) break;
            i += 8;
        }
        if (i >= s.size()) break;
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                out += "\\u00";
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 15]);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

namespace {

const char* item_separator(Style style) { return style == Style::kCompact ? "," : ", "; }
const char* key_separator(Style style) { return style == Style::kCompact ? ":" : ": "; }

}  // namespace

void write_to(std::string& out, const bj::array& a, Style style) {
    out.push_back('[');
    bool first = true;
    for (const auto& e : a) {
        if (!first) out += item_separator(style);
        first = false;
        write_to(out, e, style);
    }
    out.push_back(']');
}

void write_to(std::string& out, const bj::object& o, Style style) {
    out.push_back('{');
    bool first = true;
    for (const auto& kv : o) {
        if (!first) out += item_separator(style);
        first = false;
        write_string(out, kv.key());
        out += key_separator(style);
        write_to(out, kv.value(), style);
    }
    out.push_back('}');
}

void write_to(std::string& out, const bj::value& v, Style style) {
    switch (v.kind()) {
        case bj::kind::null: out += "null"; break;
        case bj::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
        case bj::kind::int64: out += std::to_string(v.get_int64()); break;
        case bj::kind::uint64: out += std::to_string(v.get_uint64()); break;
        case bj::kind::double_: out += format_double(v.get_double()); break;
        case bj::kind::string: write_string(out, v.get_string()); break;
        case bj::kind::array: write_to(out, v.get_array(), style); break;
        case bj::kind::object: write_to(out, v.get_object(), style); break;
    }
}

namespace {

// Growing the result by doubling costs a reallocation and a copy per step,
// and on a busy server fresh pages on top: a request body of 20 KB took ten
// steps. A per-thread scratch buffer keeps its capacity; the result is one
// allocation of the exact size.
template <typename Json>
std::string write_via_scratch(const Json& v, Style style) {
    static thread_local std::string scratch;
    scratch.clear();
    write_to(scratch, v, style);
    std::string out(scratch);
    if (scratch.capacity() > (std::size_t{1} << 20)) std::string().swap(scratch);  // after one huge document
    return out;
}

}  // namespace

std::string write(const bj::value& v, Style style) { return write_via_scratch(v, style); }
std::string write(const bj::object& o, Style style) { return write_via_scratch(o, style); }
std::string write(const bj::array& a, Style style) { return write_via_scratch(a, style); }

ParseResult parse(std::string_view text) {
    ParseResult r;
    bj::parse_options opts;
    opts.max_depth = 64;  // hostile nesting must not exhaust the stack
    bj::error_code ec;
    bj::value v = bj::parse(text, ec, {}, opts);
    if (!ec) {
        r.value = std::move(v);
        return r;
    }
    // Report the failure the way Python's json module would (FastAPI's wording).
    if (auto py = python_json_error(text)) {
        r.error_offset = py->pos;
        r.error_message = py->msg;
    } else {
        // Python accepts it (NaN, or nesting beyond our limit): still refuse, at the start.
        r.error_offset = 0;
        r.error_message = ec == bj::error::too_deep ? "Document nested too deeply" : "Unsupported JSON value";
    }
    return r;
}

bool equal_in_order(const bj::value& a, const bj::value& b) {
    if (a.kind() != b.kind()) return a == b;  // int64 5 and uint64 5 are equal
    switch (a.kind()) {
        case bj::kind::object: {
            const auto& x = a.get_object();
            const auto& y = b.get_object();
            if (x.size() != y.size()) return false;
            for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
                if (i->key() != j->key() || !equal_in_order(i->value(), j->value())) return false;
            return true;
        }
        case bj::kind::array: {
            const auto& x = a.get_array();
            const auto& y = b.get_array();
            if (x.size() != y.size()) return false;
            for (std::size_t i = 0; i < x.size(); ++i)
                if (!equal_in_order(x[i], y[i])) return false;
            return true;
        }
        default:
            return a == b;
    }
}

bool is_valid_utf8(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t n = text.size(), i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { ++i; continue; }
        std::size_t len;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (std::size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

bj::value parse_trusted(std::string_view text) {
    bj::parse_options opts;
    opts.max_depth = 256;
    return bj::parse(text, {}, opts);
}

namespace {

/// Whether an integral JSON number equals a double exactly (no rounding of
/// the integer to double: 2^53 + 1 is not 2^53).
bool integer_equals_double(const bj::value& integer, double d) {
    if (!std::isfinite(d) || std::floor(d) != d) return false;
    if (integer.is_int64()) {
        if (d < -0x1p63 || d >= 0x1p63) return false;
        return static_cast<std::int64_t>(d) == integer.get_int64();
    }
    if (d < 0 || d >= 0x1p64) return false;
    return static_cast<std::uint64_t>(d) == integer.get_uint64();
}

}  // namespace

bool schema_equal(const bj::value& a, const bj::value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_double() && b.is_double()) return a.get_double() == b.get_double();
        if (a.is_double()) return integer_equals_double(b, a.get_double());
        if (b.is_double()) return integer_equals_double(a, b.get_double());
        return a == b;  // int64 and uint64: Boost.JSON compares them by value
    }
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
        const auto &x = a.get_array(), &y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!schema_equal(x[i], y[i])) return false;
        return true;
    }
    if (a.is_object()) {
        const auto &x = a.get_object(), &y = b.get_object();
        if (x.size() != y.size()) return false;
        for (const auto& kv : x) {
            auto it = y.find(kv.key());
            if (it == y.end() || !schema_equal(kv.value(), it->value())) return false;
        }
        return true;
    }
    return a == b;
}

}  // namespace agentd::json
