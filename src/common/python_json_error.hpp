#pragma once
// Where and why Python's json module rejects a document.
//
// FastAPI reports a malformed body as {"loc": ["body", <pos>], "ctx": {"error": <msg>}}
// with CPython's position and wording. Boost.JSON stops at a different place (after
// the bad token rather than at its start), so on the error path we re-scan the text
// with the same grammar and the same decisions as CPython's json decoder.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::json {

struct PythonJsonError {
    std::size_t pos;  ///< character (code point) offset, as Python counts
    std::string msg;  ///< e.g. "Expecting value", "Expecting ',' delimiter"
};

/// The error CPython's json.loads would raise for `text` (valid UTF-8), or nullopt
/// when CPython would accept it.
std::optional<PythonJsonError> python_json_error(std::string_view text);

}  // namespace agentd::json
