#include "service/session_event_stream.hpp"

#include <boost/asio/this_coro.hpp>

namespace agentd::service {

SessionEventStream::SessionEventStream(bus::MessageBus& bus, std::string session_id,
                                       std::optional<bus::EntryId> resume_after, std::chrono::milliseconds heartbeat)
    : bus_(bus), key_(bus::session_events_key(session_id)), last_sent_(resume_after), heartbeat_(heartbeat) {}

namespace {

void append_frame(std::string& out, const bus::LogEntry& entry) {
    out += "id: ";
    out += entry.id.to_string();
    out += "\ndata: ";
    out += entry.payload;
    out += "\n\n";
}

}  // namespace

std::string SessionEventStream::frame(const bus::LogEntry& entry) {
    std::string out;
    out.reserve(entry.payload.size() + 32);
    append_frame(out, entry);
    return out;
}

void SessionEventStream::cancel() {
    cancelled_ = true;
    if (subscription_) subscription_->cancel();
}

boost::asio::awaitable<std::optional<std::string>> SessionEventStream::next() {
    if (cancelled_) co_return std::nullopt;
    if (!subscription_) {
        // Subscribe first, then replay: anything published meanwhile is in both,
        // and the id check below drops the second copy.
        auto executor = co_await boost::asio::this_coro::executor;
        subscription_ = bus_.subscribe(key_, executor);
        auto replay = bus_.read_log(key_, last_sent_, kMaxReplay);
        std::string out;
        for (const auto& e : replay) {
            append_frame(out, e);
            last_sent_ = e.id;
        }
        // An empty first piece would look like the end of the stream to some proxies;
        // a comment line opens the stream visibly instead.
        co_return out.empty() ? std::string(":\n\n") : out;
    }
    // Waits for one entry, then takes whatever else is already queued without
    // waiting (a zero timeout): a subscriber that fell behind catches up in one
    // write instead of one per event.
    std::string out;
    auto wait = heartbeat_;
    for (;;) {
        auto n = co_await subscription_->next(wait);
        switch (n.status) {
            case bus::Subscription::Status::kTimeout:
                if (out.empty()) co_return std::string(":\n\n");
                co_return out;
            case bus::Subscription::Status::kClosed:
                // Dropped (the client resumes by id) or cancelled: what was taken goes out first.
                if (out.empty() || cancelled_) co_return std::nullopt;
                co_return out;
            case bus::Subscription::Status::kMessage:
                if (last_sent_ && n.message.id <= *last_sent_) continue;
                last_sent_ = n.message.id;
                append_frame(out, n.message);
                if (out.size() >= kMaxBatchBytes) co_return out;
                wait = std::chrono::milliseconds::zero();
        }
    }
}

}  // namespace agentd::service
