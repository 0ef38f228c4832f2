#pragma once
// Tolerant readers for fields of JSON objects we produced or already validated
// (provider payloads, stored records): a missing or mistyped field reads as empty.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string_view>

namespace agentd::json {

/// The string at `key`, or "" when absent or not a string.
inline std::string_view str_at(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return {};
    const auto& s = it->value().get_string();
    return {s.data(), s.size()};
}

/// The integer at `key` (an integral double is truncated), or 0.
inline std::int64_t int_at(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return 0;
    if (it->value().is_int64()) return it->value().get_int64();
    if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
    if (it->value().is_double()) return static_cast<std::int64_t>(it->value().get_double());
    return 0;
}

/// The object at `key`, or null.
inline const boost::json::object* object_at(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

}  // namespace agentd::json
