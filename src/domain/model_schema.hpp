#pragma once
// A small declarative description of a pydantic model: its fields in declaration
// order, their kinds, defaults and numeric bounds. parse_model() reads untrusted
// JSON against it with pydantic's lax rules and returns the canonical object
// (every field present, declaration order, unknown keys dropped).
#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/validation.hpp"

namespace agentd::domain {

namespace bj = boost::json;

enum class FieldKind {
    kStr,          ///< str
    kOptStr,       ///< str | None
    kInt,          ///< int
    kFloat,        ///< float (int input becomes a float, as pydantic does)
    kBool,         ///< bool
    kDict,         ///< dict (any JSON object)
    kOptDict,      ///< dict | None
    kStrList,      ///< list[str]
    kAny,          ///< any JSON value
};

struct FieldBound {
    validation::Bound kind;
    double value;
    bj::value json;  ///< how the bound prints: 0 (int) or 0.9 (float)
};

struct FieldSpec {
    std::string_view name;
    FieldKind kind;
    bool required = false;
    bj::value default_value = nullptr;  ///< used when not required and absent
    std::vector<FieldBound> bounds = {};
    bool secret = false;                 ///< a SecretStr: masked in responses
    std::function<bj::value()> default_factory = nullptr;  ///< wins over default_value
    std::vector<std::string_view> choices = {};  ///< for kStr: a Literal/enum
    bool enum_type = false;               ///< choices reported as "enum" (else literal_error)
};

/// Reads `input` as the model; issues go to `issues`. Returns nullopt if `input` is
/// not an object (model_attributes_type recorded). Fields with issues are left out.
std::optional<bj::object> parse_model(const bj::value& input, const bj::array& loc,
                                      validation::Issues& issues,
                                      std::span<const FieldSpec> fields);

/// Reads one field value of the given kind (shared by parse_model and callers that
/// validate single fields). Returns nullopt after recording an issue.
std::optional<bj::value> parse_field(const bj::value& v, const FieldSpec& spec,
                                     const bj::array& loc, validation::Issues& issues);

}  // namespace agentd::domain
