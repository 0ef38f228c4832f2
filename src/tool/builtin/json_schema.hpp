#pragma once
// JSON Schema for tool inputs: validation of the subset that tool and
// structured-output schemas use, with the reference's default filling, and the
// title stripping applied to every schema the model sees (spec/tools-workspace.md
// §1.5, spec/runtime.md §4.7).
//
// Hand-written on purpose: Debian packages no C++ JSON Schema library (the
// Python reference uses `jsonschema`), and a tool input needs only a small,
// well-defined subset. Messages and paths are `jsonschema`'s (Draft 2020-12),
// because the model reads them and the reference's tests compare them.
//
// Supported keywords, applied in the schema's key order (as `jsonschema` does):
// `type` (object, array, string, number, integer, boolean, null; a name or a
// list), `properties` (declared `default`s are filled into the object first),
// `required`, `items` (one schema for every element), `enum`, `const`,
// `additionalProperties` (boolean or schema), `anyOf`, and local `$ref`s
// (`#/$defs/...`, `#/definitions/...`). Other keywords are ignored, as
// unknown keywords are by any validator.
#include <boost/json.hpp>
#include <string>
#include <vector>

namespace agentd::tool {

/// One failed constraint: where (`$`, `$.a`, `$.a[0]`) and why.
struct SchemaViolation {
    std::string path;
    std::string message;
};

/// Validates `instance` against `schema`, filling every declared property
/// `default` missing from an object it walks through (a copy of the default).
/// Returns the violations in the order `jsonschema`'s iter_errors reports them;
/// empty when the instance is valid. `instance` may be changed even then.
std::vector<SchemaViolation> validate_filling_defaults(const boost::json::object& schema,
                                                       boost::json::value& instance);

/// "`path`: `message`" of each violation, joined by "; ".
std::string describe(const std::vector<SchemaViolation>& violations);

/// The schema without the `title` keyword: removed at the top and, recursively,
/// from each property schema, `items`, `additionalProperties` and each `$defs`
/// entry (not from `anyOf`/`oneOf`/`allOf` members). A property *named* title
/// stays.
boost::json::object without_titles(boost::json::object schema);

}  // namespace agentd::tool
