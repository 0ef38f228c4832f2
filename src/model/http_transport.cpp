#include "model/http_transport.hpp"

namespace agentd::model {

namespace {

class ClientTransport : public HttpTransport {
public:
    ClientTransport() = default;

    boost::asio::awaitable<void> stream(const net::HttpRequest& request,
                                        std::function<void(const net::HttpResponseHead&)> on_head,
                                        std::function<void(std::string_view)> on_data,
                                        CancellationPtr cancel) override {
        co_await client_.stream(request, std::move(on_head), std::move(on_data), std::move(cancel));
    }

    boost::asio::awaitable<net::HttpResponse> fetch(const net::HttpRequest& request,
                                                    CancellationPtr cancel,
                                                    std::size_t max_body) override {
        co_return co_await client_.fetch(request, std::move(cancel), max_body);
    }

private:
    net::HttpClient client_;
};

}  // namespace

std::shared_ptr<HttpTransport> make_http_transport() {
    return std::make_shared<ClientTransport>();
}

}  // namespace agentd::model
