#include "common/python_repr.hpp"

#include <string_view>

#include "common/json.hpp"

namespace agentd {

namespace bj = boost::json;

namespace {

void append_python_string(std::string& out, std::string_view s) {
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    out.push_back(quote);
    auto hex = [](unsigned v, int digits) {
        static const char* kDigits = "0123456789abcdef";
        std::string h;
        for (int i = digits - 1; i >= 0; --i) h.push_back(kDigits[(v >> (4 * i)) & 0xF]);
        return h;
    };
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        unsigned cp = b;
        std::size_t len = 1;
        if (b >= 0xF0 && i + 3 < s.size() + 0) {
            cp = ((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
            len = 4;
        } else if (b >= 0xE0 && i + 2 < s.size()) {
            cp = ((b & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
            len = 3;
        } else if (b >= 0xC0 && i + 1 < s.size()) {
            cp = ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
            len = 2;
        }
        if (cp == static_cast<unsigned char>(quote) || cp == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(cp));
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) {
            out += "\\x" + hex(cp, 2);
        } else if ((cp >= 0x200B && cp <= 0x200F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) {
            out += "\\u" + hex(cp, 4);  // format and separator characters Python does not print
        } else {
            out.append(s.substr(i, len));
        }
        i += len;
    }
    out.push_back(quote);
}

void append_repr(std::string& out, const bj::value& v) {
    switch (v.kind()) {
        case bj::kind::null: out += "None"; break;
        case bj::kind::bool_: out += v.get_bool() ? "True" : "False"; break;
        case bj::kind::int64: out += std::to_string(v.get_int64()); break;
        case bj::kind::uint64: out += std::to_string(v.get_uint64()); break;
        case bj::kind::double_: out += json::format_double(v.get_double()); break;
        case bj::kind::string: append_python_string(out, v.get_string()); break;
        case bj::kind::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) out += ", ";
                first = false;
                append_repr(out, e);
            }
            out.push_back(']');
            break;
        }
        case bj::kind::object: {
            out.push_back('{');
            bool first = true;
            for (const auto& kv : v.get_object()) {
                if (!first) out += ", ";
                first = false;
                append_python_string(out, kv.key());
                out += ": ";
                append_repr(out, kv.value());
            }
            out.push_back('}');
            break;
        }
    }
}

}  // namespace

std::string python_repr(const bj::value& value) {
    std::string out;
    append_repr(out, value);
    return out;
}

std::string python_str(const bj::value& value) {
    return value.is_string() ? std::string(value.get_string()) : python_repr(value);
}

std::string python_format(std::string_view tmpl, const bj::object& fields) {
    std::string out;
    out.reserve(tmpl.size());
    for (std::size_t i = 0; i < tmpl.size();) {
        const char c = tmpl[i];
        if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
            out.push_back(c);
            i += 2;
            continue;
        }
        if (c == '{') {
            const auto close = tmpl.find('}', i + 1);
            if (close != std::string_view::npos) {
                const std::string_view name = tmpl.substr(i + 1, close - i - 1);
                if (const auto* v = fields.if_contains(name); v && name.find('{') == std::string_view::npos) {
                    out += python_str(*v);
                    i = close + 1;
                    continue;
                }
            }
        }
        out.push_back(c);
        ++i;
    }
    return out;
}

}  // namespace agentd
