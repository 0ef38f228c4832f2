#include "common/validation.hpp"

#include <charconv>
#include <cmath>

#include "common/json.hpp"

namespace agentd::validation {

bj::array loc_join(const bj::array& base, std::string_view key) {
    bj::array out = base;
    out.emplace_back(key);
    return out;
}

bj::array loc_join(const bj::array& base, std::size_t index) {
    bj::array out = base;
    out.emplace_back(static_cast<std::int64_t>(index));
    return out;
}

void Issues::add(std::string type, bj::array loc, std::string msg, bj::value input, bj::value ctx) {
    list_.push_back(ValidationIssue{std::move(type), std::move(loc), std::move(msg),
                                    std::move(input), std::move(ctx)});
}

void Issues::append(const Issues& other) {
    list_.insert(list_.end(), other.list_.begin(), other.list_.end());
}

void Issues::throw_if_any() const {
    if (!list_.empty()) throw Error(list_);
}

std::optional<std::string> as_string(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (v.is_string()) return std::string(v.get_string());
    issues.add("string_type", loc, "Input should be a valid string", v);
    return std::nullopt;
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

/// Rust's f64 grammar, which pydantic parses float strings with: an optional
/// sign, then a decimal number (".5", "5." and exponents too) or inf, infinity
/// or nan in any case.
std::optional<double> parse_float_text(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    // from_chars would also take a second sign, hex floats it is not asked for,
    // and "nan(chars)", none of which Rust accepts.
    if (s.empty() || s.front() == '+' || s.front() == '-' || s.find('(') != std::string_view::npos)
        return std::nullopt;
    double out = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), out);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
    return negative ? -out : out;
}

/// When a float string does not parse, pydantic tries once more without its
/// underscores, unless one leads, trails or follows another ("1_0.5" is 10.5).
std::optional<std::string> without_underscores(std::string_view s) {
    if (s.empty() || s.front() == '_' || s.back() == '_' || s.find("__") != std::string_view::npos)
        return std::nullopt;
    std::string out;
    for (const char c : s)
        if (c != '_') out.push_back(c);
    return out;
}

/// pydantic's str -> int: optional sign, digits with single underscores between
/// them, and an optional all-zero fraction ("42.0"). Beyond int64, where pydantic
/// keeps a Python int, the value saturates (see as_int).
std::optional<std::int64_t> parse_int_text(std::string_view s) {
    std::string digits;
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) digits.push_back(s[i++]);
    bool prev_digit = false;
    std::size_t count = 0;
    for (; i < s.size() && s[i] != '.'; ++i) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            digits.push_back(c);
            prev_digit = true;
            ++count;
        } else if (c == '_' && prev_digit && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
            prev_digit = false;
        } else {
            return std::nullopt;
        }
    }
    if (count == 0) return std::nullopt;
    if (i < s.size()) {  // a fraction: one or more zeros, nothing else
        ++i;
        if (i == s.size()) return std::nullopt;
        for (; i < s.size(); ++i)
            if (s[i] != '0') return std::nullopt;
    }
    std::int64_t out = 0;
    const char* begin = digits.data() + (digits[0] == '+' ? 1 : 0);
    auto res = std::from_chars(begin, digits.data() + digits.size(), out);
    if (res.ec == std::errc::result_out_of_range) return digits[0] == '-' ? INT64_MIN : INT64_MAX;
    if (res.ec != std::errc() || res.ptr != digits.data() + digits.size()) return std::nullopt;
    return out;
}

}  // namespace

std::optional<std::int64_t> as_int(const bj::value& v, const bj::array& loc, Issues& issues) {
    switch (v.kind()) {
        case bj::kind::int64: return v.get_int64();
        // An integer beyond int64 (a JSON literal Boost.JSON reads as uint64 or
        // double, or a string) is valid to pydantic, which keeps a Python int. Here
        // it saturates to the nearest int64: a bound check then reports it as
        // pydantic does (`less_than_equal` with the input as sent), and a field
        // without a bound takes the largest value it can hold.
        case bj::kind::uint64:
            if (v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
                return static_cast<std::int64_t>(v.get_uint64());
            return INT64_MAX;
        case bj::kind::bool_: return v.get_bool() ? 1 : 0;
        case bj::kind::double_: {
            double d = v.get_double();
            if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18)
                return static_cast<std::int64_t>(d);
            if (std::isfinite(d) && std::floor(d) == d) return d < 0 ? INT64_MIN : INT64_MAX;
            if (std::isfinite(d)) {
                issues.add("int_from_float", loc,
                           "Input should be a valid integer, got a number with a fractional part", v);
                return std::nullopt;
            }
            break;
        }
        case bj::kind::string: {
            if (auto parsed = parse_int_text(trim(v.get_string()))) return *parsed;
            issues.add("int_parsing", loc,
                       "Input should be a valid integer, unable to parse string as an integer", v);
            return std::nullopt;
        }
        default: break;
    }
    issues.add("int_type", loc, "Input should be a valid integer", v);
    return std::nullopt;
}

std::optional<double> as_float(const bj::value& v, const bj::array& loc, Issues& issues) {
    switch (v.kind()) {
        case bj::kind::int64: return static_cast<double>(v.get_int64());
        case bj::kind::uint64: return static_cast<double>(v.get_uint64());
        case bj::kind::double_: return v.get_double();
        case bj::kind::bool_: return v.get_bool() ? 1.0 : 0.0;
        case bj::kind::string: {
            const auto s = trim(v.get_string());
            if (auto out = parse_float_text(s)) return out;
            if (s.find('_') != std::string_view::npos)
                if (auto plain = without_underscores(s))
                    if (auto out = parse_float_text(*plain)) return out;
            issues.add("float_parsing", loc,
                       "Input should be a valid number, unable to parse string as a number", v);
            return std::nullopt;
        }
        default: break;
    }
    issues.add("float_type", loc, "Input should be a valid number", v);
    return std::nullopt;
}

std::optional<bool> as_bool(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (v.is_bool()) return v.get_bool();
    if (v.is_int64() && (v.get_int64() == 0 || v.get_int64() == 1)) return v.get_int64() == 1;
    if (v.is_uint64() && v.get_uint64() <= 1) return v.get_uint64() == 1;
    if (v.is_double() && (v.get_double() == 0.0 || v.get_double() == 1.0)) return v.get_double() == 1.0;
    if (v.is_string()) {
        std::string s(v.get_string());
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (const char* t : {"1", "on", "t", "true", "y", "yes"})
            if (s == t) return true;
        for (const char* f : {"0", "off", "f", "false", "n", "no"})
            if (s == f) return false;
    }
    if (v.is_string() || v.is_int64() || v.is_uint64()) {
        issues.add("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", v);
    } else {
        issues.add("bool_type", loc, "Input should be a valid boolean", v);
    }
    return std::nullopt;
}

const bj::object* as_model(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (v.is_object()) return &v.get_object();
    issues.add("model_attributes_type", loc,
               "Input should be a valid dictionary or object to extract fields from", v);
    return nullptr;
}

const bj::object* as_dict(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (v.is_object()) return &v.get_object();
    issues.add("dict_type", loc, "Input should be a valid dictionary", v);
    return nullptr;
}

const bj::array* as_list(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (v.is_array()) return &v.get_array();
    issues.add("list_type", loc, "Input should be a valid list", v);
    return nullptr;
}

std::optional<std::string> as_choice(const bj::value& v, const bj::array& loc, Issues& issues,
                                     std::initializer_list<std::string_view> choices,
                                     bool enum_type) {
    if (v.is_string()) {
        for (auto c : choices)
            if (v.get_string() == c) return std::string(c);
    }
    std::string expected;
    std::size_t i = 0;
    for (auto c : choices) {
        if (i > 0) expected += (i + 1 == choices.size()) ? " or " : ", ";
        expected += "'" + std::string(c) + "'";
        ++i;
    }
    bj::object ctx;
    ctx["expected"] = expected;
    issues.add(enum_type ? "enum" : "literal_error", loc, "Input should be " + expected, v,
               std::move(ctx));
    return std::nullopt;
}

std::string number_text(const bj::value& v) {
    if (v.is_double()) return json::format_double(v.get_double());
    return json::write(v);
}

bool check_bound(double value, const bj::value& input, Bound kind, double bound,
                 const bj::value& bound_json, const bj::array& loc, Issues& issues) {
    bool ok = true;
    const char* type = "";
    const char* words = "";
    const char* key = "";
    switch (kind) {
        case Bound::kGt: ok = value > bound; type = "greater_than"; words = "greater than"; key = "gt"; break;
        case Bound::kGe: ok = value >= bound; type = "greater_than_equal"; words = "greater than or equal to"; key = "ge"; break;
        case Bound::kLt: ok = value < bound; type = "less_than"; words = "less than"; key = "lt"; break;
        case Bound::kLe: ok = value <= bound; type = "less_than_equal"; words = "less than or equal to"; key = "le"; break;
    }
    if (ok) return true;
    bj::object ctx;
    ctx[key] = bound_json;
    issues.add(type, loc, std::string("Input should be ") + words + " " + number_text(bound_json),
               input, std::move(ctx));
    return false;
}

}  // namespace agentd::validation
