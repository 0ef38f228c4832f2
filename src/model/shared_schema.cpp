#include "model/shared_schema.hpp"

#include <array>
#include <mutex>

#include "common/json.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model {

struct SharedSchema::Node {
    explicit Node(bj::object s) : schema(std::move(s)) {}
    bj::object schema;
    // Filled once per form, on first use, by whichever thread asks first.
    mutable std::array<std::once_flag, static_cast<std::size_t>(SchemaForm::kCount)> rendered;
    mutable std::array<std::string, static_cast<std::size_t>(SchemaForm::kCount)> texts;
};

namespace {

std::string render(const bj::object& schema, SchemaForm form) {
    switch (form) {
        case SchemaForm::kFlattened:
            return json::write(flatten_json_schema(schema));
        case SchemaForm::kGemini:
            return json::write(sanitize_schema_for_gemini(flatten_json_schema(schema)));
        case SchemaForm::kPython:
            return json::write(schema, json::Style::kPython);
        case SchemaForm::kAsIs:
        case SchemaForm::kCount:
            break;
    }
    return json::write(schema);
}

}  // namespace

SharedSchema::SharedSchema() {
    static const auto kEmpty = std::make_shared<const Node>(bj::object{});
    node_ = kEmpty;
}

SharedSchema::SharedSchema(bj::object schema) : node_(std::make_shared<const Node>(std::move(schema))) {}

const bj::object& SharedSchema::object() const { return node_->schema; }

const std::string& SharedSchema::text(SchemaForm form) const {
    const auto i = static_cast<std::size_t>(form);
    const Node& node = *node_;
    std::call_once(node.rendered.at(i), [&node, form, i] { node.texts[i] = render(node.schema, form); });
    return node.texts[i];
}

}  // namespace agentd::model
