#pragma once
// An immutable JSON Schema that copies share.
//
// A tool's schema goes into every model request of every run and is most of
// a request's bytes. Shared, copying a ToolSchema into a request costs a
// reference count instead of a deep copy, and each provider's rendering of it
// as JSON text is made once for the life of the schema (model/tool_schema.hpp)
// instead of being rebuilt and serialized on every call.
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace agentd::model {

namespace bj = boost::json;

/// The forms a schema is sent in (tool_schema.hpp renders them).
enum class SchemaForm {
    kAsIs,       ///< unchanged (Anthropic, OpenAI-compatible vendors, Ollama)
    kFlattened,  ///< local `$ref`s inlined (OpenAI)
    kGemini,     ///< flattened, then Gemini's subset
    kPython,     ///< unchanged, with json.dumps' ", " and ": " (how the reference counts its tokens)
    kCount
};

class SharedSchema {
public:
    SharedSchema();  ///< `{}`
    /// Implicit, so that `ToolSchema{name, description, bj::object{...}}` reads as before.
    SharedSchema(bj::object schema);  // NOLINT(google-explicit-constructor)

    const bj::object& object() const;
    operator const bj::object&() const { return object(); }  // NOLINT(google-explicit-constructor)
    bool empty() const { return object().empty(); }
    bool contains(std::string_view key) const { return object().contains(key); }
    const bj::value& at(std::string_view key) const { return object().at(key); }

    /// The schema as compact JSON text in `form`, rendered on the first request
    /// for that form and kept; safe to call from several threads.
    const std::string& text(SchemaForm form) const;
    /// Whether both are copies of one schema (then every text is the same).
    bool shares(const SharedSchema& other) const { return node_ == other.node_; }

private:
    struct Node;
    std::shared_ptr<const Node> node_;
};

}  // namespace agentd::model
