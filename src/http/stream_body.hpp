#pragma once
// A response body produced over time (Server-Sent Events, file downloads). The
// server writes the status line and headers, then awaits next() on the
// connection's executor and sends each piece (as an HTTP/1.1 chunk unless the
// length is known) until next() returns nullopt or the client goes away: a read
// kept pending for the whole response notices the close and calls cancel().
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

namespace agentd::http {

class StreamBody {
public:
    virtual ~StreamBody() = default;
    /// The next bytes to send, or nullopt to end the response.
    virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
    /// The client is gone: a pending or later next() should return nullopt soon.
    /// Called on the connection's executor. A body whose next() never waits long
    /// (a file) needs nothing here: its next write fails.
    virtual void cancel() {}
};

}  // namespace agentd::http
