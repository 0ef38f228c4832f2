#include "model/tool_schema.hpp"

#include <algorithm>
#include <list>
#include <mutex>
#include <set>
#include <stdexcept>

#include "common/json.hpp"

namespace agentd::model {

namespace {

/// `{"name":...,"description":...,"<schema_key>":<schema text>}` appended to `out`.
void append_declaration(std::string& out, const ToolSchema& t, std::string_view schema_key, SchemaForm form) {
    out += "{\"name\":";
    json::write_string(out, t.name);
    out += ",\"description\":";
    json::write_string(out, t.description);
    out += ",\"";
    out += schema_key;
    out += "\":";
    out += t.parameters.text(form);
    out += '}';
}

/// How one provider lays out its tool list around the declarations.
struct ListShape {
    std::string_view open, close;              ///< around the whole list
    std::string_view entry_open, entry_close;  ///< around each declaration
    std::string_view schema_key;
    SchemaForm form;
};

const ListShape kOpenAIShape{"[", "]", "{\"type\":\"function\",\"function\":", "}", "parameters", SchemaForm::kAsIs};
const ListShape kOpenAIFlatShape{"[", "]", "{\"type\":\"function\",\"function\":", "}", "parameters",
                                 SchemaForm::kFlattened};
const ListShape kAnthropicShape{"[", "]", "", "", "input_schema", SchemaForm::kAsIs};
const ListShape kGeminiShape{"[{\"functionDeclarations\":[", "]}]", "", "", "parameters", SchemaForm::kGemini};

std::string render(const std::vector<ToolSchema>& tools, const ListShape& shape) {
    std::size_t size = shape.open.size() + shape.close.size();
    for (const auto& t : tools)
        size += t.name.size() + t.description.size() + t.parameters.text(shape.form).size() + 80;
    std::string out;
    out.reserve(size);
    out += shape.open;
    for (std::size_t i = 0; i < tools.size(); ++i) {
        if (i) out += ',';
        out += shape.entry_open;
        append_declaration(out, tools[i], shape.schema_key, shape.form);
        out += shape.entry_close;
    }
    out += shape.close;
    return out;
}

/// The rendered texts of the most recently sent tool lists, most recent first.
class ToolsTextCache {
public:
    ToolsText get(const std::vector<ToolSchema>& tools, const ListShape& shape) {
        std::lock_guard lock(mutex_);
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            if (it->shape != &shape || !same(it->tools, tools, shape.form)) continue;
            entries_.splice(entries_.begin(), entries_, it);
            return it->text;
        }
        entries_.push_front(Entry{&shape, tools, std::make_shared<const std::string>(render(tools, shape))});
        if (entries_.size() > kKept) entries_.pop_back();
        return entries_.front().text;
    }

private:
    static constexpr std::size_t kKept = 32;
    struct Entry {
        const ListShape* shape;
        std::vector<ToolSchema> tools;  // keeps the schemas (and their texts) alive
        ToolsText text;
    };

    static bool same(const std::vector<ToolSchema>& a, const std::vector<ToolSchema>& b, SchemaForm form) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (a[i].name != b[i].name || a[i].description != b[i].description) return false;
            if (!a[i].parameters.shares(b[i].parameters) && a[i].parameters.text(form) != b[i].parameters.text(form))
                return false;
        }
        return true;
    }

    std::mutex mutex_;
    std::list<Entry> entries_;
};

ToolsText tools_json(const std::vector<ToolSchema>& tools, const ListShape& shape) {
    static ToolsTextCache cache;
    return cache.get(tools, shape);
}

}  // namespace

ToolsText openai_tools_json(const std::vector<ToolSchema>& tools, bool flatten_refs) {
    return tools_json(tools, flatten_refs ? kOpenAIFlatShape : kOpenAIShape);
}

ToolsText anthropic_tools_json(const std::vector<ToolSchema>& tools) { return tools_json(tools, kAnthropicShape); }

ToolsText gemini_tools_json(const std::vector<ToolSchema>& tools) { return tools_json(tools, kGeminiShape); }

namespace {

struct Flattener {
    bj::object defs;

    static std::optional<std::string> local_ref_name(const bj::value& ref) {
        if (!ref.is_string()) return std::nullopt;
        std::string_view r = ref.get_string();
        for (std::string_view prefix : {"#/$defs/", "#/definitions/"})
            if (r.substr(0, prefix.size()) == prefix)
                return std::string(r.substr(r.rfind('/') + 1));
        return std::nullopt;
    }

    bj::value resolve(const bj::value& v, const std::set<std::string>& visited) {
        if (v.is_array()) {
            bj::array out;
            for (const auto& item : v.get_array()) out.push_back(resolve(item, visited));
            return out;
        }
        if (!v.is_object()) return v;
        const auto& obj = v.get_object();
        if (auto it = obj.find("$ref"); it != obj.end()) {
            auto name = local_ref_name(it->value());
            if (name) {
                if (visited.count(*name))
                    return bj::object{{"type", "object"},
                                      {"description", "(circular: " + *name + ")"}};
                if (auto d = defs.find(*name); d != defs.end()) {
                    auto inner = visited;
                    inner.insert(*name);
                    bj::value resolved = resolve(d->value(), inner);
                    if (resolved.is_object()) {
                        for (const auto& kv : obj)
                            if (kv.key() != "$ref")
                                resolved.get_object()[kv.key()] = resolve(kv.value(), inner);
                    }
                    return resolved;
                }
            }
            return v;
        }
        bj::object out;
        for (const auto& kv : obj) {
            if (kv.key() == "$defs" || kv.key() == "definitions") continue;
            out[kv.key()] = resolve(kv.value(), visited);
        }
        return out;
    }
};

}  // namespace

bj::object flatten_json_schema(const bj::object& schema) {
    bool has_defs = false;
    for (const char* key : {"$defs", "definitions"}) {
        auto it = schema.find(key);
        if (it != schema.end() && it->value().is_object()) has_defs = true;
    }
    if (!has_defs) return schema;
    Flattener f;
    bj::object copy = schema;
    for (const char* key : {"$defs", "definitions"}) {
        auto it = copy.find(key);
        if (it != copy.end() && it->value().is_object()) {
            for (const auto& kv : it->value().get_object()) f.defs[kv.key()] = kv.value();
            copy.stable_erase(it);
        }
    }
    if (f.defs.empty()) return copy;
    return f.resolve(copy, {}).get_object();
}

bj::value sanitize_schema_for_gemini(const bj::value& input) {
    if (input.is_array()) {
        bj::array out;
        for (const auto& v : input.get_array()) out.push_back(sanitize_schema_for_gemini(v));
        return out;
    }
    if (!input.is_object()) return input;
    bj::object schema = input.get_object();
    schema.stable_erase("$schema");
    if (auto it = schema.find("type"); it != schema.end() && it->value() == "null")
        it->value() = "object";
    schema.stable_erase("additionalProperties");
    if (auto it = schema.find("const"); it != schema.end()) {
        bj::value c = it->value();
        schema.stable_erase(it);
        if (!schema.contains("enum")) schema["enum"] = bj::array{c};
    }
    if (auto it = schema.find("anyOf"); it != schema.end() && it->value().is_array()) {
        const bj::value null_type = bj::object{{"type", "null"}};
        bj::array non_null;
        for (const auto& v : it->value().get_array())
            if (v != null_type) non_null.push_back(v);
        if (non_null.size() < it->value().get_array().size()) {
            if (non_null.size() == 1) {
                bj::value merged = sanitize_schema_for_gemini(non_null[0]);
                if (merged.is_object()) {
                    for (const auto& kv : schema)
                        if (kv.key() != "anyOf" && !merged.get_object().contains(kv.key()))
                            merged.get_object()[kv.key()] = kv.value();
                }
                return merged;
            }
            if (!non_null.empty()) {
                bj::array cleaned;
                for (const auto& v : non_null) cleaned.push_back(sanitize_schema_for_gemini(v));
                it->value() = std::move(cleaned);
            } else {
                schema.stable_erase(it);
            }
        }
    }
    for (const char* key : {"properties", "patternProperties", "$defs"}) {
        auto it = schema.find(key);
        if (it != schema.end() && it->value().is_object()) {
            bj::object out;
            for (const auto& kv : it->value().get_object())
                out[kv.key()] = sanitize_schema_for_gemini(kv.value());
            it->value() = std::move(out);
        }
    }
    for (const char* key : {"items", "not", "if", "then", "else"}) {
        auto it = schema.find(key);
        if (it != schema.end()) it->value() = sanitize_schema_for_gemini(it->value());
    }
    for (const char* key : {"allOf", "oneOf", "anyOf"}) {
        auto it = schema.find(key);
        if (it != schema.end() && it->value().is_array())
            it->value() = sanitize_schema_for_gemini(it->value());
    }
    return schema;
}

void check_tool_choice(const ChatRequest& request) {
    if (!request.tool_choice || request.tools.empty()) return;
    const auto& mode = *request.tool_choice;
    if (is_tool_choice_mode(mode)) return;
    std::vector<std::string> names;
    for (const auto& t : request.tools) names.push_back(t.name);
    if (std::find(names.begin(), names.end(), mode) != names.end()) return;
    std::sort(names.begin(), names.end());
    std::string available;
    for (const auto& n : names) available += (available.empty() ? "" : ", ") + n;
    throw std::invalid_argument("Invalid tool name '" + mode +
                                "' in tool_choice.mode. Available tools: " + available);
}

}  // namespace agentd::model
