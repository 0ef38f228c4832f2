#pragma once
// Messages API SSE events → ModelChunks (spec/models.md §4.5): thinking with
// its signature, redacted thinking, tool_use input_json deltas keyed by block
// index, and usage split between message_start and message_delta (Trap 7).
#include <map>
#include <string>
#include <utility>

#include "model/stream_decoder.hpp"

namespace agentd::model::anthropic {

class AnthropicStreamDecoder : public StreamDecoder {
public:
    std::vector<ModelChunk> feed(std::string_view payload) override;

private:
    /// Content block index → (tool_use id, name).
    std::map<std::int64_t, std::pair<std::string, std::string>> calls_;
    bool usage_known_ = false;
};

}  // namespace agentd::model::anthropic
