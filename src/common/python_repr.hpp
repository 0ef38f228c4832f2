#pragma once
// Python's repr() of JSON values: what the reference prints where it formats a
// value with `!r` (validation messages, TaskGet's metadata).
#include <boost/json/value.hpp>
#include <string>

namespace agentd {

/// repr() of the value as Python holds it (`{'a': True, 'b': None}`, `'it\'s'`).
std::string python_repr(const boost::json::value& value);

}  // namespace agentd
