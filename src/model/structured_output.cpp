#include "model/structured_output.hpp"

#include <cmath>
#include <cstdint>
#include <string_view>

#include "common/json.hpp"
#include "model/history.hpp"
#include "model/json_repair.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model {

std::vector<StructuredStrategy> structured_strategies(const ChatRequest& request,
                                                      bool can_disable_thinking) {
    if (request.tool_choice) return {StructuredStrategy::kExplicit};
    std::vector<StructuredStrategy> out{StructuredStrategy::kForced, StructuredStrategy::kAuto};
    if (can_disable_thinking) out.push_back(StructuredStrategy::kNoThinking);
    out.push_back(StructuredStrategy::kNone);
    return out;
}

ChatRequest structured_request(const ChatRequest& request, StructuredStrategy strategy) {
    ChatRequest out = request;
    if (out.context) {  // this path edits the last message: work on a copy
        for (const auto& m : *out.context) out.messages.push_back(m);
        out.context = nullptr;
    }
    if (out.messages.empty())
        throw std::invalid_argument(
            "The input messages cannot be empty for the `generate_structured_output` method.");
    static constexpr std::string_view kInstruction =
        "<system-reminder>Now you **MUST** call the tool named 'generate_structured_output' to "
        "generate the "
        "structured output required by the user. DON'T do anything else.</system-reminder>";
    bj::object text_block{{"type", "text"}, {"text", kInstruction}};
    bj::value& last = out.messages.back();
    if (last.is_object() && str_at(last.get_object(), "role") == "user") {
        bj::array content = content_blocks_of(last.get_object());
        content.push_back(std::move(text_block));
        last.get_object()["content"] = std::move(content);
    } else {
        out.messages.push_back(
            bj::object{{"name", "user"}, {"role", "user"}, {"content", bj::array{text_block}}});
    }
    out.tools = {
        ToolSchema{kStructuredOutputTool,
                   "Call this function to generate structured output required by the user.",
                   request.structured_schema ? *request.structured_schema : bj::object{}}};
    switch (strategy) {
        case StructuredStrategy::kForced:
        case StructuredStrategy::kNoThinking:
            out.tool_choice = kStructuredOutputTool;
            break;
        case StructuredStrategy::kAuto:
            out.tool_choice = "auto";
            break;
        case StructuredStrategy::kNone:
            out.tool_choice.reset();
            break;
        case StructuredStrategy::kExplicit:
            break;
    }
    out.structured_schema.reset();
    return out;
}

std::optional<bj::object> read_structured_output(const ModelResponse& response,
                                                 const bj::object& schema) {
    for (const auto& bv : response.content) {
        if (!bv.is_object()) continue;
        const auto& block = bv.get_object();
        if (str_at(block, "type") != "tool_call" || str_at(block, "name") != kStructuredOutputTool)
            continue;
        auto parsed = parse_object_with_repair(str_at(block, "input"));
        if (!parsed || !json_schema_accepts(schema, *parsed)) return std::nullopt;
        return parsed;
    }
    return std::nullopt;
}

namespace {

/// The number of Unicode code points in UTF-8 text (what JSON Schema's
/// minLength/maxLength count): every byte that does not continue a sequence.
std::size_t code_points(std::string_view utf8) {
    std::size_t n = 0;
    for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
    return n;
}


struct Validator {
    const bj::object& root;

    bool type_matches(std::string_view type, const bj::value& v) const {
        if (type == "object") return v.is_object();
        if (type == "array") return v.is_array();
        if (type == "string") return v.is_string();
        if (type == "boolean") return v.is_bool();
        if (type == "null") return v.is_null();
        if (type == "number") return v.is_number();
        if (type == "integer") {
            if (v.is_int64() || v.is_uint64()) return true;
            return v.is_double() && std::floor(v.get_double()) == v.get_double();
        }
        return true;
    }

    static std::optional<double> num(const bj::object& s, std::string_view key) {
        auto it = s.find(key);
        if (it == s.end() || !it->value().is_number()) return std::nullopt;
        return it->value().to_number<double>();
    }

    const bj::object* deref(const bj::object& s, int depth) const {
        auto it = s.find("$ref");
        if (it == s.end() || !it->value().is_string() || depth > 32) return &s;
        std::string_view ref = it->value().get_string();
        for (std::string_view prefix : {"#/$defs/", "#/definitions/"}) {
            if (ref.substr(0, prefix.size()) != prefix) continue;
            std::string_view section = prefix.substr(2, prefix.size() - 3);
            auto defs = root.find(section);
            if (defs == root.end() || !defs->value().is_object()) return nullptr;
            auto def = defs->value().get_object().find(ref.substr(prefix.size()));
            if (def == defs->value().get_object().end() || !def->value().is_object())
                return nullptr;
            return deref(def->value().get_object(), depth + 1);
        }
        return &s;  // remote refs are not followed
    }

    bool accepts(const bj::value& schema_value, const bj::value& v, int depth = 0) const {
        if (depth > 64) return true;
        if (schema_value.is_bool()) return schema_value.get_bool();
        if (!schema_value.is_object()) return true;
        const bj::object* sp = deref(schema_value.get_object(), 0);
        if (!sp) return false;
        const bj::object& s = *sp;

        if (auto t = s.find("type"); t != s.end()) {
            bool ok = false;
            if (t->value().is_string())
                ok = type_matches(t->value().get_string(), v);
            else if (t->value().is_array())
                for (const auto& each : t->value().get_array())
                    if (each.is_string() && type_matches(each.get_string(), v)) ok = true;
            if (!ok) return false;
        }
        if (auto e = s.find("enum"); e != s.end() && e->value().is_array()) {
            bool found = false;
            for (const auto& each : e->value().get_array())
                if (json::schema_equal(each, v)) found = true;
            if (!found) return false;
        }
        if (auto c = s.find("const"); c != s.end() && !json::schema_equal(c->value(), v)) return false;
        if (v.is_number()) {
            double d = v.to_number<double>();
            if (auto m = num(s, "minimum"); m && d < *m) return false;
            if (auto m = num(s, "maximum"); m && d > *m) return false;
            if (auto m = num(s, "exclusiveMinimum"); m && d <= *m) return false;
            if (auto m = num(s, "exclusiveMaximum"); m && d >= *m) return false;
        }
        if (v.is_string()) {
            double len = static_cast<double>(code_points(v.get_string()));
            if (auto m = num(s, "minLength"); m && len < *m) return false;
            if (auto m = num(s, "maxLength"); m && len > *m) return false;
        }
        if (v.is_object()) {
            const auto& o = v.get_object();
            if (auto r = s.find("required"); r != s.end() && r->value().is_array())
                for (const auto& name : r->value().get_array())
                    if (name.is_string() && !o.contains(name.get_string())) return false;
            const bj::object* props = nullptr;
            if (auto p = s.find("properties"); p != s.end() && p->value().is_object())
                props = &p->value().get_object();
            for (const auto& kv : o) {
                if (props) {
                    if (auto sub = props->find(kv.key()); sub != props->end()) {
                        if (!accepts(sub->value(), kv.value(), depth + 1)) return false;
                        continue;
                    }
                }
                if (auto ap = s.find("additionalProperties");
                    ap != s.end() && !accepts(ap->value(), kv.value(), depth + 1))
                    return false;
            }
        }
        if (v.is_array()) {
            const auto& a = v.get_array();
            if (auto items = s.find("items"); items != s.end())
                for (const auto& each : a)
                    if (!accepts(items->value(), each, depth + 1)) return false;
            double n = static_cast<double>(a.size());
            if (auto m = num(s, "minItems"); m && n < *m) return false;
            if (auto m = num(s, "maxItems"); m && n > *m) return false;
        }
        if (auto all = s.find("allOf"); all != s.end() && all->value().is_array())
            for (const auto& each : all->value().get_array())
                if (!accepts(each, v, depth + 1)) return false;
        for (const char* key : {"anyOf", "oneOf"}) {
            auto any = s.find(key);
            if (any == s.end() || !any->value().is_array()) continue;
            bool ok = false;
            for (const auto& each : any->value().get_array())
                if (accepts(each, v, depth + 1)) ok = true;
            if (!ok) return false;
        }
        return true;
    }
};

}  // namespace

bool json_schema_accepts(const bj::object& schema, const bj::value& instance) {
    return Validator{schema}.accepts(schema, instance);
}

}  // namespace agentd::model
