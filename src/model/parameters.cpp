#include "model/parameters.hpp"

#include <cmath>
#include <stdexcept>

namespace agentd::model {

namespace {
[[noreturn]] void fail(std::string_view key, const std::string& what) {
    throw std::invalid_argument("parameters." + std::string(key) + ": " + what);
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
    std::int64_t n = 0;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64()) {
        n = static_cast<std::int64_t>(v->get_uint64());
    } else if (v->is_double() && std::floor(v->get_double()) == v->get_double()) {
        n = static_cast<std::int64_t>(v->get_double());
    } else {
        fail(key, "Input should be a valid integer");
    }
    if (n <= 0) fail(key, "Input should be greater than 0");
    return n;
}

std::optional<double> ParameterReader::number(std::string_view key, double lo, bool lo_inclusive,
                                              double hi, bool hi_inclusive) const {
    const auto* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_number() || v->is_bool()) fail(key, "Input should be a valid number");
    double d = v->to_number<double>();
    if (lo_inclusive ? d < lo : d <= lo) fail(key, "Input is below the allowed range");
    if (hi_inclusive ? d > hi : d >= hi) fail(key, "Input is above the allowed range");
    return d;
}

bool ParameterReader::flag(std::string_view key, bool fallback) const {
    const auto* v = get(key);
    if (!v) return fallback;
    if (v->is_bool()) return v->get_bool();
    if (v->is_int64() && (v->get_int64() == 0 || v->get_int64() == 1)) return v->get_int64() == 1;
    fail(key, "Input should be a valid boolean");
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
