#pragma once
// Typed, validated reads of a chat model's `parameters` object (the provider's
// pydantic `Parameters`: unknown keys ignored, null = unset). Violations throw
// std::invalid_argument naming the field, like the reference's chat-time
// validation error.
#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::model {

class ParameterReader {
public:
    explicit ParameterReader(const boost::json::object& parameters) : p_(parameters) {}

    /// An integer > 0 (pydantic `gt=0`).
    std::optional<std::int64_t> positive_int(std::string_view key) const;
    /// A number within [lo, hi] (or (lo, …) / (…, hi) when the bound is exclusive).
    std::optional<double> number(std::string_view key, double lo, bool lo_inclusive, double hi,
                                 bool hi_inclusive) const;
    bool flag(std::string_view key, bool fallback) const;
    /// One of `allowed`.
    std::optional<std::string> choice(std::string_view key,
                                      std::initializer_list<std::string_view> allowed) const;
    std::optional<std::string> text(std::string_view key) const;

private:
    const boost::json::value* get(std::string_view key) const;
    const boost::json::object& p_;
};

}  // namespace agentd::model
