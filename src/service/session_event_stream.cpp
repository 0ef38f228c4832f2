#include "service/session_event_stream.hpp"

#include <boost/asio/this_coro.hpp>

namespace agentd::service {

SessionEventStream::SessionEventStream(bus::MessageBus& bus, std::string session_id,
                                       std::optional<bus::EntryId> resume_after, std::chrono::milliseconds heartbeat)
    : bus_(bus), key_(bus::session_events_key(session_id)), last_sent_(resume_after), heartbeat_(heartbeat) {}

std::string SessionEventStream::frame(const bus::LogEntry& entry) {
    std::string out;
    out.reserve(entry.payload.size() + 32);
    out += "id: ";
    out += entry.id.to_string();
    out += "\ndata: ";
    out += entry.payload;
    out += "\n\n";
    return out;
}

boost::asio::awaitable<std::optional<std::string>> SessionEventStream::next() {
    if (!subscription_) {
        // Subscribe first, then replay: anything published meanwhile is in both,
        // and the id check below drops the second copy.
        auto executor = co_await boost::asio::this_coro::executor;
        subscription_ = bus_.subscribe(key_, executor);
        auto replay = bus_.read_log(key_, last_sent_, kMaxReplay);
        std::string out;
        for (const auto& e : replay) {
            out += frame(e);
            last_sent_ = e.id;
        }
        // An empty first piece would look like the end of the stream to some proxies;
        // a comment line opens the stream visibly instead.
        co_return out.empty() ? std::string(":\n\n") : out;
    }
    for (;;) {
        auto n = co_await subscription_->next(heartbeat_);
        switch (n.status) {
            case bus::Subscription::Status::kTimeout: co_return std::string(":\n\n");
            case bus::Subscription::Status::kClosed: co_return std::nullopt;  // dropped: client resumes by id
            case bus::Subscription::Status::kMessage:
                if (last_sent_ && n.message.id <= *last_sent_) continue;
                last_sent_ = n.message.id;
                co_return frame(n.message);
        }
    }
}

}  // namespace agentd::service
