#include "model/openai/openai_chat_model.hpp"

#include "model/openai/openai_stream_decoder.hpp"

namespace agentd::model::openai {

OpenAIChatModel::OpenAIChatModel(Endpoint endpoint, std::string model, bj::object parameters,
                                 std::shared_ptr<HttpTransport> transport, CallSettings settings)
    : HttpChatModel(std::move(model), std::move(parameters), std::move(transport),
                    std::move(settings)),
      endpoint_(std::move(endpoint)) {
    while (!endpoint_.base_url.empty() && endpoint_.base_url.back() == '/')
        endpoint_.base_url.pop_back();
}

net::HttpRequest OpenAIChatModel::build_request(const ChatRequest& request,
                                                const bj::object& extra_body,
                                                const MediaResolver& resolver) const {
    FormatOptions options;
    options.vendor = endpoint_.vendor;
    options.input_types = input_types_;
    options.resolver = resolver;
    options.extra_body = extra_body;
    std::vector<std::pair<std::string, std::string>> headers{
        {"authorization", "Bearer " + endpoint_.api_key}};
    if (!endpoint_.organization.empty())
        headers.emplace_back("openai-organization", endpoint_.organization);
    return json_post(endpoint_.base_url + "/chat/completions", std::move(headers),
                     format_body(request, model_, parameters_, options));
}

std::unique_ptr<StreamDecoder> OpenAIChatModel::make_decoder() const {
    return std::make_unique<OpenAIStreamDecoder>(endpoint_.vendor);
}

std::string_view OpenAIChatModel::provider() const {
    switch (endpoint_.vendor) {
        case Vendor::kOpenAI:
            return "OpenAI";
        case Vendor::kDashScope:
            return "DashScope";
        case Vendor::kDeepSeek:
            return "DeepSeek";
        case Vendor::kMoonshot:
            return "Moonshot";
        case Vendor::kXai:
            return "xAI";
    }
    return "OpenAI";
}

std::optional<bj::object> OpenAIChatModel::disable_thinking_body() const {
    switch (endpoint_.vendor) {
        case Vendor::kDashScope:
            return bj::object{{"enable_thinking", false}};
        case Vendor::kDeepSeek:
        case Vendor::kMoonshot:
            return bj::object{{"thinking", bj::object{{"type", "disabled"}}}};
        default:
            return std::nullopt;
    }
}

}  // namespace agentd::model::openai
