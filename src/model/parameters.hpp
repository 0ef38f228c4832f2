#pragma once
// Typed, validated reads of a chat model's `parameters` object (the provider's
// pydantic `Parameters`: unknown keys ignored, null = unset). Values are read
// as pydantic's default lax mode reads them ("4096" is an integer, "0.5" a
// number, "yes" a boolean), and the readers return the coerced value that goes
// into the request body. Violations throw std::invalid_argument naming the
// field, like the reference's chat-time validation error.
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

    /// An integer > 0 (pydantic `gt=0`): an integer, an integral float, a
    /// boolean, or the text of an integer.
    std::optional<std::int64_t> positive_int(std::string_view key) const;
    /// A number within [lo, hi] (or (lo, …) / (…, hi) when the bound is
    /// exclusive): a number, a boolean, or the text of a number.
    std::optional<double> number(std::string_view key, double lo, bool lo_inclusive, double hi,
                                 bool hi_inclusive) const;
    /// A boolean: true/false, 0/1 (also 0.0/1.0), or one of pydantic's words
    /// ("true", "yes", "on", "1", "false", "off", …, any case).
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
