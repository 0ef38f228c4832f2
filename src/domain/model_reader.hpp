#pragma once
// Reading untrusted JSON into models whose fields include unions, literals,
// nested models and lists, with pydantic's (lax mode) issues and locations.
//
// model_schema.hpp covers flat records; this covers the message and event
// models, whose unions pydantic resolves in "smart" mode.
#include <boost/json.hpp>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/validation.hpp"

namespace agentd::domain {

namespace bj = boost::json;

/// A value read from untrusted JSON. `fields_set` is pydantic's count of fields
/// the input supplied (extra keys included for models that keep them); nullopt
/// for plain values. A smart union prefers the match with the most fields set.
struct ReadModel {
    bj::value value;
    std::optional<std::size_t> fields_set;
};

/// Reads one model (or plain value) at `loc`; returns nothing after recording issues.
using ModelReader = std::function<std::optional<ReadModel>(const bj::value&, const bj::array&,
                                                           validation::Issues&)>;

/// Reads one field value; returns nothing after recording issues.
using ValueReader = std::function<std::optional<bj::value>(const bj::value&, const bj::array&,
                                                           validation::Issues&)>;

/// One member of a union: `label` is how pydantic names it in error locations
/// ("TextBlock", "function-after[validate_role_content(), Msg]", "str", ...).
struct UnionBranch {
    std::string_view label;
    ModelReader read;
};

struct UnionMatch {
    std::size_t branch;
    bj::value value;
};

/// pydantic's smart union: every branch is tried; among the successes the one
/// with the most fields set wins (the first on ties; a plain-value success wins
/// at once). When none succeeds, every branch's issues are recorded, each
/// location carrying the branch label right after `loc`.
std::optional<UnionMatch> read_smart_union(const bj::value& input, const bj::array& loc,
                                           validation::Issues& issues,
                                           std::span<const UnionBranch> branches);

// Field readers.
std::optional<bj::value> read_str(const bj::value& v, const bj::array& loc,
                                  validation::Issues& issues);
std::optional<bj::value> read_int(const bj::value& v, const bj::array& loc,
                                  validation::Issues& issues);
std::optional<bj::value> read_bool(const bj::value& v, const bj::array& loc,
                                   validation::Issues& issues);
std::optional<bj::value> read_dict(const bj::value& v, const bj::array& loc,
                                   validation::Issues& issues);
/// A Literal (`literal_error`) or Enum (`enum`) of strings; `choices` must outlive the reader.
ValueReader choice_reader(std::span<const std::string_view> choices, bool enum_type);
/// A nested model field.
ValueReader model_reader(ModelReader read);
/// list[item].
ValueReader list_reader(ValueReader item);
/// A union field.
ValueReader union_reader(std::vector<UnionBranch> branches);
/// Wraps a value reader as a union branch whose success is a plain value.
ModelReader plain_branch(ValueReader read);

/// Reads one model's fields in declaration order into a canonical object. Each
/// field is taken with take() or literal(); fields that fail are left out, and
/// finish() returns nothing if anything failed.
class ModelFields {
public:
    using Default = std::function<bj::value()>;

    /// Records model_attributes_type when `input` is not an object.
    ModelFields(const bj::value& input, const bj::array& loc, validation::Issues& issues);

    bool is_object() const { return obj_ != nullptr; }

    /// `dflt` null → the field is required. `nullable` → an explicit null is kept.
    void take(bj::object& out, std::string_view key, const ValueReader& read,
              const Default& dflt = nullptr, bool nullable = false);

    /// `key: Literal[value] = value`. `shown` is Python's repr of the literal when
    /// it is an enum member ("<EventType.X: 'X'>"); empty → 'value'.
    void literal(bj::object& out, std::string_view key, std::string_view value,
                 std::string_view shown = {});

    /// Copies the keys outside `declared` (pydantic extra="allow"), counting them as set.
    void keep_extra(bj::object& out, std::initializer_list<std::string_view> declared);

    bool failed() const { return issues_.size() != before_; }
    std::optional<ReadModel> finish(bj::object out) const;

    // Common defaults.
    static bj::value new_id_value();
    static bj::value now_value();  ///< local ISO now, like datetime.now().isoformat()

private:
    const bj::value& input_;
    const bj::array& loc_;
    validation::Issues& issues_;
    std::size_t before_;
    const bj::object* obj_ = nullptr;
    std::size_t fields_set_ = 0;
};

}  // namespace agentd::domain
