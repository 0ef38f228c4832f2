#pragma once
// Python's repr() of JSON values: what the reference prints where it formats a
// value with `!r` (validation messages, TaskGet's metadata).
#include <boost/json/value.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace agentd {

/// repr() of the value as Python holds it (`{'a': True, 'b': None}`, `'it\'s'`).
std::string python_repr(const boost::json::value& value);

/// str() of the value: a string as it is, anything else as its repr().
std::string python_str(const boost::json::value& value);

/// `tmpl.format(**fields)` for plain named fields: `{name}` becomes
/// python_str of the field, `{{` and `}}` single braces, in one pass (a value
/// holding braces is not expanded again). A field that `fields` lacks, or a
/// brace that opens no plain name, stays as written, where Python would raise.
std::string python_format(std::string_view tmpl, const boost::json::object& fields);

}  // namespace agentd
