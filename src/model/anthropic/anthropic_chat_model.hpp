#pragma once
// POST {base}/v1/messages, streamed, with x-api-key and anthropic-version.
#include <string>

#include "model/http_chat_model.hpp"
#include "model/anthropic/anthropic_formatter.hpp"

namespace agentd::model::anthropic {

inline constexpr const char* kAnthropicVersion = "2023-06-01";

class AnthropicChatModel : public HttpChatModel {
public:
    AnthropicChatModel(std::string base_url, std::string api_key, std::string model, bj::object parameters,
                       std::shared_ptr<HttpTransport> transport, CallSettings settings = {});

protected:
    net::HttpRequest build_request(const ChatRequest& request, const bj::object& extra_body,
                                   const MediaResolver& resolver) const override;
    std::unique_ptr<StreamDecoder> make_decoder() const override;
    std::string_view provider() const override { return "Anthropic"; }
    std::vector<std::string> default_input_types() const override { return anthropic::default_input_types(); }
    std::optional<bj::object> disable_thinking_body() const override {
        return bj::object{{"thinking", bj::object{{"type", "disabled"}}}};
    }

private:
    std::string base_url_, api_key_;
};

}  // namespace agentd::model::anthropic
