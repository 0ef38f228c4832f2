#include "common/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>

#include "common/json.hpp"
#include "common/python_repr.hpp"

namespace agentd::json_schema {

namespace bj = boost::json;

namespace {

bool is_number(const bj::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

/// `jsonschema`'s type checker: booleans are no numbers; 2.0 is an integer.
bool is_type(const bj::value& v, std::string_view type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_bool();
    if (type == "null") return v.is_null();
    if (type == "number") return is_number(v);
    if (type == "integer") {
        if (v.is_int64() || v.is_uint64()) return true;
        return v.is_double() && std::isfinite(v.get_double()) &&
               std::trunc(v.get_double()) == v.get_double();
    }
    return true;  // an unknown type name constrains nothing
}

/// Code points of a UTF-8 string (Python's len): every byte that does not
/// continue a sequence.
std::size_t code_points(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// a < b (-1), a == b (0), a > b (1) for two JSON numbers; integers exactly.
int compare_numbers(const bj::value& a, const bj::value& b) {
    if (a.is_int64() && b.is_int64()) return a.get_int64() < b.get_int64() ? -1 : a.get_int64() > b.get_int64();
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() < b.get_uint64() ? -1 : a.get_uint64() > b.get_uint64();
    if (!a.is_double() && !b.is_double()) {  // one int64, one uint64 above INT64_MAX
        const bool a_negative = a.is_int64() && a.get_int64() < 0;
        const bool b_negative = b.is_int64() && b.get_int64() < 0;
        if (a_negative != b_negative) return a_negative ? -1 : 1;
        return a.is_uint64() ? 1 : -1;  // the uint64 one is the larger
    }
    const double x = a.to_number<double>(), y = b.to_number<double>();
    return x < y ? -1 : x > y;
}

/// Python's `instance % divisor` / `instance / divisor` test as jsonschema's multipleOf makes it.
bool not_multiple(const bj::value& instance, const bj::value& divisor) {
    if (divisor.is_double()) {
        const double d = divisor.get_double();
        if (d == 0) return false;
        const double q = instance.to_number<double>() / d;
        return std::isfinite(q) && std::trunc(q) != q;
    }
    if (divisor.is_int64() && divisor.get_int64() == 0) return false;
    if (instance.is_double() || divisor.is_uint64() || instance.is_uint64())
        return std::fmod(instance.to_number<double>(), divisor.to_number<double>()) != 0;
    return instance.get_int64() % divisor.get_int64() != 0;
}

std::string too_short(std::int64_t minimum) { return minimum == 1 ? " should be non-empty" : " is too short"; }
std::string too_long(std::int64_t maximum) { return maximum == 0 ? " is expected to be empty" : " is too long"; }

class Validator {
public:
    explicit Validator(const bj::object& root) : root_(root) {}

    /// `path` names the instance for messages; `steps` locates it for best_match.
    void validate(const bj::value& schema, bj::value& instance, const std::string& path,
                  std::vector<PathStep>& steps, std::vector<SchemaViolation>& out, int depth = 0) {
        if (depth > kMaxDepth) {
            out.push_back({path, "the schema nests too deeply (a $ref cycle?)", "$ref", steps});
            return;
        }
        if (schema.is_bool()) {
            if (!schema.get_bool())
                out.push_back({path, "False schema does not allow " + python_repr(instance), "False", steps});
            return;
        }
        if (!schema.is_object()) return;
        const auto& s = schema.get_object();
        Site site{s, instance, path, steps, out};
        for (const auto& kw : s) {
            const auto key = kw.key();
            const auto& arg = kw.value();
            if (key == "type")
                check_type(arg, site);
            else if (key == "properties")
                check_properties(arg, site, depth);
            else if (key == "required")
                check_required(arg, site);
            else if (key == "items")
                check_items(arg, site, depth);
            else if (key == "enum")
                check_enum(arg, site);
            else if (key == "const") {
                if (!json::schema_equal(arg, instance)) site.fail("const", python_repr(arg) + " was expected");
            } else if (key == "additionalProperties")
                check_additional(arg, site, depth);
            else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" || key == "exclusiveMaximum")
                check_bound(key, arg, site);
            else if (key == "multipleOf") {
                if (is_number(arg) && is_number(instance) && !instance.is_bool() && not_multiple(instance, arg))
                    site.fail("multipleOf", python_repr(instance) + " is not a multiple of " + python_repr(arg));
            } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems")
                check_size(key, arg, site);
            else if (key == "anyOf" || key == "oneOf")
                check_alternatives(key, arg, site, depth);
            else if (key == "allOf") {
                if (arg.is_array())
                    for (const auto& sub : arg.get_array()) validate(sub, instance, path, steps, out, depth + 1);
            } else if (key == "not") {
                std::vector<SchemaViolation> errors;
                std::vector<PathStep> here;
                validate(arg, instance, path, here, errors, depth + 1);
                if (errors.empty())
                    site.fail("not", python_repr(instance) + " should not be valid under " + python_repr(arg));
            } else if (key == "$ref")
                check_ref(arg, site, depth);
        }
    }

private:
    static constexpr int kMaxDepth = 200;

    /// Where a keyword is checked: its schema, the instance, and where failures go.
    struct Site {
        const bj::object& schema;
        bj::value& instance;
        const std::string& path;
        std::vector<PathStep>& steps;
        std::vector<SchemaViolation>& out;

        void fail(std::string keyword, std::string message, std::vector<SchemaViolation> context = {}) {
            SchemaViolation v{path, std::move(message), std::move(keyword), steps};
            v.matches_type = admits_type();
            v.context = std::move(context);
            out.push_back(std::move(v));
        }
        bool admits_type() const {
            const auto* type = schema.if_contains("type");
            if (!type) return false;
            if (type->is_string()) return is_type(instance, type->get_string());
            if (!type->is_array()) return false;
            for (const auto& t : type->get_array())
                if (t.is_string() && is_type(instance, t.get_string())) return true;
            return false;
        }
    };

    static void check_type(const bj::value& arg, Site& site) {
        std::vector<std::string_view> types;
        if (arg.is_string())
            types.emplace_back(arg.get_string());
        else if (arg.is_array())
            for (const auto& t : arg.get_array())
                if (t.is_string()) types.emplace_back(t.get_string());
        if (types.empty()) return;
        for (auto t : types)
            if (is_type(site.instance, t)) return;
        std::string names;
        for (auto t : types) {
            if (!names.empty()) names += ", ";
            names += python_repr(bj::value(t));
        }
        site.fail("type", python_repr(site.instance) + " is not of type " + names);
    }

    void check_properties(const bj::value& arg, Site& site, int depth) {
        if (!arg.is_object() || !site.instance.is_object()) return;
        auto& obj = site.instance.get_object();
        // The reference's validator fills defaults before it validates the properties.
        for (const auto& prop : arg.get_object()) {
            if (!prop.value().is_object()) continue;
            const auto* dflt = prop.value().get_object().if_contains("default");
            if (dflt && !obj.contains(prop.key())) obj[prop.key()] = *dflt;
        }
        for (const auto& prop : arg.get_object()) {
            auto it = obj.find(prop.key());
            if (it == obj.end()) continue;
            site.steps.emplace_back(std::string(prop.key()));
            validate(prop.value(), it->value(), site.path + "." + std::string(prop.key()), site.steps, site.out,
                     depth + 1);
            site.steps.pop_back();
        }
    }

    static void check_required(const bj::value& arg, Site& site) {
        if (!arg.is_array() || !site.instance.is_object()) return;
        for (const auto& name : arg.get_array())
            if (name.is_string() && !site.instance.get_object().contains(name.get_string()))
                site.fail("required", python_repr(name) + " is a required property");
    }

    void check_items(const bj::value& arg, Site& site, int depth) {
        if (!site.instance.is_array()) return;
        auto& arr = site.instance.get_array();
        for (std::size_t i = 0; i < arr.size(); ++i) {
            site.steps.emplace_back(i);
            validate(arg, arr[i], site.path + "[" + std::to_string(i) + "]", site.steps, site.out, depth + 1);
            site.steps.pop_back();
        }
    }

    static void check_enum(const bj::value& arg, Site& site) {
        if (!arg.is_array()) return;
        for (const auto& e : arg.get_array())
            if (json::schema_equal(e, site.instance)) return;
        site.fail("enum", python_repr(site.instance) + " is not one of " + python_repr(arg));
    }

    void check_additional(const bj::value& arg, Site& site, int depth) {
        if (!site.instance.is_object()) return;
        const auto* props = site.schema.if_contains("properties");
        std::vector<std::string> extras;
        for (const auto& kv : site.instance.get_object())
            if (!props || !props->is_object() || !props->get_object().contains(kv.key()))
                extras.emplace_back(kv.key());
        if (extras.empty()) return;
        if (arg.is_object()) {
            for (const auto& key : extras) {
                site.steps.emplace_back(key);
                validate(arg, site.instance.get_object()[key], site.path + "." + key, site.steps, site.out,
                         depth + 1);
                site.steps.pop_back();
            }
            return;
        }
        if (!arg.is_bool() || arg.get_bool()) return;
        std::sort(extras.begin(), extras.end());
        std::string names;
        for (const auto& key : extras) {
            if (!names.empty()) names += ", ";
            names += python_repr(bj::value(key));
        }
        site.fail("additionalProperties", "Additional properties are not allowed (" + names +
                                              (extras.size() == 1 ? " was" : " were") + " unexpected)");
    }

    static void check_bound(std::string_view key, const bj::value& arg, Site& site) {
        const auto& instance = site.instance;
        if (!is_number(arg) || !is_number(instance)) return;
        const int order = compare_numbers(instance, arg);
        const std::string value = python_repr(instance), bound = python_repr(arg);
        if (key == "minimum" && order < 0)
            site.fail(std::string(key), value + " is less than the minimum of " + bound);
        else if (key == "maximum" && order > 0)
            site.fail(std::string(key), value + " is greater than the maximum of " + bound);
        else if (key == "exclusiveMinimum" && order <= 0)
            site.fail(std::string(key), value + " is less than or equal to the minimum of " + bound);
        else if (key == "exclusiveMaximum" && order >= 0)
            site.fail(std::string(key), value + " is greater than or equal to the maximum of " + bound);
    }

    static void check_size(std::string_view key, const bj::value& arg, Site& site) {
        if (!arg.is_int64() && !arg.is_uint64()) return;
        const auto limit = arg.is_int64() ? arg.get_int64() : std::numeric_limits<std::int64_t>::max();
        const bool for_strings = key.ends_with("Length");
        std::int64_t size = 0;
        if (for_strings && site.instance.is_string())
            size = static_cast<std::int64_t>(code_points(site.instance.get_string()));
        else if (!for_strings && site.instance.is_array())
            size = static_cast<std::int64_t>(site.instance.get_array().size());
        else
            return;
        if (key.starts_with("min") && size < limit)
            site.fail(std::string(key), python_repr(site.instance) + too_short(limit));
        else if (key.starts_with("max") && size > limit)
            site.fail(std::string(key), python_repr(site.instance) + too_long(limit));
    }

    void check_alternatives(std::string_view key, const bj::value& arg, Site& site, int depth) {
        if (!arg.is_array() || arg.get_array().empty()) return;
        const auto& subs = arg.get_array();
        std::vector<SchemaViolation> all_errors;
        std::size_t first_valid = subs.size();
        for (std::size_t i = 0; i < subs.size(); ++i) {
            std::vector<SchemaViolation> errors;
            std::vector<PathStep> here;  // an alternative's failures are located from here
            validate(subs[i], site.instance, site.path, here, errors, depth + 1);
            if (errors.empty()) {
                first_valid = i;
                break;
            }
            for (auto& e : errors) all_errors.push_back(std::move(e));
        }
        if (first_valid == subs.size()) {
            site.fail(std::string(key), python_repr(site.instance) + " is not valid under any of the given schemas",
                      std::move(all_errors));
            return;
        }
        if (key != "oneOf") return;
        std::string valid_under;
        for (std::size_t i = first_valid + 1; i < subs.size(); ++i) {
            std::vector<SchemaViolation> errors;
            std::vector<PathStep> here;
            validate(subs[i], site.instance, site.path, here, errors, depth + 1);
            if (errors.empty()) valid_under += python_repr(subs[i]) + ", ";
        }
        if (valid_under.empty()) return;
        valid_under += python_repr(subs[first_valid]);
        site.fail("oneOf", python_repr(site.instance) + " is valid under each of " + valid_under);
    }

    void check_ref(const bj::value& arg, Site& site, int depth) {
        if (!arg.is_string()) return;
        std::string_view ref = arg.get_string();
        const bj::value* target = nullptr;
        if (ref.starts_with("#")) {
            std::error_code ec;
            target = root_.find_pointer(ref.substr(1), ec);  // "#" → the root itself
        }
        if (!target) {
            site.fail("$ref", "Unresolvable reference " + python_repr(arg));
            return;
        }
        validate(*target, site.instance, site.path, site.steps, site.out, depth + 1);
    }

    bj::value root_;  ///< what local references resolve against
};

/// jsonschema's relevance key; best_match takes the greatest and, within an
/// anyOf/oneOf, descends to the least.
struct Relevance {
    std::ptrdiff_t negative_depth;
    const std::vector<PathStep>* steps;
    bool not_weak;
    bool not_matching_type;

    explicit Relevance(const SchemaViolation& v)
        : negative_depth(-static_cast<std::ptrdiff_t>(v.steps.size())),
          steps(&v.steps),
          not_weak(v.keyword != "anyOf" && v.keyword != "oneOf"),
          not_matching_type(!v.matches_type) {}

    friend bool operator<(const Relevance& a, const Relevance& b) {
        if (a.negative_depth != b.negative_depth) return a.negative_depth < b.negative_depth;
        if (*a.steps != *b.steps) return *a.steps < *b.steps;
        if (a.not_weak != b.not_weak) return a.not_weak < b.not_weak;
        return a.not_matching_type < b.not_matching_type;
    }
    friend bool operator==(const Relevance& a, const Relevance& b) { return !(a < b) && !(b < a); }
};

}  // namespace

std::vector<SchemaViolation> validate_filling_defaults(const bj::object& schema,
                                                       bj::value& instance) {
    std::vector<SchemaViolation> out;
    std::vector<PathStep> steps;
    Validator(schema).validate(schema, instance, "$", steps, out);
    return out;
}

const SchemaViolation* best_match(const std::vector<SchemaViolation>& violations) {
    const SchemaViolation* best = nullptr;
    for (const auto& v : violations)  // the first of the greatest, as Python's max
        if (!best || Relevance(*best) < Relevance(v)) best = &v;
    while (best && !best->context.empty()) {
        // The two least of the alternatives' failures, the earlier first among equals.
        const SchemaViolation* least = nullptr;
        const SchemaViolation* second = nullptr;
        for (const auto& v : best->context) {
            if (!least || Relevance(v) < Relevance(*least)) {
                second = least;
                least = &v;
            } else if (!second || Relevance(v) < Relevance(*second)) {
                second = &v;
            }
        }
        if (second && Relevance(*least) == Relevance(*second)) return best;
        best = least;
    }
    return best;
}

std::string describe(const std::vector<SchemaViolation>& violations) {
    std::string out;
    for (const auto& v : violations) {
        if (!out.empty()) out += "; ";
        out += v.path + ": " + v.message;
    }
    return out;
}

bj::object without_titles(bj::object schema) {
    schema.stable_erase("title");  // keeps the key order, as Python's dict.pop does
    auto strip = [](bj::value& v) {
        if (v.is_object()) v = without_titles(std::move(v.get_object()));
    };
    if (auto* props = schema.if_contains("properties"); props && props->is_object())
        for (auto& p : props->get_object()) strip(p.value());
    if (auto* items = schema.if_contains("items")) strip(*items);
    if (auto* extra = schema.if_contains("additionalProperties")) strip(*extra);
    if (auto* defs = schema.if_contains("$defs"); defs && defs->is_object())
        for (auto& d : defs->get_object()) strip(d.value());
    return schema;
}

}  // namespace agentd::json_schema
