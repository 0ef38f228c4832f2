#pragma once
// The chat-model seam: one streaming call of an LLM provider.
//
// Messages and blocks are carried as the reference's JSON (domain/message.hpp
// documents the shapes), so the request a provider formats is exactly the
// history the agent keeps.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cancellation.hpp"
#include "model/shared_schema.hpp"

namespace agentd::model {

namespace bj = boost::json;

/// A tool as the model is offered it. Copies share `parameters`, so a
/// request's tool list costs no deep copy (model/shared_schema.hpp).
struct ToolSchema {
    std::string name;
    std::string description;
    SharedSchema parameters;  ///< JSON Schema of the arguments object
};

struct ChatRequest {
    std::string system_prompt;  ///< may be empty
    bj::array messages;         ///< Msg JSON objects, oldest first (user / assistant / system)
    /// More messages after `messages`, by reference so that a long conversation is
    /// not copied for every call. Must outlive the call; may be null.
    const bj::array* context = nullptr;
    std::vector<ToolSchema> tools;
    /// "auto" | "none" | "required" | a tool name; nullopt leaves the provider default.
    std::optional<std::string> tool_choice;
    /// JSON Schema the final answer must follow (structured output), when set.
    /// The model then runs the reference's strategy ladder (forced tool call,
    /// auto, no-thinking, none) and fills ModelResponse::structured_output;
    /// `tools` are replaced by the one `generate_structured_output` tool and
    /// `on_chunk` is not called (failed strategies must not leak deltas).
    std::optional<bj::object> structured_schema;
    /// Directory that `file://` media sources must lie under (the session
    /// workspace). Empty: `file://` media are never read; a text note replaces them.
    std::string media_root;
};

struct Usage {
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t cache_input_tokens = 0;
    std::int64_t cache_creation_input_tokens = 0;
};

/// A piece of one tool call's arguments. `id` and `name` may be empty on
/// continuation pieces of providers that only send them once (the model layer
/// fills them in before the chunk reaches the agent: consumers always see both).
struct ToolCallDelta {
    std::string id;
    std::string name;
    std::string arguments;  ///< fragment of the JSON text, possibly ""
};

struct DataDelta {
    std::string block_id;
    std::string media_type;
    std::string base64;  ///< this chunk only, independently padded
};

/// One incremental chunk: only what is new since the previous chunk.
struct ModelChunk {
    std::string thinking;       ///< all thinking text of this chunk
    std::string text;           ///< all answer text of this chunk
    std::vector<ToolCallDelta> tool_calls;
    std::vector<DataDelta> data;
    std::optional<Usage> usage;  ///< when the provider reports it in this chunk
    bool empty() const { return thinking.empty() && text.empty() && tool_calls.empty() && data.empty(); }
};

/// The aggregated result of a call: what goes into the agent's context.
struct ModelResponse {
    /// Content blocks in order: thinking (with provider extras such as a
    /// signature), text, tool_call ({type, id, name, input: raw JSON text}), data.
    bj::array content;
    Usage usage;
    /// Parsed structured output, when a schema was requested and the model complied.
    std::optional<bj::object> structured_output;
};

/// A provider answered with an HTTP error (after retries), or the call failed in
/// transport. `status` is 0 for transport failures. `retryable` says whether a
/// fallback model should be tried. The message is for logs only: clients see
/// the fixed sentence of the error's class (spec/api-core.md §8).
class ModelError : public std::runtime_error {
public:
    ModelError(int status, bool retryable, const std::string& what)
        : std::runtime_error(what), status_(status), retryable_(retryable) {}
    int status() const { return status_; }
    bool retryable() const { return retryable_; }

private:
    int status_;
    bool retryable_;
};

/// The call was cancelled (interrupt); the partial response so far is attached.
class ModelInterrupted : public std::runtime_error {
public:
    explicit ModelInterrupted(ModelResponse partial)
        : std::runtime_error("model call interrupted"), partial_(std::move(partial)) {}
    const ModelResponse& partial() const { return partial_; }

private:
    ModelResponse partial_;
};

using ChunkSink = std::function<void(const ModelChunk&)>;

class ChatModel {
public:
    virtual ~ChatModel() = default;

    /// The model's name as configured (e.g. "gpt-4.1-mini"); MODEL_CALL_START carries it.
    virtual const std::string& model_name() const = 0;

    /// Runs one call, streaming: `on_chunk` receives every incremental chunk in
    /// order; the aggregated response is returned at the end. Throws ModelError
    /// on failure, ModelInterrupted when `cancel` fired.
    virtual boost::asio::awaitable<ModelResponse> call(const ChatRequest& request, const ChunkSink& on_chunk,
                                                       CancellationPtr cancel) = 0;

    /// Whether the model takes a user's data block of `media_type` as input.
    /// One it does not take is saved to the workspace and named in a reminder
    /// instead (spec/runtime.md §4.2). Every type, unless the model says otherwise.
    virtual bool accepts_input_media(std::string_view media_type) const {
        (void)media_type;
        return true;
    }
};

}  // namespace agentd::model
