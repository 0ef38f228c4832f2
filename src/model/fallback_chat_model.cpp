#include "model/fallback_chat_model.hpp"

#include <spdlog/spdlog.h>

namespace agentd::model {

FallbackChatModel::FallbackChatModel(std::unique_ptr<ChatModel> primary,
                                     std::unique_ptr<ChatModel> fallback)
    : primary_(std::move(primary)), fallback_(std::move(fallback)) {}

boost::asio::awaitable<ModelResponse> FallbackChatModel::call(const ChatRequest& request,
                                                              const ChunkSink& on_chunk,
                                                              CancellationPtr cancel) {
    bool delivered = false;
    ChunkSink tracking = [&](const ModelChunk& chunk) {
        delivered = true;
        if (on_chunk) on_chunk(chunk);
    };
    try {
        co_return co_await primary_->call(request, tracking, cancel);
    } catch (const ModelInterrupted&) {
        throw;
    } catch (const std::exception& e) {
        if (delivered || (cancel && cancel->requested())) throw;
        spdlog::warn("model {} failed ({}); trying fallback model {}", primary_->model_name(),
                     e.what(), fallback_->model_name());
    }
    co_return co_await fallback_->call(request, on_chunk, cancel);
}

}  // namespace agentd::model
