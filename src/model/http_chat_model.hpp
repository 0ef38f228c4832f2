#pragma once
// What every HTTP provider shares: sending the streaming request, checking the
// status before the body, retrying retryable failures with backoff until the
// first body byte (never after: deltas were already published), decoding the
// SSE/NDJSON body, cancellation with the partial aggregate, loading `url`
// media, and the structured-output strategy ladder (spec/models.md §3.4, §3.6).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_model.hpp"
#include "model/http_transport.hpp"
#include "model/media.hpp"
#include "model/request_body.hpp"
#include "model/retry_policy.hpp"
#include "model/stream_decoder.hpp"

namespace agentd::model {

struct CallSettings {
    RetryPolicy retry;
    Sleeper sleeper = timer_sleeper();
    /// Uniform in [0, 1) for jitter.
    std::function<double()> random;
    /// Longest silence while streaming (the SDKs' 600 s read timeout).
    std::chrono::milliseconds idle_timeout{600'000};
    std::chrono::milliseconds connect_timeout{10'000};
    /// Media downloads referenced by `url` sources.
    std::chrono::milliseconds media_timeout{30'000};
    std::size_t max_media_bytes = 20 * 1024 * 1024;
};

/// Immutable after construction (set_input_types belongs to construction), so
/// calls keep all their state in the coroutine frame. One call at a time per
/// instance: the transport's HttpClient is not shared across concurrent calls.
class HttpChatModel : public ChatModel {
public:
    HttpChatModel(std::string model, bj::object parameters, std::shared_ptr<HttpTransport> transport,
                  CallSettings settings);

    const std::string& model_name() const override { return model_; }

    boost::asio::awaitable<ModelResponse> call(const ChatRequest& request, const ChunkSink& on_chunk,
                                               CancellationPtr cancel) override;

    /// The model card's `input_types`, replacing the formatter's defaults.
    void set_input_types(std::vector<std::string> input_types) { input_types_ = std::move(input_types); }

    /// By the card's `input_types`, else the formatter's default list.
    bool accepts_input_media(std::string_view media_type) const override;

protected:
    enum class Framing { kSse, kNdjson };

    /// The HTTP request of one call. `extra_body` carries provider kwargs (the
    /// no-thinking strategy); `resolver` inlines `url` media.
    virtual net::HttpRequest build_request(const ChatRequest& request, const bj::object& extra_body,
                                           const MediaResolver& resolver) const = 0;
    virtual std::unique_ptr<StreamDecoder> make_decoder() const = 0;
    virtual Framing framing() const { return Framing::kSse; }
    /// For log messages ("OpenAI", "Anthropic", …).
    virtual std::string_view provider() const = 0;
    /// The formatter's input types when the model card names none.
    virtual std::vector<std::string> default_input_types() const = 0;

    /// OpenAI/Anthropic SDKs: 408, 409, 429, ≥500, and `x-should-retry` decides when present.
    virtual bool retryable_status(int status, const net::HttpResponseHead& head) const;
    /// Connection errors and timeouts; never a cancellation.
    virtual bool retryable_transport(net::TransportError::Kind kind) const;
    /// HTTP statuses meaning "this request shape was rejected": the next structured-output strategy may work.
    virtual bool structured_fallback_status(int status) const { return status == 400; }
    /// The body keys that disable thinking (structured output's no-think strategy), if the provider has them.
    virtual std::optional<bj::object> disable_thinking_body() const { return std::nullopt; }

    std::string model_;
    bj::object parameters_;
    std::optional<std::vector<std::string>> input_types_;
    const CallSettings& settings() const { return settings_; }

    /// Common headers + JSON body.
    net::HttpRequest json_post(std::string url, std::vector<std::pair<std::string, std::string>> headers,
                               const RequestBody& body) const;

private:
    boost::asio::awaitable<ModelResponse> call_plain(const ChatRequest& request, const bj::object& extra_body,
                                                     const ChunkSink& on_chunk, CancellationPtr cancel);
    boost::asio::awaitable<ModelResponse> call_structured(const ChatRequest& request, CancellationPtr cancel);
    boost::asio::awaitable<ModelResponse> stream_with_retries(const net::HttpRequest& http, const ChunkSink& on_chunk,
                                                              CancellationPtr cancel);
    /// Loads the `url` media a first formatting pass asked for; failures are left out.
    boost::asio::awaitable<std::map<std::string, std::string>> load_media(const std::vector<std::string>& urls,
                                                                         const std::string& media_root,
                                                                         CancellationPtr cancel);

    std::shared_ptr<HttpTransport> transport_;
    CallSettings settings_;
};

}  // namespace agentd::model
