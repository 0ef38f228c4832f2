#include "model/gemini/gemini_chat_model.hpp"

#include <stdexcept>

#include "model/gemini/gemini_formatter.hpp"
#include "model/gemini/gemini_stream_decoder.hpp"

namespace agentd::model::gemini {

GeminiChatModel::GeminiChatModel(std::string base_url, std::string api_key, std::string model,
                                 bj::object parameters, std::shared_ptr<HttpTransport> transport,
                                 CallSettings settings)
    : HttpChatModel(std::move(model), std::move(parameters), std::move(transport),
                    std::move(settings)),
      base_url_(std::move(base_url)),
      api_key_(std::move(api_key)),
      resource_(model_resource(model_)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string model_resource(std::string_view model) {
    for (std::string_view bad : {"..", "?", "&"})
        if (model.find(bad) != std::string_view::npos)
            throw std::invalid_argument("model: invalid model name '" + std::string(model) + "'");
    if (model.starts_with("models/") || model.starts_with("tunedModels/")) return std::string(model);
    return "models/" + std::string(model);
}

net::HttpRequest GeminiChatModel::build_request(const ChatRequest& request, const bj::object&,
                                                const MediaResolver& resolver) const {
    FormatOptions options;
    options.input_types = input_types_;
    options.resolver = resolver;
    return json_post(base_url_ + "/v1beta/" + resource_ + ":streamGenerateContent?alt=sse",
                     {{"x-goog-api-key", api_key_}},
                     format_body(request, model_, parameters_, options));
}

std::unique_ptr<StreamDecoder> GeminiChatModel::make_decoder() const {
    return std::make_unique<GeminiStreamDecoder>();
}

}  // namespace agentd::model::gemini
