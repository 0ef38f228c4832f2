#pragma once
// POST {base}/chat/completions, streamed: OpenAI and the OpenAI-compatible
// services (DashScope, DeepSeek, Moonshot, xAI REST), Bearer-authenticated.
#include <optional>
#include <string>

#include "model/http_chat_model.hpp"
#include "model/openai/openai_formatter.hpp"

namespace agentd::model::openai {

class OpenAIChatModel : public HttpChatModel {
public:
    struct Endpoint {
        Vendor vendor = Vendor::kOpenAI;
        std::string base_url;      ///< without the trailing "/chat/completions"
        std::string api_key;
        std::string organization;  ///< OpenAI-Organization header when not empty
    };

    OpenAIChatModel(Endpoint endpoint, std::string model, bj::object parameters,
                    std::shared_ptr<HttpTransport> transport, CallSettings settings = {});

protected:
    net::HttpRequest build_request(const ChatRequest& request, const bj::object& extra_body,
                                   const MediaResolver& resolver) const override;
    std::unique_ptr<StreamDecoder> make_decoder() const override;
    std::string_view provider() const override;
    std::vector<std::string> default_input_types() const override { return openai::default_input_types(endpoint_.vendor); }
    std::optional<bj::object> disable_thinking_body() const override;

private:
    Endpoint endpoint_;
};

}  // namespace agentd::model::openai
