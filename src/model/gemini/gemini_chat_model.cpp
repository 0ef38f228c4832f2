#include "model/gemini/gemini_chat_model.hpp"

#include "model/gemini/gemini_formatter.hpp"
#include "model/gemini/gemini_stream_decoder.hpp"

namespace agentd::model::gemini {

GeminiChatModel::GeminiChatModel(std::string base_url, std::string api_key, std::string model,
                                 bj::object parameters, std::shared_ptr<HttpTransport> transport,
                                 CallSettings settings)
    : HttpChatModel(std::move(model), std::move(parameters), std::move(transport),
                    std::move(settings)),
      base_url_(std::move(base_url)),
      api_key_(std::move(api_key)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

net::HttpRequest GeminiChatModel::build_request(const ChatRequest& request, const bj::object&,
                                                const MediaResolver& resolver) const {
    FormatOptions options;
    options.input_types = input_types_;
    options.resolver = resolver;
    return json_post(base_url_ + "/v1beta/models/" + model_ + ":streamGenerateContent?alt=sse",
                     {{"x-goog-api-key", api_key_}},
                     format_body(request, model_, parameters_, options));
}

std::unique_ptr<StreamDecoder> GeminiChatModel::make_decoder() const {
    return std::make_unique<GeminiStreamDecoder>();
}

}  // namespace agentd::model::gemini
