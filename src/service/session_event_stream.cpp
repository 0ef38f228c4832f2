#include "service/session_event_stream.hpp"

#include <boost/asio/this_coro.hpp>

#include "service/replay_mark.hpp"

namespace agentd::service {

SessionEventStream::SessionEventStream(bus::MessageBus& bus, std::string session_id,
                                       std::optional<bus::EntryId> resume_after, std::chrono::milliseconds heartbeat)
    : bus_(bus),
      session_id_(std::move(session_id)),
      key_(bus::session_events_key(session_id_)),
      last_sent_(resume_after),
      resuming_(resume_after.has_value()),
      heartbeat_(heartbeat) {}

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

void SessionEventStream::attach_direct_writer(std::shared_ptr<http::DirectWriter> writer) {
    writer_ = std::move(writer);
}

class SessionEventStream::Sink final : public bus::Subscription::DirectSink {
public:
    explicit Sink(SessionEventStream& stream) : stream_(stream) {}
    bus::Subscription::DirectResult deliver(std::span<const bus::LogEntry* const> entries) override {
        return stream_.deliver_directly(entries);
    }
    std::optional<bus::Subscription::DirectResult> stage(std::span<const bus::LogEntry* const> entries,
                                                         net::SendBatch& sends) override {
        return stream_.stage_directly(entries, sends);
    }
    bus::Subscription::DirectResult finish(const net::SendBatch& sends) override {
        return stream_.finish_directly(sends);
    }

private:
    SessionEventStream& stream_;
};

// The sink runs on the publisher's thread while next() is suspended in the
// subscription's wait (the subscription guarantees it), so last_sent_ is never
// touched by both. Only entries published after the replay was read come here:
// they are newer than anything sent, and need no duplicate check; it is kept as
// a safeguard.
std::optional<bus::EntryId> SessionEventStream::frames_for(std::span<const bus::LogEntry* const> entries,
                                                           std::string& out) const {
    std::optional<bus::EntryId> last = last_sent_;
    for (const auto* e : entries) {
        if (last && e->id <= *last) continue;
        append_frame(out, *e);
        last = e->id;
    }
    return last;
}

bus::Subscription::DirectResult SessionEventStream::taken(http::DirectWriter::Result written,
                                                          std::optional<bus::EntryId> last) {
    using Result = bus::Subscription::DirectResult;
    switch (written) {
        case http::DirectWriter::Result::kSent: last_sent_ = last; return Result::kDelivered;
        case http::DirectWriter::Result::kNeedsFlush: last_sent_ = last; return Result::kDeliveredWake;
        case http::DirectWriter::Result::kRefused: break;
    }
    return Result::kRefused;
}

bus::Subscription::DirectResult SessionEventStream::deliver_directly(std::span<const bus::LogEntry* const> entries) {
    // Formatted into a buffer of the thread's, not allocated per subscriber.
    thread_local std::string frames;
    frames.clear();
    const auto last = frames_for(entries, frames);
    if (frames.empty()) return bus::Subscription::DirectResult::kDelivered;
    const auto written = writer_->write(frames);
    if (frames.capacity() > kMaxBatchBytes) std::string().swap(frames);  // a huge event's buffer is not kept
    return taken(written, last);
}

std::optional<bus::Subscription::DirectResult> SessionEventStream::stage_directly(
    std::span<const bus::LogEntry* const> entries, net::SendBatch& sends) {
    staged_frames_.clear();
    staged_last_ = frames_for(entries, staged_frames_);
    if (staged_frames_.empty()) return bus::Subscription::DirectResult::kDelivered;
    if (!writer_->stage(staged_frames_, sends)) return bus::Subscription::DirectResult::kRefused;
    return std::nullopt;
}

bus::Subscription::DirectResult SessionEventStream::finish_directly(const net::SendBatch& sends) {
    const auto result = taken(writer_->finish(sends), staged_last_);
    if (staged_frames_.capacity() > kMaxBatchBytes) std::string().swap(staged_frames_);
    return result;
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
        std::string out;
        // A resume gets everything after its cursor; a stream without one only
        // what the running reply has not stored yet (replay_mark.hpp).
        bool replay = resuming_;
        if (!resuming_) {
            // The mark of the messages this client read just before, else the run's own.
            auto mark = take_reader_mark(bus_, session_id_);
            if (!mark) mark = read_replay_mark(bus_, session_id_);
            if (mark) {
                replay = true;
                last_sent_ = mark->after;
                if (mark->reply_start) append_frame(out, *mark->reply_start);
            }
        }
        if (replay) {
            for (const auto& e : bus_.read_log(key_, last_sent_, kMaxReplay)) {
                append_frame(out, e);
                last_sent_ = e.id;
            }
        }
        if (writer_)
            subscription_->set_direct_sink(std::make_unique<Sink>(*this));
        // An empty first piece would look like the end of the stream to some proxies;
        // a comment line opens the stream visibly instead.
        co_return out.empty() ? std::string(":\n\n") : out;
    }
    // Waits for one entry, then takes whatever else is already queued without
    // waiting (a zero timeout): a subscriber that fell behind catches up in one
    // write instead of one per event.
    std::string out;
    auto wait = heartbeat_;
    const auto heartbeat_due = std::chrono::steady_clock::now() + heartbeat_;
    for (;;) {
        auto n = co_await subscription_->next(wait);
        switch (n.status) {
            case bus::Subscription::Status::kTimeout:
                if (!out.empty()) co_return out;
                // Woken early by a direct write the server has to finish: nothing to add.
                if (std::chrono::steady_clock::now() < heartbeat_due) co_return std::string();
                co_return std::string(":\n\n");
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
