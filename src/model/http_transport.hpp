#pragma once
// How the model layer reaches providers. Production wraps net::HttpClient;
// tests script responses without sockets.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "common/cancellation.hpp"
#include "net/http_client.hpp"

namespace agentd::model {

class HttpTransport {
public:
    virtual ~HttpTransport() = default;

    /// As net::HttpClient::stream: `on_head` once, then `on_data` per body piece;
    /// TransportError on failure (kCancelled when `cancel` fired).
    virtual boost::asio::awaitable<void> stream(
        const net::HttpRequest& request, std::function<void(const net::HttpResponseHead&)> on_head,
        std::function<void(std::string_view)> on_data, CancellationPtr cancel) = 0;

    /// A whole response (media downloads).
    virtual boost::asio::awaitable<net::HttpResponse> fetch(const net::HttpRequest& request,
                                                            CancellationPtr cancel,
                                                            std::size_t max_body) = 0;
};

/// The real network, through one net::HttpClient (whose connections live on the
/// io threads of the runs that open them).
std::shared_ptr<HttpTransport> make_http_transport();

}  // namespace agentd::model
