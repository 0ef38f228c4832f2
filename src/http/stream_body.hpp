#pragma once
// A response body produced over time (Server-Sent Events). The server writes the
// status line and headers, then awaits next() on the connection's executor and
// sends each piece as an HTTP/1.1 chunk until next() returns nullopt or the client
// goes away (the pending next() is then cancelled).
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

namespace agentd::http {

class StreamBody {
public:
    virtual ~StreamBody() = default;
    /// The next bytes to send, or nullopt to end the response.
    virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
};

}  // namespace agentd::http
