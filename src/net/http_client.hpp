#pragma once
// Outbound HTTP/1.1 over TCP or TLS (Boost.Beast + OpenSSL), for LLM provider
// APIs. Streams response bodies as they arrive. Honours HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY (CONNECT tunnels for https). Verifies peers against the system CA store.
// This header is Beast-free; only http_client.cpp includes Beast.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cancellation.hpp"

namespace agentd::net {

struct HttpRequest {
    std::string method = "POST";
    std::string url;  ///< http:// or https://, with optional port, path and query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// Sent after `body`, in order, without being copied into it: large texts
    /// that many requests share (a model call's tool list).
    std::vector<std::shared_ptr<const std::string>> body_tail;
    /// `body` and `body_tail` as one text (tests, logs).
    std::string whole_body() const {
        std::string out = body;
        for (const auto& piece : body_tail) out += *piece;
        return out;
    }
    std::chrono::milliseconds connect_timeout{10'000};  ///< DNS + TCP + TLS (+ proxy CONNECT)
    std::chrono::milliseconds idle_timeout{120'000};    ///< longest silence while reading
};

struct HttpResponseHead {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
    const std::string* header(std::string_view lower_name) const {
        for (const auto& [k, v] : headers)
            if (k == lower_name) return &v;
        return nullptr;
    }
};

struct HttpResponse {
    HttpResponseHead head;
    std::string body;
};

/// A transport failure: DNS, connect, TLS, timeout, reset, cancellation.
/// HTTP error statuses are not exceptions: the caller sees them in the head.
class TransportError : public std::runtime_error {
public:
    enum class Kind { kConnect, kTls, kTimeout, kReset, kCancelled, kProtocol };
    TransportError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

struct HttpClientOptions {
    /// PEM file of extra trusted CA certificates, trusted in addition to the system
    /// store (a private CA, a TLS-inspecting proxy, tests). Empty: none.
    std::string extra_ca_file;

    /// Options from the environment: extra_ca_file from AGENTD_EXTRA_CA_FILE.
    static HttpClientOptions from_env();
};

/// Connections are kept alive: after a response that ended by its own framing,
/// the connection waits (up to 30 s, at most 64 per origin) for the client's next
/// request to the same origin through the same proxy. A kept connection the server
/// has closed meanwhile is noticed before use, or when the request meets a closed
/// socket before any response byte (the request then goes out once more on a new
/// connection). Each exchange runs on its connection's strand, made over the
/// executor of the coroutine that opened the connection (so its I/O completes on
/// that coroutine's io thread);
/// `on_head` and `on_data` run there while the caller is suspended in stream(). An
/// exception thrown by either callback aborts the exchange, closes its connection
/// and propagates out of stream().
class HttpClient {
public:
    /// Same as HttpClient(HttpClientOptions::from_env()).
    HttpClient();
    /// Throws TransportError(kTls) when extra_ca_file cannot be loaded.
    explicit HttpClient(HttpClientOptions options);
    ~HttpClient();

    /// Sends `req`; `on_head` runs once when the status line and headers arrived,
    /// then `on_data` for each piece of the (de-chunked) body as it arrives.
    /// Completes when the body ended. `cancel` (optional) aborts the exchange with
    /// TransportError(kCancelled).
    boost::asio::awaitable<void> stream(const HttpRequest& req,
                                        std::function<void(const HttpResponseHead&)> on_head,
                                        std::function<void(std::string_view)> on_data,
                                        CancellationPtr cancel = nullptr);

    /// The whole response at once (bounded by `max_body` bytes).
    boost::asio::awaitable<HttpResponse> fetch(const HttpRequest& req,
                                               CancellationPtr cancel = nullptr,
                                               std::size_t max_body = 64 * 1024 * 1024);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Proxy selection from HTTPS_PROXY / https_proxy, HTTP_PROXY / http_proxy and
/// NO_PROXY / no_proxy (comma list of hosts, domain suffixes, "*"). Empty when direct.
/// Loopback hosts (localhost, *.localhost, 127.0.0.0/8, ::1) are never proxied.
std::string proxy_for(std::string_view scheme, std::string_view host);

/// Whether `host` is exempt from proxying under the NO_PROXY value `no_proxy`:
/// "*" matches every host; "example.com", ".example.com" and "*.example.com" all
/// match example.com and its subdomains; an entry's ":port" is ignored; IP
/// addresses match exactly (no CIDR ranges). Case-insensitive.
bool no_proxy_matches(std::string_view host, std::string_view no_proxy);

}  // namespace agentd::net
