#include "model/model_factory.hpp"

#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "common/embedded_assets.hpp"
#include "model/anthropic/anthropic_chat_model.hpp"
#include "model/anthropic/anthropic_formatter.hpp"
#include "model/gemini/gemini_chat_model.hpp"
#include "model/gemini/gemini_formatter.hpp"
#include "model/history.hpp"
#include "model/ollama/ollama_chat_model.hpp"
#include "model/ollama/ollama_formatter.hpp"
#include "model/openai/openai_chat_model.hpp"

namespace agentd::model {

namespace {

/// A string field of the credential; "" for absent or null.
std::string field(const bj::object& c, std::string_view key) { return std::string(str_at(c, key)); }

std::string required_key(const bj::object& c) {
    std::string key = field(c, "api_key");
    if (key.empty() && !(c.contains("api_key") && c.at("api_key").is_string()))
        throw std::invalid_argument("credential.api_key: Field required");
    return key;
}

/// A base URL from the credential, else the SDK's environment override, else the default.
std::string base_url(const bj::object& c, std::string_view key, const char* env,
                     std::string_view fallback) {
    std::string url = field(c, key);
    if (url.empty() && env)
        if (const char* v = std::getenv(env); v && *v) url = v;
    if (url.empty()) url = std::string(fallback);
    return url;
}

std::optional<openai::Vendor> openai_vendor(std::string_view type) {
    if (type == "openai_credential") return openai::Vendor::kOpenAI;
    if (type == "dashscope_credential") return openai::Vendor::kDashScope;
    if (type == "deepseek_credential") return openai::Vendor::kDeepSeek;
    if (type == "moonshot_credential") return openai::Vendor::kMoonshot;
    if (type == "xai_credential") return openai::Vendor::kXai;
    return std::nullopt;
}

const bj::object& chat_catalogue() {
    static const bj::object catalogue = [] {
        auto text = assets::find("assets/catalog/chat_models.json");
        if (!text) return bj::object{};
        boost::system::error_code ec;
        auto v = bj::parse(*text, ec);
        return !ec && v.is_object() ? v.get_object() : bj::object{};
    }();
    return catalogue;
}

}  // namespace

std::optional<std::vector<std::string>> catalogued_input_types(const std::string& credential_type,
                                                               const std::string& model) {
    const auto& catalogue = chat_catalogue();
    auto cards = catalogue.find(credential_type);
    if (cards == catalogue.end() || !cards->value().is_array()) return std::nullopt;
    for (const auto& card : cards->value().get_array()) {
        if (!card.is_object() || str_at(card.get_object(), "name") != model) continue;
        auto types = card.get_object().find("input_types");
        if (types == card.get_object().end() || !types->value().is_array()) return std::nullopt;
        std::vector<std::string> out;
        for (const auto& t : types->value().get_array())
            if (t.is_string()) out.emplace_back(t.get_string());
        return out;
    }
    return std::nullopt;
}

void validate_chat_parameters(const std::string& type, const std::string& model,
                              const bj::object& parameters) {
    if (auto vendor = openai_vendor(type))
        return openai::validate_parameters(*vendor, model, parameters);
    if (type == "anthropic_credential") return anthropic::validate_parameters(parameters);
    if (type == "gemini_credential") {
        gemini::model_resource(model);
        return gemini::validate_parameters(parameters);
    }
    if (type == "ollama_credential") return ollama::validate_parameters(parameters);
    throw std::invalid_argument("Unknown credential type '" + type + "'");
}

std::int64_t default_context_size(const std::string& type) {
    if (type == "openai_credential") return 128000;
    if (type == "anthropic_credential") return 200000;
    if (type == "gemini_credential") return 1048576;
    if (type == "deepseek_credential") return 65536;
    if (type == "dashscope_credential" || type == "moonshot_credential" || type == "xai_credential")
        return 131072;
    return 32768;  // Ollama and the base class
}

std::unique_ptr<ChatModel> make_chat_model(std::shared_ptr<HttpTransport> transport,
                                           const bj::object& credential, const std::string& model,
                                           const bj::object& parameters, CallSettings settings) {
    const std::string type = field(credential, "type");
    validate_chat_parameters(type, model, parameters);
    std::unique_ptr<HttpChatModel> out;
    if (auto vendor = openai_vendor(type)) {
        openai::OpenAIChatModel::Endpoint endpoint;
        endpoint.vendor = *vendor;
        endpoint.api_key = required_key(credential);
        switch (*vendor) {
            case openai::Vendor::kOpenAI:
                endpoint.base_url = base_url(credential, "base_url", "OPENAI_BASE_URL",
                                             "https://api.openai.com/v1");
                endpoint.organization = field(credential, "organization");
                break;
            case openai::Vendor::kDashScope:
                endpoint.base_url = base_url(credential, "base_url", nullptr,
                                             "https://dashscope.aliyuncs.com/compatible-mode/v1");
                break;
            case openai::Vendor::kDeepSeek:
                endpoint.base_url =
                    base_url(credential, "base_url", nullptr, "https://api.deepseek.com");
                break;
            case openai::Vendor::kMoonshot:
                endpoint.base_url =
                    base_url(credential, "base_url", nullptr, "https://api.moonshot.cn/v1");
                break;
            case openai::Vendor::kXai: {
                // The reference speaks gRPC to api_host; agentd uses its OpenAI-compatible REST
                // API.
                std::string host = field(credential, "api_host");
                if (host.empty()) host = "api.x.ai";
                endpoint.base_url = host.find("://") == std::string::npos
                                        ? "https://" + host + "/v1"
                                        : host + "/v1";
                break;
            }
        }
        out = std::make_unique<openai::OpenAIChatModel>(std::move(endpoint), model, parameters,
                                                        std::move(transport), std::move(settings));
    } else if (type == "anthropic_credential") {
        out = std::make_unique<anthropic::AnthropicChatModel>(
            base_url(credential, "base_url", "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
            required_key(credential), model, parameters, std::move(transport), std::move(settings));
    } else if (type == "gemini_credential") {
        out = std::make_unique<gemini::GeminiChatModel>(
            base_url(credential, "base_url", "GOOGLE_GEMINI_BASE_URL", gemini::kGeminiBaseUrl),
            required_key(credential), model, parameters, std::move(transport), std::move(settings));
    } else if (type == "ollama_credential") {
        out =
            std::make_unique<ollama::OllamaChatModel>(field(credential, "host"), model, parameters,
                                                      std::move(transport), std::move(settings));
    } else {
        throw std::invalid_argument("Unknown credential type '" + type + "'");
    }
    if (auto types = catalogued_input_types(type, model)) out->set_input_types(std::move(*types));
    return out;
}

}  // namespace agentd::model
