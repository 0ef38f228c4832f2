#pragma once
// The provider-specific half of a streaming call: turns one SSE event's data
// (or one NDJSON line) into the chunks to surface, and keeps the aggregate.
#include <string_view>
#include <vector>

#include "model/chat_model.hpp"
#include "model/response_builder.hpp"

namespace agentd::model {

class StreamDecoder {
public:
    virtual ~StreamDecoder() = default;

    /// One event payload → the chunks to surface, in order. Usage-only
    /// ("carrier") payloads update the aggregate but yield no chunk. Throws
    /// ModelError when the payload is a provider error (never retried: the
    /// stream is already open).
    virtual std::vector<ModelChunk> feed(std::string_view payload) = 0;

    /// Whether the provider's end-of-stream marker was seen (`[DONE]`, `message_stop`,
    /// `done:true`).
    bool finished() const { return finished_; }

    /// The aggregate of everything fed so far.
    ModelResponse response() const { return builder_.build(); }

protected:
    /// Wraps `chunk` for surfacing when it carries content, attaching the current usage.
    void surface(ModelChunk& chunk, std::vector<ModelChunk>& out) const {
        if (chunk.empty()) return;
        chunk.usage = builder_.usage();
        out.push_back(std::move(chunk));
    }

    ResponseBuilder builder_;
    bool finished_ = false;
};

}  // namespace agentd::model
