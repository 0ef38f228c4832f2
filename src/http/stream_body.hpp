#pragma once
// A response body produced over time (Server-Sent Events, file downloads). The
// server writes the status line and headers, then awaits next() on the
// connection's executor and sends each piece (as an HTTP/1.1 chunk unless the
// length is known) until next() returns nullopt or the client goes away: a read
// kept pending for the whole response notices the close and calls cancel().
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::net {
class SendBatch;
}

namespace agentd::http {

/// Sends pieces of a streamed response from any thread, without the hop to the
/// connection's executor: a live event published on another thread goes out
/// from there. Thread-safe.
class DirectWriter {
public:
    virtual ~DirectWriter() = default;
    enum class Result {
        kSent,        ///< all of it went out
        kNeedsFlush,  ///< taken, but not all of it went out (or the connection failed): the
                      ///< body's next() must return soon so the server finishes it
        kRefused,     ///< nothing taken (earlier bytes still wait, or the response ended)
    };
    /// One piece, as the body's next() would have returned it.
    virtual Result write(std::string_view piece) = 0;
    /// write() in two phases, for a publisher sending to many clients at once:
    /// the piece is queued as one send on `sends` and the writer is held until
    /// finish() takes that send's result (after sends.submit()). `piece` must
    /// stay as it is until then. false: refused as write() would refuse, nothing
    /// queued or held. By default the piece is written at once.
    virtual bool stage(std::string_view piece, net::SendBatch& sends) {
        (void)sends;
        staged_result_ = write(piece);
        return staged_result_ != Result::kRefused;
    }
    virtual Result finish(const net::SendBatch& sends) {
        (void)sends;
        return staged_result_;
    }

private:
    Result staged_result_ = Result::kSent;
};

class StreamBody {
public:
    virtual ~StreamBody() = default;
    /// The next bytes to send, or nullopt to end the response.
    virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
    /// The client is gone: a pending or later next() should return nullopt soon.
    /// Called on the connection's executor. A body whose next() never waits long
    /// (a file) needs nothing here: its next write fails.
    virtual void cancel() {}
    /// Offered once, before the first next(), on a chunked response. A body may
    /// write through it while its next() is suspended; between two next() calls
    /// the server writes. next() may return an empty piece when it only woke up
    /// to let the server finish a direct write.
    virtual void attach_direct_writer(std::shared_ptr<DirectWriter> writer) { (void)writer; }
};

}  // namespace agentd::http
