#include "http/chunked_socket_writer.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/send_batch.hpp"
#include "net/socket_pair_test_support.hpp"

namespace agentd::http {
namespace {

using Result = DirectWriter::Result;

/// Small buffers, so a few kilobytes back up.
struct SocketPair : net::testing::SocketPair {
    SocketPair() : net::testing::SocketPair(true) {}
};

/// Flushes `w` until nothing waits, reading as it goes: everything the reader got.
std::string drain(ChunkedSocketWriter& w, const SocketPair& p) {
    std::string got;
    while (w.pending()) {
        got += p.read_available();
        w.flush();
    }
    return got + p.read_available();
}

std::string chunk(const std::string& piece) {
    char head[24];
    std::snprintf(head, sizeof head, "%zx\r\n", piece.size());
    return head + piece + "\r\n";
}

TEST(ChunkedSocketWriter, WritesEachPieceAsOneChunk) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    EXPECT_EQ(w.write("id: 1-0\ndata: {}\n\n"), Result::kSent);
    w.send("hello");
    EXPECT_FALSE(w.pending());
    EXPECT_EQ(p.read_available(), chunk("id: 1-0\ndata: {}\n\n") + chunk("hello"));
}

TEST(ChunkedSocketWriter, KeepsWhatTheSocketDoesNotTakeAndRefusesDirectWritesUntilFlushed) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    const std::string big(200000, 'x');
    EXPECT_EQ(w.write(big), Result::kNeedsFlush);  // taken, partly sent
    EXPECT_TRUE(w.pending());
    EXPECT_EQ(w.write("later"), Result::kRefused);  // would overtake the waiting bytes
    w.send("after");                               // the connection's own piece queues behind them
    EXPECT_EQ(drain(w, p), chunk(big) + chunk("after"));
    EXPECT_EQ(w.write("then"), Result::kSent);
    EXPECT_EQ(p.read_available(), chunk("then"));
}

TEST(ChunkedSocketWriter, AFailedConnectionIsReportedAndWritesNothingMore) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    p.close_reader();
    EXPECT_EQ(w.write("x"), Result::kNeedsFlush);  // the consumer must run to notice
    EXPECT_TRUE(w.failed());
    EXPECT_FALSE(w.pending());
    EXPECT_EQ(w.write("y"), Result::kRefused);
}

TEST(ChunkedSocketWriter, NothingIsWrittenAfterClose) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    w.close();
    EXPECT_EQ(w.write("x"), Result::kRefused);
    w.send("y");
    EXPECT_EQ(p.read_available(), "");
}

TEST(ChunkedSocketWriter, ConcurrentDirectWritersNeverInterleaveBytes) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    std::string got;
    std::atomic<bool> done{false};
    std::thread reader([&] {
        while (!done) {
            got += p.read_available();
            w.flush();
        }
        got += p.read_available();
    });
    std::vector<std::thread> writers;
    std::atomic<int> sent{0};
    for (char c : {'a', 'b'})
        writers.emplace_back([&, c] {
            const std::string piece(300, c);
            for (int i = 0; i < 200; ++i) {
                while (w.write(piece) == Result::kRefused) std::this_thread::yield();
                ++sent;
            }
        });
    for (auto& t : writers) t.join();
    while (w.pending()) std::this_thread::yield();
    done = true;
    reader.join();
    // 400 whole chunks, each of one letter.
    ASSERT_EQ(got.size(), 400 * chunk(std::string(300, 'a')).size());
    for (std::size_t at = 0; at < got.size(); at += chunk(std::string(300, 'a')).size()) {
        const char letter = got[at + 5];
        EXPECT_EQ(got.substr(at, chunk(std::string(300, letter)).size()), chunk(std::string(300, letter)));
    }
    EXPECT_EQ(sent, 400);
}

// ---- the two-phase write (stage, then finish once the batch went out) ----

TEST(ChunkedSocketWriter, AStagedWriteSendsTheSameChunkAsWrite) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    net::SendBatch sends;
    const std::string frame = "id: 1-0\ndata: {}\n\n";
    ASSERT_TRUE(w.stage(frame, sends));
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(p.read_available(), "");  // nothing goes out before the batch does
    sends.submit();
    EXPECT_EQ(w.finish(sends), Result::kSent);
    EXPECT_EQ(p.read_available(), chunk(frame));
    EXPECT_EQ(w.write("next"), Result::kSent);
    EXPECT_EQ(p.read_available(), chunk("next"));
}

TEST(ChunkedSocketWriter, APartlySentStagedWriteKeepsTheRestAheadOfLaterPieces) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    net::SendBatch sends;
    const std::string big(200000, 'y');
    ASSERT_TRUE(w.stage(big, sends));
    sends.submit();
    EXPECT_EQ(w.finish(sends), Result::kNeedsFlush);
    EXPECT_TRUE(w.pending());
    sends.clear();
    EXPECT_FALSE(w.stage("overtaking", sends));  // refused like write(): bytes wait
    EXPECT_EQ(sends.size(), 0u);
    w.send("after");
    EXPECT_EQ(drain(w, p), chunk(big) + chunk("after"));
}

TEST(ChunkedSocketWriter, AStagedWriteToAClosedPeerFailsTheConnection) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    p.close_reader();
    net::SendBatch sends;
    ASSERT_TRUE(w.stage("x", sends));
    sends.submit();
    EXPECT_EQ(w.finish(sends), Result::kNeedsFlush);  // the consumer must run to notice
    EXPECT_TRUE(w.failed());
    sends.clear();
    EXPECT_FALSE(w.stage("y", sends));
}

TEST(ChunkedSocketWriter, NothingTouchesTheSocketBetweenStageAndFinish) {
    SocketPair p;
    ChunkedSocketWriter w(p.writer);
    net::SendBatch sends;
    ASSERT_TRUE(w.stage("first", sends));
    // The connection's own piece, from another thread, must wait for the staged
    // write: the socket would otherwise get "second" before "first".
    std::atomic<bool> sent_second{false};
    std::thread other([&] {
        w.send("second");
        sent_second = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(sent_second);
    EXPECT_EQ(p.read_available(), "");
    sends.submit();
    EXPECT_EQ(w.finish(sends), Result::kSent);
    other.join();
    EXPECT_EQ(p.read_available(), chunk("first") + chunk("second"));
}

}  // namespace
}  // namespace agentd::http
