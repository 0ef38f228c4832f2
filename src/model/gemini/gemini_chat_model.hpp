#pragma once
// POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse with x-goog-api-key.
#include <string>

#include "model/http_chat_model.hpp"
#include "model/gemini/gemini_formatter.hpp"

namespace agentd::model::gemini {

inline constexpr const char* kGeminiBaseUrl = "https://generativelanguage.googleapis.com";

class GeminiChatModel : public HttpChatModel {
public:
    GeminiChatModel(std::string base_url, std::string api_key, std::string model, bj::object parameters,
                    std::shared_ptr<HttpTransport> transport, CallSettings settings = {});

protected:
    net::HttpRequest build_request(const ChatRequest& request, const bj::object& extra_body,
                                   const MediaResolver& resolver) const override;
    std::unique_ptr<StreamDecoder> make_decoder() const override;
    std::string_view provider() const override { return "Gemini"; }
    std::vector<std::string> default_input_types() const override { return gemini::default_input_types(); }
    /// The reference retries every Gemini API error, 4xx included (Trap 15).
    bool retryable_status(int status, const net::HttpResponseHead&) const override { return status >= 400; }
    bool structured_fallback_status(int) const override { return false; }

private:
    std::string base_url_, api_key_;
};

}  // namespace agentd::model::gemini
