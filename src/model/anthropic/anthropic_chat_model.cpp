#include "model/anthropic/anthropic_chat_model.hpp"

#include "model/anthropic/anthropic_formatter.hpp"
#include "model/anthropic/anthropic_stream_decoder.hpp"

namespace agentd::model::anthropic {

AnthropicChatModel::AnthropicChatModel(std::string base_url, std::string api_key, std::string model,
                                       bj::object parameters,
                                       std::shared_ptr<HttpTransport> transport,
                                       CallSettings settings)
    : HttpChatModel(std::move(model), std::move(parameters), std::move(transport),
                    std::move(settings)),
      base_url_(std::move(base_url)),
      api_key_(std::move(api_key)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

net::HttpRequest AnthropicChatModel::build_request(const ChatRequest& request,
                                                   const bj::object& extra_body,
                                                   const MediaResolver& resolver) const {
    FormatOptions options;
    options.input_types = input_types_;
    options.resolver = resolver;
    options.extra_body = extra_body;
    return json_post(base_url_ + "/v1/messages",
                     {{"x-api-key", api_key_}, {"anthropic-version", kAnthropicVersion}},
                     format_body(request, model_, parameters_, options));
}

std::unique_ptr<StreamDecoder> AnthropicChatModel::make_decoder() const {
    return std::make_unique<AnthropicStreamDecoder>();
}

}  // namespace agentd::model::anthropic
