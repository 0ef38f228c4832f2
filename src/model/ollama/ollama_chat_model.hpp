#pragma once
// POST {host}/api/chat, newline-delimited JSON, no authentication.
#include <string>

#include "model/http_chat_model.hpp"
#include "model/ollama/ollama_formatter.hpp"

namespace agentd::model::ollama {

inline constexpr const char* kOllamaDefaultHost = "http://localhost:11434";

/// The ollama client's reading of a `host`: scheme defaults to http, port to
/// 11434 (80/443 when a scheme is given); empty → the default host.
std::string normalize_host(std::string_view host);

/// The host a credential without one means: the server's `OLLAMA_HOST`, as the
/// ollama client reads it, else empty (the default host).
std::string default_host_from_environment();

class OllamaChatModel : public HttpChatModel {
public:
    /// An empty `host` is default_host_from_environment().
    OllamaChatModel(std::string host, std::string model, bj::object parameters,
                    std::shared_ptr<HttpTransport> transport, CallSettings settings = {});

protected:
    net::HttpRequest build_request(const ChatRequest& request, const bj::object& extra_body,
                                   const MediaResolver& resolver) const override;
    std::unique_ptr<StreamDecoder> make_decoder() const override;
    Framing framing() const override { return Framing::kNdjson; }
    std::string_view provider() const override { return "Ollama"; }
    std::vector<std::string> default_input_types() const override { return ollama::default_input_types(); }
    /// HTTP errors are never retried (the local server's answer will not change).
    bool retryable_status(int, const net::HttpResponseHead&) const override { return false; }
    /// Connect errors, read timeouts and protocol errors (the reference's httpx set).
    bool retryable_transport(net::TransportError::Kind kind) const override;
    bool structured_fallback_status(int) const override { return false; }

private:
    std::string host_;
};

}  // namespace agentd::model::ollama
