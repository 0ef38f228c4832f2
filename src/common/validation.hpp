#pragma once
// Reading untrusted JSON the way pydantic (lax mode, as FastAPI uses it) does,
// collecting every problem as a ValidationIssue with pydantic's type, msg and ctx.
#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace agentd::validation {

namespace bj = boost::json;

/// Location builder: loc("body", "react_config", "max_iters").
bj::array loc_join(const bj::array& base, std::string_view key);
bj::array loc_join(const bj::array& base, std::size_t index);

class Issues {
public:
    void add(std::string type, bj::array loc, std::string msg, bj::value input,
             bj::value ctx = nullptr);
    void missing(const bj::array& loc, const bj::value& input) {
        add("missing", loc, "Field required", input);
    }
    bool empty() const { return list_.empty(); }
    std::size_t size() const { return list_.size(); }
    const std::vector<ValidationIssue>& list() const { return list_; }
    void append(const Issues& other);
    /// Throws Error(kValidation) when anything was collected.
    void throw_if_any() const;

private:
    std::vector<ValidationIssue> list_;
};

// Scalars. Each returns nullopt after recording an issue when `v` does not fit.
std::optional<std::string> as_string(const bj::value& v, const bj::array& loc, Issues& issues);
std::optional<std::int64_t> as_int(const bj::value& v, const bj::array& loc, Issues& issues);
std::optional<double> as_float(const bj::value& v, const bj::array& loc, Issues& issues);
std::optional<bool> as_bool(const bj::value& v, const bj::array& loc, Issues& issues);
/// A nested model: must be an object (model_attributes_type otherwise).
const bj::object* as_model(const bj::value& v, const bj::array& loc, Issues& issues);
/// A plain dict field (dict_type otherwise).
const bj::object* as_dict(const bj::value& v, const bj::array& loc, Issues& issues);
const bj::array* as_list(const bj::value& v, const bj::array& loc, Issues& issues);
/// One of fixed string values; `enum_type` selects pydantic's "enum" vs "literal_error".
std::optional<std::string> as_choice(const bj::value& v, const bj::array& loc, Issues& issues,
                                     std::initializer_list<std::string_view> choices,
                                     bool enum_type);

// Numeric constraints; `bound_repr` is how Python prints the bound ("0", "0.9").
enum class Bound { kGt, kGe, kLt, kLe };
bool check_bound(double value, const bj::value& input, Bound kind, double bound,
                 const bj::value& bound_json, const bj::array& loc, Issues& issues);

/// pydantic's number text in messages: ints plain, floats as Python repr.
std::string number_text(const bj::value& v);

}  // namespace agentd::validation
