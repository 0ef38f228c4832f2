#pragma once
// The body of GET /sessions/{id}/stream: a replay from the session's event log,
// then live events, as Server-Sent Events. With a cursor (Last-Event-ID) the
// replay is every entry after it; without one, only the running reply's events
// that its stored messages do not hold yet (replay_mark.hpp). Subscribes before
// it reads the log, so an event published in between is neither lost nor sent
// twice; every frame carries `id: <entry id>` so a client can resume by id.
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "bus/message_bus.hpp"
#include "http/stream_body.hpp"

namespace agentd::service {

class SessionEventStream final : public http::StreamBody {
public:
    SessionEventStream(bus::MessageBus& bus, std::string session_id, std::optional<bus::EntryId> resume_after,
                       std::chrono::milliseconds heartbeat);

    boost::asio::awaitable<std::optional<std::string>> next() override;
    void cancel() override;
    /// Live events then go out from the publisher's thread while this stream is
    /// caught up (bus::Subscription::set_direct_sink): one socket write per
    /// event and subscriber, no hop to the connection's executor.
    void attach_direct_writer(std::shared_ptr<http::DirectWriter> writer) override;

    /// "id: <id>\ndata: <payload>\n\n"
    static std::string frame(const bus::LogEntry& entry);

    /// Most log entries replayed on connect.
    static constexpr std::size_t kMaxReplay = 10000;
    /// Live entries already queued are sent together, up to this many bytes.
    static constexpr std::size_t kMaxBatchBytes = 64 * 1024;

private:
    bus::MessageBus& bus_;
    std::string session_id_;
    std::string key_;
    std::optional<bus::EntryId> last_sent_;
    bool resuming_;  ///< opened with a cursor
    std::chrono::milliseconds heartbeat_;
    /// The subscription's direct sink: entries from the publisher's thread; see the .cpp.
    class Sink;
    /// The frames of the entries not sent yet, into `out`; the last one's id.
    std::optional<bus::EntryId> frames_for(std::span<const bus::LogEntry* const> entries, std::string& out) const;
    bus::Subscription::DirectResult deliver_directly(std::span<const bus::LogEntry* const> entries);
    std::optional<bus::Subscription::DirectResult> stage_directly(std::span<const bus::LogEntry* const> entries,
                                                                  net::SendBatch& sends);
    bus::Subscription::DirectResult finish_directly(const net::SendBatch& sends);
    /// What the writer's answer means to the bus; `last` was sent when taken.
    bus::Subscription::DirectResult taken(http::DirectWriter::Result written, std::optional<bus::EntryId> last);

    std::shared_ptr<http::DirectWriter> writer_;
    // A staged direct write (stage_directly until finish_directly): its bytes
    // must stay put until the publisher's batch is submitted.
    std::string staged_frames_;
    std::optional<bus::EntryId> staged_last_;
    bool cancelled_ = false;
    // Last: destroyed first, so the publisher's sink (which uses the members
    // above) has stopped before they go.
    std::unique_ptr<bus::Subscription> subscription_;
};

}  // namespace agentd::service
