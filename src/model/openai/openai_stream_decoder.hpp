#pragma once
// Chat Completions SSE chunks (`data: {...}` … `data: [DONE]`) → ModelChunks,
// with each vendor's reading of reasoning, audio and cached-token usage
// (spec/models.md §4.3, §4.7-4.9).
#include <map>
#include <string>
#include <utility>

#include "model/openai/openai_formatter.hpp"
#include "model/stream_decoder.hpp"

namespace agentd::model::openai {

class OpenAIStreamDecoder : public StreamDecoder {
public:
    explicit OpenAIStreamDecoder(Vendor vendor = Vendor::kOpenAI) : vendor_(vendor) {}

    std::vector<ModelChunk> feed(std::string_view payload) override;

private:
    Vendor vendor_;
    /// Tool-call index → (id, name) as first seen: later deltas omit them.
    std::map<std::int64_t, std::pair<std::string, std::string>> calls_;
    bool audio_started_ = false;
};

}  // namespace agentd::model::openai
