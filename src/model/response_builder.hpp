#pragma once
// Accumulates one model call (spec/models.md §3.2-3.3): every text delta goes
// into one text block and every thinking delta into one thinking block (fresh
// 32-hex ids per call), tool calls are keyed by their provider id, audio bytes
// are concatenated and base64-encoded once; blocks keep their first-appearance
// order. Each add_* also records the delta into the chunk being surfaced.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/chat_model.hpp"

namespace agentd::model {

class ResponseBuilder {
public:
    ResponseBuilder();

    void add_text(std::string_view text, ModelChunk& chunk);
    void add_thinking(std::string_view thinking, ModelChunk& chunk);
    /// A provider extra of the thinking block (Anthropic `signature`); the latest wins.
    void set_thinking_extra(std::string_view key, bj::value value);
    /// Anthropic redacted reasoning: its own thinking block (fresh id, empty text).
    void add_redacted_thinking(std::string_view data);
    /// `id` and `name` must be the resolved ones (decoders track index → id/name).
    void add_tool_call(std::string_view id, std::string_view name, std::string_view arguments,
                       ModelChunk& chunk);
    /// Raw (decoded) bytes of the one model-audio block.
    void add_audio(std::string_view bytes, std::string_view media_type, ModelChunk& chunk);

    void set_usage(const Usage& usage) { usage_ = usage; }
    const std::optional<Usage>& usage() const { return usage_; }

    /// The aggregate so far (the final response once the stream ended).
    ModelResponse build() const;

private:
    enum class Kind { kText, kThinking, kToolCall, kData };
    struct Block {
        Kind kind;
        std::string id;
        std::string body;  ///< text, thinking, tool input, or raw audio bytes
        std::string name;  ///< tool name / media type
        bj::object extras;
    };
    Block& block(Kind kind, const std::string& id);

    std::string text_id_, thinking_id_, audio_id_;
    std::vector<Block> blocks_;
    std::unordered_map<std::string, std::size_t> index_;
    std::optional<Usage> usage_;
};

}  // namespace agentd::model
