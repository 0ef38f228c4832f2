#include "common/json.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/stream_parser.hpp>
#include <charconv>
#include <cmath>
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

void write_string(std::string& out, std::string_view s) {
    static const char* kHex = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
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

void write_to(std::string& out, const bj::value& v, Style style) {
    const char* item_sep = style == Style::kCompact ? "," : ", ";
    const char* kv_sep = style == Style::kCompact ? ":" : ": ";
    switch (v.kind()) {
        case bj::kind::null: out += "null"; break;
        case bj::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
        case bj::kind::int64: out += std::to_string(v.get_int64()); break;
        case bj::kind::uint64: out += std::to_string(v.get_uint64()); break;
        case bj::kind::double_: out += format_double(v.get_double()); break;
        case bj::kind::string: write_string(out, v.get_string()); break;
        case bj::kind::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) out += item_sep;
                first = false;
                write_to(out, e, style);
            }
            out.push_back(']');
            break;
        }
        case bj::kind::object: {
            out.push_back('{');
            bool first = true;
            for (const auto& kv : v.get_object()) {
                if (!first) out += item_sep;
                first = false;
                write_string(out, kv.key());
                out += kv_sep;
                write_to(out, kv.value(), style);
            }
            out.push_back('}');
            break;
        }
    }
}

std::string write(const bj::value& v, Style style) {
    std::string out;
    write_to(out, v, style);
    return out;
}

namespace {

// Offsets are in characters (code points) like Python's, not bytes.
std::size_t char_offset(std::string_view text, std::size_t byte_offset) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < byte_offset && i < text.size(); ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
    return n;
}

std::string describe(std::string_view text, std::size_t at) {
    if (at >= text.size()) return "Expecting value";
    char c = text[at];
    if (c == '"' ) return "Unterminated string starting at";
    if (c == ',' || c == '}' || c == ']') return "Expecting value";
    if (c == '\'') return "Expecting property name enclosed in double quotes";
    return "Expecting value";
}

}  // namespace

ParseResult parse(std::string_view text) {
    ParseResult r;
    bj::parse_options opts;
    opts.max_depth = 64;  // hostile nesting must not exhaust the stack
    bj::stream_parser p({}, opts);
    bj::error_code ec;
    std::size_t used = p.write_some(text.data(), text.size(), ec);
    if (!ec) {
        p.finish(ec);
        if (!ec) {
            if (used < text.size()) {
                // Trailing data after a complete document; whitespace is fine.
                std::size_t i = used;
                while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) ++i;
                if (i < text.size()) {
                    r.error_offset = char_offset(text, i);
                    r.error_message = "Extra data";
                    return r;
                }
            }
            r.value = p.release();
            return r;
        }
    }
    // Boost stops at the failing byte; `used` is how far it got.
    std::size_t at = used;
    if (at > text.size()) at = text.size();
    r.error_offset = char_offset(text, at);
    r.error_message = describe(text, at);
    return r;
}

bj::value parse_trusted(std::string_view text) {
    bj::parse_options opts;
    opts.max_depth = 256;
    return bj::parse(text, {}, opts);
}

}  // namespace agentd::json
