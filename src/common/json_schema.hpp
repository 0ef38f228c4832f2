#pragma once
// JSON Schema for tool inputs, structured output and compaction summaries:
// validation of the subset those schemas use, with the reference's default filling, and the
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
// `additionalProperties` (boolean or schema), `minimum`, `maximum`,
// `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `minLength`,
// `maxLength` (in code points), `minItems`, `maxItems`, `anyOf`, `oneOf`,
// `allOf`, `not`, and local `$ref`s (`#/$defs/...`, `#/definitions/...`).
// Other keywords (`pattern`, `format`, ...) are ignored, as unknown keywords
// are by any validator.
#include <boost/json.hpp>
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace agentd::json_schema {

/// One step into an instance: a property name or an array index.
using PathStep = std::variant<std::string, std::size_t>;

/// One failed constraint: where (`$`, `$.a`, `$.a[0]`) and why, with what
/// `best_match` weighs.
struct SchemaViolation {
    std::string path;
    std::string message;
    std::string keyword;          ///< the failing keyword ("type", "anyOf", ...)
    std::vector<PathStep> steps;  ///< the location relative to the anyOf/oneOf that holds it, else to the root
    bool matches_type = false;    ///< the failing schema's `type` admits the instance
    std::vector<SchemaViolation> context;  ///< an anyOf/oneOf's failures in each alternative
};

/// Validates `instance` against `schema`, filling every declared property
/// `default` missing from an object it walks through (a copy of the default).
/// Returns the violations in the order `jsonschema`'s iter_errors reports them;
/// empty when the instance is valid. `instance` may be changed even then.
std::vector<SchemaViolation> validate_filling_defaults(const boost::json::object& schema,
                                                       boost::json::value& instance);

/// The violation `jsonschema.exceptions.best_match` picks, which is what the
/// reference's `jsonschema.validate` raises: the shallowest, not an anyOf/oneOf
/// when another failed at the same place, then the most specific failure of an
/// anyOf/oneOf's alternatives unless two tie. Null when there is none.
const SchemaViolation* best_match(const std::vector<SchemaViolation>& violations);

/// "`path`: `message`" of each violation, joined by "; ".
std::string describe(const std::vector<SchemaViolation>& violations);

/// The schema without the `title` keyword: removed at the top and, recursively,
/// from each property schema, `items`, `additionalProperties` and each `$defs`
/// entry (not from `anyOf`/`oneOf`/`allOf` members). A property *named* title
/// stays.
boost::json::object without_titles(boost::json::object schema);

}  // namespace agentd::json_schema
