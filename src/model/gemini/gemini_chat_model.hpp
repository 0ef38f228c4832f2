#pragma once
// POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse with x-goog-api-key.
#include <string_view>
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
    // Statuses are retried as for every provider (429, 5xx, ...), not each 4xx:
    // the reference's streaming Gemini call, opened lazily outside its retry
    // loop, is never retried at all, and a rejected request shape (a 400) only
    // fails again.
    bool structured_fallback_status(int) const override { return false; }

private:
    std::string base_url_, api_key_;
    std::string resource_;  ///< "models/<name>" or "tunedModels/<name>"
};

/// The model's resource path as Google's client forms it: a name already
/// starting with "models/" or "tunedModels/" is kept, any other gets "models/".
/// Throws std::invalid_argument for a name holding "..", "?" or "&".
std::string model_resource(std::string_view model);

}  // namespace agentd::model::gemini
