#include "tool/builtin/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <system_error>

#include "common/json.hpp"
#include "tool/builtin/task_tools.hpp"  // python_repr

namespace agentd::tool {

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

class Validator {
public:
    explicit Validator(const bj::object& root) : root_(root) {}

    void validate(const bj::value& schema, bj::value& instance, const std::string& path,
                  std::vector<SchemaViolation>& out, int depth = 0) {
        if (depth > kMaxDepth) {
            out.push_back({path, "the schema nests too deeply (a $ref cycle?)"});
            return;
        }
        if (schema.is_bool()) {
            if (!schema.get_bool())
                out.push_back({path, "False schema does not allow " + python_repr(instance)});
            return;
        }
        if (!schema.is_object()) return;
        const auto& s = schema.get_object();
        for (const auto& kw : s) {
            const auto key = kw.key();
            const auto& arg = kw.value();
            if (key == "type")
                check_type(arg, instance, path, out);
            else if (key == "properties")
                check_properties(arg, instance, path, out, depth);
            else if (key == "required")
                check_required(arg, instance, path, out);
            else if (key == "items")
                check_items(arg, instance, path, out, depth);
            else if (key == "enum")
                check_enum(arg, instance, path, out);
            else if (key == "const") {
                if (!json::schema_equal(arg, instance))
                    out.push_back({path, python_repr(arg) + " was expected"});
            } else if (key == "additionalProperties")
                check_additional(arg, s, instance, path, out, depth);
            else if (key == "anyOf")
                check_any_of(arg, instance, path, out, depth);
            else if (key == "$ref")
                check_ref(arg, instance, path, out, depth);
        }
    }

private:
    static constexpr int kMaxDepth = 200;

    static void check_type(const bj::value& arg, const bj::value& instance, const std::string& path,
                           std::vector<SchemaViolation>& out) {
        std::vector<std::string_view> types;
        if (arg.is_string())
            types.emplace_back(arg.get_string());
        else if (arg.is_array())
            for (const auto& t : arg.get_array())
                if (t.is_string()) types.emplace_back(t.get_string());
        if (types.empty()) return;
        for (auto t : types)
            if (is_type(instance, t)) return;
        std::string names;
        for (auto t : types) {
            if (!names.empty()) names += ", ";
            names += python_repr(bj::value(t));
        }
        out.push_back({path, python_repr(instance) + " is not of type " + names});
    }

    void check_properties(const bj::value& arg, bj::value& instance, const std::string& path,
                          std::vector<SchemaViolation>& out, int depth) {
        if (!arg.is_object() || !instance.is_object()) return;
        auto& obj = instance.get_object();
        // The reference's validator fills defaults before it validates the properties.
        for (const auto& prop : arg.get_object()) {
            if (!prop.value().is_object()) continue;
            const auto* dflt = prop.value().get_object().if_contains("default");
            if (dflt && !obj.contains(prop.key())) obj[prop.key()] = *dflt;
        }
        for (const auto& prop : arg.get_object()) {
            auto it = obj.find(prop.key());
            if (it == obj.end()) continue;
            validate(prop.value(), it->value(), path + "." + std::string(prop.key()), out,
                     depth + 1);
        }
    }

    static void check_required(const bj::value& arg, const bj::value& instance,
                               const std::string& path, std::vector<SchemaViolation>& out) {
        if (!arg.is_array() || !instance.is_object()) return;
        for (const auto& name : arg.get_array())
            if (name.is_string() && !instance.get_object().contains(name.get_string()))
                out.push_back({path, python_repr(name) + " is a required property"});
    }

    void check_items(const bj::value& arg, bj::value& instance, const std::string& path,
                     std::vector<SchemaViolation>& out, int depth) {
        if (!instance.is_array()) return;
        auto& arr = instance.get_array();
        for (std::size_t i = 0; i < arr.size(); ++i)
            validate(arg, arr[i], path + "[" + std::to_string(i) + "]", out, depth + 1);
    }

    static void check_enum(const bj::value& arg, const bj::value& instance, const std::string& path,
                           std::vector<SchemaViolation>& out) {
        if (!arg.is_array()) return;
        for (const auto& e : arg.get_array())
            if (json::schema_equal(e, instance)) return;
        out.push_back({path, python_repr(instance) + " is not one of " + python_repr(arg)});
    }

    void check_additional(const bj::value& arg, const bj::object& schema, bj::value& instance,
                          const std::string& path, std::vector<SchemaViolation>& out, int depth) {
        if (!instance.is_object()) return;
        const auto* props = schema.if_contains("properties");
        std::vector<std::string> extras;
        for (const auto& kv : instance.get_object())
            if (!props || !props->is_object() || !props->get_object().contains(kv.key()))
                extras.emplace_back(kv.key());
        if (extras.empty()) return;
        if (arg.is_object()) {
            for (const auto& key : extras)
                validate(arg, instance.get_object()[key], path + "." + key, out, depth + 1);
            return;
        }
        if (!arg.is_bool() || arg.get_bool()) return;
        std::sort(extras.begin(), extras.end());
        std::string names;
        for (const auto& key : extras) {
            if (!names.empty()) names += ", ";
            names += python_repr(bj::value(key));
        }
        out.push_back({path, "Additional properties are not allowed (" + names +
                                 (extras.size() == 1 ? " was" : " were") + " unexpected)"});
    }

    void check_any_of(const bj::value& arg, bj::value& instance, const std::string& path,
                      std::vector<SchemaViolation>& out, int depth) {
        if (!arg.is_array() || arg.get_array().empty()) return;
        for (const auto& sub : arg.get_array()) {
            std::vector<SchemaViolation> errors;
            validate(sub, instance, path, errors, depth + 1);
            if (errors.empty()) return;
        }
        out.push_back(
            {path, python_repr(instance) + " is not valid under any of the given schemas"});
    }

    void check_ref(const bj::value& arg, bj::value& instance, const std::string& path,
                   std::vector<SchemaViolation>& out, int depth) {
        if (!arg.is_string()) return;
        std::string_view ref = arg.get_string();
        const bj::value* target = nullptr;
        if (ref.starts_with("#")) {
            std::error_code ec;
            target = root_.find_pointer(ref.substr(1), ec);  // "#" → the root itself
        }
        if (!target) {
            out.push_back({path, "Unresolvable reference " + python_repr(arg)});
            return;
        }
        validate(*target, instance, path, out, depth + 1);
    }

    bj::value root_;  ///< what local references resolve against
};

}  // namespace

std::vector<SchemaViolation> validate_filling_defaults(const bj::object& schema,
                                                       bj::value& instance) {
    std::vector<SchemaViolation> out;
    Validator(schema).validate(schema, instance, "$", out);
    return out;
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

}  // namespace agentd::tool
