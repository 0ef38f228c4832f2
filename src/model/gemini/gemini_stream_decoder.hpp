#pragma once
// streamGenerateContent?alt=sse events → ModelChunks (spec/models.md §4.6):
// `thought` parts are thinking, function calls arrive whole, and the call id is
// the part's thoughtSignature when present (Trap 14).
#include "model/stream_decoder.hpp"

namespace agentd::model::gemini {

class GeminiStreamDecoder : public StreamDecoder {
public:
    std::vector<ModelChunk> feed(std::string_view payload) override;
};

}  // namespace agentd::model::gemini
