#include "model/parameters.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace agentd::model {

namespace {

[[noreturn]] void fail(std::string_view key, const std::string& what) {
    throw std::invalid_argument("parameters." + std::string(key) + ": " + what);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

/// `s` without its underscores, pydantic-core's way of reading Python's
/// `1_000`: none may lead, trail or be doubled.
std::optional<std::string> without_underscores(std::string_view s) {
    if (!s.empty() && (s.front() == '_' || s.back() == '_')) return std::nullopt;
    if (s.find("__") != std::string_view::npos) return std::nullopt;
    std::string out;
    for (char c : s)
        if (c != '_') out += c;
    return out;
}

/// An integer written as text, the way pydantic's lax `int` reads it:
/// surrounding whitespace, one sign, digit-separating underscores and a
/// `.000` tail are allowed ("4096.0" is 4096, "4096.5" is not an integer).
std::optional<std::int64_t> int_from_text(std::string_view s) {
    s = trim(s);
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (auto dot = s.find('.'); dot != std::string_view::npos) {
        auto fraction = s.substr(dot + 1);
        if (fraction.empty() || fraction.find_first_not_of('0') != std::string_view::npos)
            return std::nullopt;
        s = s.substr(0, dot);
    }
    auto digits = without_underscores(s);
    if (!digits || digits->empty()) return std::nullopt;
    std::uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(digits->data(), digits->data() + digits->size(), magnitude);
    if (ec != std::errc{} || end != digits->data() + digits->size()) return std::nullopt;
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (magnitude > kMax + (negative ? 1 : 0)) return std::nullopt;
    if (!negative) return static_cast<std::int64_t>(magnitude);
    return magnitude == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                                 : -static_cast<std::int64_t>(magnitude);
}

/// Whether `s` is a float literal in the syntax pydantic-core parses (Rust's
/// `f64::from_str`): a sign, then `inf`, `infinity`, `nan` (any case) or
/// digits with an optional point and exponent.
bool is_float_literal(std::string_view s) {
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "inf" || lower == "infinity" || lower == "nan") return true;
    std::size_t i = 0, mantissa_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
    }
    if (mantissa_digits == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        std::size_t exponent_digits = 0;
        while (i < s.size() && is_digit(s[i])) ++i, ++exponent_digits;
        if (exponent_digits == 0) return false;
    }
    return i == s.size();
}

/// Whether an out-of-range literal is too large (rather than too small) for a
/// double: the decimal exponent of its first significant digit is positive.
bool overflows(std::string_view s) {
    if (!s.empty() && s.front() == '-') s.remove_prefix(1);
    auto e = s.find_first_of("eE");
    std::string_view mantissa = s.substr(0, e);
    long long exponent = 0;
    if (e != std::string_view::npos) {
        std::string_view text = s.substr(e + 1);
        bool negative = !text.empty() && text.front() == '-';
        if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
        for (char c : text) exponent = std::min(exponent * 10 + (c - '0'), 1'000'000'000LL);
        if (negative) exponent = -exponent;
    }
    auto dot = mantissa.find('.');
    std::string_view whole = mantissa.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? "" : mantissa.substr(dot + 1);
    // The power of ten just above the first significant digit, before the exponent.
    long long lead = 0;
    if (auto first = whole.find_first_not_of('0'); first != std::string_view::npos)
        lead = static_cast<long long>(whole.size() - first);
    else
        lead = -static_cast<long long>(fraction.find_first_not_of('0'));
    return lead + exponent > 0;
}

std::optional<double> parse_float_literal(std::string_view s) {
    if (!is_float_literal(s)) return std::nullopt;
    if (s.front() == '+') s.remove_prefix(1);  // from_chars takes no '+'
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc::result_out_of_range) {
        // Rust's parser saturates to ±inf and flushes to ±0; so does this.
        double magnitude = overflows(s) ? std::numeric_limits<double>::infinity() : 0.0;
        return s.front() == '-' ? -magnitude : magnitude;
    }
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return d;
}

/// A number written as text, the way pydantic's lax `float` reads it: the
/// trimmed text, else the text with its digit-separating underscores removed.
std::optional<double> float_from_text(std::string_view s) {
    if (auto d = parse_float_literal(trim(s))) return d;
    if (auto bare = without_underscores(s)) return parse_float_literal(*bare);
    return std::nullopt;
}

/// pydantic's lax `bool` strings, compared case-insensitively.
std::optional<bool> bool_from_text(std::string_view s) {
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string_view word : {"0", "off", "f", "false", "n", "no"})
        if (lower == word) return false;
    for (std::string_view word : {"1", "on", "t", "true", "y", "yes"})
        if (lower == word) return true;
    return std::nullopt;
}

/// An integral double that fits int64 (pydantic: `val % 1 == 0`, finite).
std::optional<std::int64_t> int_from_double(double d) {
    if (!std::isfinite(d) || std::floor(d) != d) return std::nullopt;
    if (d < -0x1p63 || d >= 0x1p63) return std::nullopt;
    return static_cast<std::int64_t>(d);
}

}  // namespace

const boost::json::value* ParameterReader::get(std::string_view key) const {
    auto it = p_.find(key);
    if (it == p_.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

std::optional<std::int64_t> ParameterReader::positive_int(std::string_view key) const {
    const auto* v = get(key);
    if (!v) return std::nullopt;
    std::optional<std::int64_t> n;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64()) {
        if (v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            n = static_cast<std::int64_t>(v->get_uint64());
    } else if (v->is_double()) {
        n = int_from_double(v->get_double());
    } else if (v->is_bool()) {
        n = v->get_bool() ? 1 : 0;
    } else if (v->is_string()) {
        n = int_from_text(v->get_string());
    }
    if (!n) fail(key, "Input should be a valid integer");
    if (*n <= 0) fail(key, "Input should be greater than 0");
    return n;
}

std::optional<double> ParameterReader::number(std::string_view key, double lo, bool lo_inclusive,
                                              double hi, bool hi_inclusive) const {
    const auto* v = get(key);
    if (!v) return std::nullopt;
    std::optional<double> d;
    if (v->is_number())
        d = v->to_number<double>();
    else if (v->is_bool())
        d = v->get_bool() ? 1.0 : 0.0;
    else if (v->is_string())
        d = float_from_text(v->get_string());
    if (!d) fail(key, "Input should be a valid number");
    // Written so that NaN (reachable through "nan") fails the lower bound.
    if (!(lo_inclusive ? *d >= lo : *d > lo)) fail(key, "Input is below the allowed range");
    if (!(hi_inclusive ? *d <= hi : *d < hi)) fail(key, "Input is above the allowed range");
    return d;
}

bool ParameterReader::flag(std::string_view key, bool fallback) const {
    const auto* v = get(key);
    if (!v) return fallback;
    std::optional<bool> b;
    if (v->is_bool()) {
        b = v->get_bool();
    } else if (v->is_number()) {
        // 0 and 1 only, whether written as an integer or as 0.0 / 1.0.
        double d = v->to_number<double>();
        if (d == 0 || d == 1) b = d == 1;
    } else if (v->is_string()) {
        b = bool_from_text(v->get_string());
    }
    if (!b) fail(key, "Input should be a valid boolean");
    return *b;
}

std::optional<std::string> ParameterReader::choice(
    std::string_view key, std::initializer_list<std::string_view> allowed) const {
    const auto* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_string()) {
        std::string_view s = v->get_string();
        for (auto a : allowed)
            if (a == s) return std::string(s);
    }
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "'" : ", '") + std::string(a) + "'";
    fail(key, "Input should be " + list);
}

std::optional<std::string> ParameterReader::text(std::string_view key) const {
    const auto* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(key, "Input should be a valid string");
    return std::string(v->get_string());
}

}  // namespace agentd::model
