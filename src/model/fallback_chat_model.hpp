#pragma once
// A primary model with a fallback (spec/models.md §2.3): when the primary
// fails before delivering any chunk (after its own retries), the same request
// goes to the fallback. Once a chunk was surfaced the failure stands: deltas
// were already published. Cancellation never falls over.
#include <memory>

#include "model/chat_model.hpp"

namespace agentd::model {

class FallbackChatModel : public ChatModel {
public:
    FallbackChatModel(std::unique_ptr<ChatModel> primary, std::unique_ptr<ChatModel> fallback);

    /// The primary's name (MODEL_CALL_START is emitted before the outcome is known).
    const std::string& model_name() const override { return primary_->model_name(); }

    boost::asio::awaitable<ModelResponse> call(const ChatRequest& request, const ChunkSink& on_chunk,
                                               CancellationPtr cancel) override;

    /// The primary's: the context is made for it.
    bool accepts_input_media(std::string_view media_type) const override {
        return primary_->accepts_input_media(media_type);
    }

private:
    std::unique_ptr<ChatModel> primary_;
    std::unique_ptr<ChatModel> fallback_;
};

}  // namespace agentd::model
