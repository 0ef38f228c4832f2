#include "model/ollama/ollama_chat_model.hpp"

#include <cstdlib>

#include "model/ollama/ollama_formatter.hpp"
#include "model/ollama/ollama_stream_decoder.hpp"

namespace agentd::model::ollama {

std::string normalize_host(std::string_view host) {
    if (host.empty()) return kOllamaDefaultHost;
    std::string scheme = "http";
    std::string_view rest = host;
    std::string default_port = "11434";
    if (auto sep = host.find("://"); sep != std::string_view::npos) {
        scheme = std::string(host.substr(0, sep));
        rest = host.substr(sep + 3);
        if (scheme == "http")
            default_port = "80";
        else if (scheme == "https")
            default_port = "443";
    }
    std::string_view hostport = rest.substr(0, rest.find('/'));
    std::string_view path = rest.substr(hostport.size());
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    // As urllib's hostname and port read it: credentials before '@' are
    // dropped, an empty host is the local one, an empty port the default.
    if (auto at = hostport.rfind('@'); at != std::string_view::npos) hostport.remove_prefix(at + 1);
    std::string_view name = hostport, port;
    if (!hostport.empty() && hostport.front() == '[') {
        const auto close = hostport.find(']');
        name = hostport.substr(0, close == std::string_view::npos ? hostport.size() : close + 1);
        if (close != std::string_view::npos && hostport.substr(close + 1).starts_with(":"))
            port = hostport.substr(close + 2);
    } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
        name = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    std::string out = scheme + "://" + std::string(name.empty() ? "127.0.0.1" : name) + ":" +
                      std::string(port.empty() ? std::string_view(default_port) : port);
    out += path;
    return out;
}

std::string default_host_from_environment() {
    const char* env = std::getenv("OLLAMA_HOST");
    return env ? std::string(env) : std::string();
}

OllamaChatModel::OllamaChatModel(std::string host, std::string model, bj::object parameters,
                                 std::shared_ptr<HttpTransport> transport, CallSettings settings)
    : HttpChatModel(std::move(model), std::move(parameters), std::move(transport),
                    std::move(settings)),
      host_(normalize_host(host.empty() ? default_host_from_environment() : host)) {}

net::HttpRequest OllamaChatModel::build_request(const ChatRequest& request,
                                                const bj::object& extra_body,
                                                const MediaResolver& resolver) const {
    FormatOptions options;
    options.input_types = input_types_;
    options.resolver = resolver;
    options.extra_body = extra_body;
    return json_post(host_ + "/api/chat", {},
                     format_body(request, model_, parameters_, options));
}

std::unique_ptr<StreamDecoder> OllamaChatModel::make_decoder() const {
    return std::make_unique<OllamaStreamDecoder>();
}

bool OllamaChatModel::retryable_transport(net::TransportError::Kind kind) const {
    using K = net::TransportError::Kind;
    return kind == K::kConnect || kind == K::kTimeout || kind == K::kProtocol || kind == K::kReset;
}

}  // namespace agentd::model::ollama
