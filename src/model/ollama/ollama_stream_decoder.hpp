#pragma once
// /api/chat NDJSON lines → ModelChunks (spec/models.md §4.10): tool calls arrive
// whole with object arguments and are named "{index}_{name}"; token counts come
// with the final `done` line.
#include "model/stream_decoder.hpp"

namespace agentd::model::ollama {

class OllamaStreamDecoder : public StreamDecoder {
public:
    std::vector<ModelChunk> feed(std::string_view line) override;
};

}  // namespace agentd::model::ollama
