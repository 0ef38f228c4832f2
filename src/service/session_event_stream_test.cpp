#include "service/session_event_stream.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <mutex>

#include "bus/memory/memory_bus.hpp"
#include "http/chunked_socket_writer.hpp"
#include "service/replay_mark.hpp"

namespace agentd::service {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// Records what the stream writes directly; answers as told.
struct FakeWriter final : http::DirectWriter {
    std::vector<std::string> written;
    Result answer = Result::kSent;
    Result write(std::string_view piece) override {
        if (answer != Result::kRefused) written.emplace_back(piece);
        return answer;
    }
};

struct Pieces {
    std::vector<std::optional<std::string>> got;
};

asio::awaitable<void> pull(SessionEventStream* stream, Pieces* out, int count) {
    for (int i = 0; i < count; ++i) out->got.push_back(co_await stream->next());
}

std::string frame_of(bus::EntryId id, const std::string& payload) {
    return SessionEventStream::frame(bus::LogEntry{id, payload});
}

/// `piece` as one HTTP/1.1 chunk.
std::string chunk_of(const std::string& piece) {
    char head[24];
    std::snprintf(head, sizeof head, "%zx\r\n", piece.size());
    return head + piece + "\r\n";
}

TEST(SessionEventStream, ReplaysThenWritesLiveEventsDirectlyWhileCaughtUp) {
    bus::MemoryBus bus;
    asio::io_context io;
    const auto key = bus::session_events_key("s1");
    auto first = bus.append_and_publish(key, R"({"n":1})", 100);
    // Resumed from before the first entry: the whole log is replayed.
    auto stream = std::make_shared<SessionEventStream>(bus, "s1", bus::EntryId{}, 10s);
    auto writer = std::make_shared<FakeWriter>();
    stream->attach_direct_writer(writer);
    Pieces p;
    asio::co_spawn(io, pull(stream.get(), &p, 3), asio::detached);
    io.poll();  // the replay, then waiting for live events
    ASSERT_EQ(p.got.size(), 1u);
    EXPECT_EQ(p.got[0], frame_of(first, R"({"n":1})"));

    auto second = bus.append_and_publish(key, R"({"n":2})", 100);
    io.poll();
    EXPECT_EQ(writer->written, std::vector<std::string>{frame_of(second, R"({"n":2})")});
    EXPECT_EQ(p.got.size(), 1u);  // nothing for the connection to do

    // The socket took only part of it: next() returns an empty piece at once so
    // that the connection finishes the write (long before the 10 s heartbeat).
    writer->answer = http::DirectWriter::Result::kNeedsFlush;
    auto third = bus.append_and_publish(key, R"({"n":3})", 100);
    io.poll();
    ASSERT_EQ(p.got.size(), 2u);
    EXPECT_EQ(p.got[1], std::string());
    EXPECT_EQ(writer->written.back(), frame_of(third, R"({"n":3})"));

    // Refused (earlier bytes still wait): the event comes through next() instead.
    writer->answer = http::DirectWriter::Result::kRefused;
    auto fourth = bus.append_and_publish(key, R"({"n":4})", 100);
    io.poll();
    ASSERT_EQ(p.got.size(), 3u);
    EXPECT_EQ(p.got[2], frame_of(fourth, R"({"n":4})"));
    EXPECT_EQ(writer->written.size(), 2u);
}

TEST(SessionEventStream, EventsPublishedTogetherGoOutInOneWrite) {
    bus::MemoryBus bus;
    asio::io_context io;
    const auto key = bus::session_events_key("s2");
    auto stream = std::make_shared<SessionEventStream>(bus, "s2", std::nullopt, 10s);
    auto writer = std::make_shared<FakeWriter>();
    stream->attach_direct_writer(writer);
    Pieces p;
    asio::co_spawn(io, pull(stream.get(), &p, 2), asio::detached);
    io.poll();
    ASSERT_EQ(p.got.size(), 1u);
    EXPECT_EQ(p.got[0], std::string(":\n\n"));  // an empty log opens with a comment
    // A second subscriber whose sink publishes two more events while the first is
    // being delivered: the stream gets them in one call, hence one write.
    auto other = bus.subscribe(key, io.get_executor());
    bool published = false;
    bus::EntryId b, c;
    other->set_direct_sink(bus::direct_sink([&](std::span<const bus::LogEntry* const>) {
        if (!published) {
            published = true;
            b = bus.append_and_publish(key, "b", 100);
            c = bus.append_and_publish(key, "c", 100);
        }
        return bus::Subscription::DirectResult::kDelivered;
    }));
    // Park the second subscriber in its own wait so that its sink is used.
    asio::co_spawn(
        io, [](bus::Subscription* s) -> asio::awaitable<void> { co_await s->next(10s); }(other.get()),
        asio::detached);
    io.poll();
    auto a = bus.append_and_publish(key, "a", 100);
    io.poll();
    ASSERT_EQ(writer->written.size(), 2u);
    EXPECT_EQ(writer->written[0], frame_of(a, "a"));
    EXPECT_EQ(writer->written[1], frame_of(b, "b") + frame_of(c, "c"));
    other->cancel();
    stream->cancel();
    io.poll();
}

// A client that opens a session reads its messages, then its stream without a
// cursor, and folds the stream into what it read: the replay must hold nothing
// the stored messages already have (replay_mark.hpp).
TEST(SessionEventStream, WithoutACursorOnlyTheRunningReplysUnstoredEventsAreReplayed) {
    bus::MemoryBus bus;
    asio::io_context io;
    const auto key = bus::session_events_key("s4");
    auto open = [&](std::optional<bus::EntryId> cursor) {
        io.restart();  // the previous stream's end left the context stopped
        auto stream = std::make_shared<SessionEventStream>(bus, "s4", cursor, 10s);
        Pieces p;
        asio::co_spawn(io, pull(stream.get(), &p, 1), asio::detached);
        io.poll();
        stream->cancel();
        io.poll();
        return p.got.empty() ? std::optional<std::string>() : p.got[0];
    };
    // An earlier run, ended: its events stay in the log for resumes by id only.
    auto old_start = bus.append_and_publish(key, "old-start", 100);
    auto old_end = bus.append_and_publish(key, "old-end", 100);
    EXPECT_EQ(open(std::nullopt), std::string(":\n\n"));
    EXPECT_EQ(open(bus::EntryId{}), frame_of(old_start, "old-start") + frame_of(old_end, "old-end"));

    // A run holds the session and has stored its input: nothing of its own yet.
    auto token = bus.try_lock(bus::session_lock_key("s4"), 60s);
    ASSERT_TRUE(token);
    write_replay_mark(bus, "s4", ReplayMark{old_end, std::nullopt});
    EXPECT_EQ(open(std::nullopt), std::string(":\n\n"));
    auto start = bus.append_and_publish(key, "start", 100);
    auto delta = bus.append_and_publish(key, "delta", 100);
    EXPECT_EQ(open(std::nullopt), frame_of(start, "start") + frame_of(delta, "delta"));

    // A step stored the reply up to `delta`: the replay is its REPLY_START, then what came after.
    write_replay_mark(bus, "s4", ReplayMark{delta, bus::LogEntry{start, "start"}});
    auto result = bus.append_and_publish(key, "result", 100);
    EXPECT_EQ(open(std::nullopt), frame_of(start, "start") + frame_of(result, "result"));
    // A resume by id is not affected.
    EXPECT_EQ(open(start), frame_of(delta, "delta") + frame_of(result, "result"));

    // A mark whose run no longer holds the lock (a crashed process's) replays nothing.
    ASSERT_TRUE(bus.unlock(bus::session_lock_key("s4"), *token));
    EXPECT_EQ(open(std::nullopt), std::string(":\n\n"));
    // A mark that cannot be read is ignored, not trusted.
    token = bus.try_lock(bus::session_lock_key("s4"), 60s);
    bus.hash_set(bus::session_replay_key("s4"), "mark", "garbage");
    EXPECT_EQ(open(std::nullopt), std::string(":\n\n"));
    clear_replay_mark(bus, "s4");
    EXPECT_FALSE(bus.hash_get(bus::session_replay_key("s4"), "mark"));
}

// GET messages, then the stream: the page read and the replay must meet
// exactly, even when a step is stored or the run ends between the two requests.
TEST(ReplayMark, AMessagesReadKeepsTheMarkOfWhatItSawForTheNextStream) {
    bus::MemoryBus bus;
    int reads = 0;
    // No run: nothing is kept, and an older kept mark is dropped.
    bus.hash_set(bus::session_replay_key("s5") + ":read", "mark", ReplayMark{}.encode());
    read_with_replay_mark(bus, "s5", [&] { ++reads; });
    EXPECT_EQ(reads, 1);
    EXPECT_FALSE(take_reader_mark(bus, "s5"));

    // A run's mark, steady while the page is read: kept, and taken once.
    write_replay_mark(bus, "s5", ReplayMark{bus::EntryId{10, 0}, std::nullopt});
    read_with_replay_mark(bus, "s5", [&] { ++reads; });
    EXPECT_EQ(reads, 2);
    auto kept = take_reader_mark(bus, "s5");
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->after, (bus::EntryId{10, 0}));
    EXPECT_FALSE(take_reader_mark(bus, "s5"));

    // A step stored while the page was read: read again, and the later mark kept.
    reads = 0;
    read_with_replay_mark(bus, "s5", [&] {
        if (++reads == 1) {
            mark_step_storing(bus, "s5");
            write_replay_mark(bus, "s5", ReplayMark{bus::EntryId{12, 0}, bus::LogEntry{{11, 0}, "start"}});
        }
    });
    EXPECT_EQ(reads, 2);
    kept = take_reader_mark(bus, "s5");
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->after, (bus::EntryId{12, 0}));
    ASSERT_TRUE(kept->reply_start);
    EXPECT_EQ(kept->reply_start->payload, "start");

    // A step being stored the whole time: a few reads, then nothing kept (the
    // stream falls back to the run's own mark).
    reads = 0;
    mark_step_storing(bus, "s5");
    read_with_replay_mark(bus, "s5", [&] { ++reads; });
    EXPECT_GT(reads, 1);
    EXPECT_FALSE(take_reader_mark(bus, "s5"));
}

TEST(SessionEventStream, AStreamAfterAMessagesReadReplaysFromWhatItReadEvenOnceTheRunHasEnded) {
    bus::MemoryBus bus;
    asio::io_context io;
    const auto key = bus::session_events_key("s6");
    auto token = bus.try_lock(bus::session_lock_key("s6"), 60s);
    ASSERT_TRUE(token);
    auto start = bus.append_and_publish(key, "start", 100);
    auto delta = bus.append_and_publish(key, "delta", 100);
    write_replay_mark(bus, "s6", ReplayMark{delta, bus::LogEntry{start, "start"}});
    read_with_replay_mark(bus, "s6", [] {});  // the client's GET messages
    // The run stores its last step and ends before the client opens its stream.
    auto end = bus.append_and_publish(key, "end", 100);
    clear_replay_mark(bus, "s6");
    ASSERT_TRUE(bus.unlock(bus::session_lock_key("s6"), *token));

    auto stream = std::make_shared<SessionEventStream>(bus, "s6", std::nullopt, 10s);
    Pieces p;
    asio::co_spawn(io, pull(stream.get(), &p, 1), asio::detached);
    io.poll();
    ASSERT_EQ(p.got.size(), 1u);
    EXPECT_EQ(p.got[0], frame_of(start, "start") + frame_of(end, "end"));
    stream->cancel();
    io.poll();
}

TEST(ReplayMark, EncodesAndDecodesEveryShape) {
    for (const ReplayMark& m : {ReplayMark{}, ReplayMark{bus::EntryId{5, 2}, std::nullopt},
                                ReplayMark{bus::EntryId{7, 0}, bus::LogEntry{{6, 1}, R"({"a":"x\ny"})"}}}) {
        auto back = ReplayMark::decode(m.encode());
        ASSERT_TRUE(back);
        EXPECT_EQ(back->after, m.after);
        ASSERT_EQ(back->reply_start.has_value(), m.reply_start.has_value());
        if (m.reply_start) {
            EXPECT_EQ(back->reply_start->id, m.reply_start->id);
            EXPECT_EQ(back->reply_start->payload, m.reply_start->payload);
        }
    }
    for (const char* bad : {"", "-", "x\n-\n", "-\ny\n"}) EXPECT_FALSE(ReplayMark::decode(bad)) << bad;
}

// Past MemoryBus::kBatchSendsAt subscribers the publisher stages every stream's
// write and hands them to the kernel together: each client must still get
// exactly its chunks, in order, and a client whose socket is full must still
// get the rest once its connection flushes.
TEST(SessionEventStream, ManyStreamsOnOneSessionGetExactlyTheirFramesWhenSentTogether) {
    bus::MemoryBus bus;
    asio::io_context io;
    const auto key = bus::session_events_key("s3");
    constexpr int kStreams = 12;
    static_assert(kStreams >= static_cast<int>(bus::MemoryBus::kBatchSendsAt));
    struct Client {
        int fds[2] = {-1, -1};  // [0]: the server's end, [1]: the client's
        std::shared_ptr<SessionEventStream> stream;
        std::shared_ptr<http::ChunkedSocketWriter> writer;
        Pieces pieces;
        ~Client() {
            for (int fd : fds)
                if (fd >= 0) ::close(fd);
        }
        std::string read_available() const {
            std::string out;
            char buf[65536];
            for (ssize_t n; (n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT)) > 0;)
                out.append(buf, static_cast<std::size_t>(n));
            return out;
        }
    };
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < kStreams; ++i) {
        auto c = std::make_unique<Client>();
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, c->fds), 0);
        if (i == 0) {  // the slow client: small buffers that one big event overfills
            int small = 4096;
            ::setsockopt(c->fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
            ::setsockopt(c->fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        }
        c->stream = std::make_shared<SessionEventStream>(bus, "s3", std::nullopt, 10s);
        c->writer = std::make_shared<http::ChunkedSocketWriter>(c->fds[0]);
        c->stream->attach_direct_writer(c->writer);
        asio::co_spawn(io, pull(c->stream.get(), &c->pieces, 2), asio::detached);
        clients.push_back(std::move(c));
    }
    io.poll();  // every stream opened (an empty log: one comment) and waiting
    for (auto& c : clients) ASSERT_EQ(c->pieces.got.size(), 1u);

    const std::string big(100000, 'z');
    const auto a = bus.append_and_publish(key, "a", 100);
    const auto b = bus.append_and_publish(key, big, 100);
    const auto c3 = bus.append_and_publish(key, "c", 100);
    io.poll();
    const std::string want = chunk_of(frame_of(a, "a")) + chunk_of(frame_of(b, big)) + chunk_of(frame_of(c3, "c"));
    for (int i = 1; i < kStreams; ++i) {
        EXPECT_EQ(clients[i]->read_available(), want) << "client " << i;
        EXPECT_EQ(clients[i]->pieces.got.size(), 1u) << "client " << i;  // all went out directly
    }
    // The slow client's socket took only part of "b": what waits is flushed by
    // its connection, and "c" came through next() to be sent behind it.
    auto& slow = *clients[0];
    ASSERT_EQ(slow.pieces.got.size(), 2u);
    ASSERT_TRUE(slow.pieces.got[1].has_value());
    EXPECT_EQ(*slow.pieces.got[1], frame_of(c3, "c"));
    slow.writer->send(*slow.pieces.got[1]);  // what the server does with a piece
    std::string got;
    while (slow.writer->pending()) {
        got += slow.read_available();
        slow.writer->flush();
    }
    got += slow.read_available();
    EXPECT_EQ(got, want);
    for (auto& c : clients) c->stream->cancel();
    io.poll();
}

}  // namespace
}  // namespace agentd::service
