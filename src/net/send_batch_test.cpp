#include "net/send_batch.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/socket_pair_test_support.hpp"

namespace agentd::net {
namespace {

using testing::SocketPair;

iovec piece(const std::string& s) { return iovec{const_cast<char*>(s.data()), s.size()}; }

// Both ways of sending must give the same results: io_uring where the kernel
// allows it (kAuto) and the sendmsg fallback.
class SendBatchTest : public ::testing::TestWithParam<SendBatch::Mode> {};

TEST_P(SendBatchTest, EachSendReachesItsSocketWithItsPiecesInOrder) {
    SendBatch batch(GetParam());
    if (GetParam() == SendBatch::Mode::kSendmsg) {
        EXPECT_FALSE(batch.uses_io_uring());
    }
    std::vector<std::unique_ptr<SocketPair>> pairs;
    std::vector<std::string> heads, bodies;
    const std::string tail = "\r\n";
    for (int i = 0; i < 5; ++i) {
        pairs.push_back(std::make_unique<SocketPair>());
        heads.push_back("head" + std::to_string(i) + ":");
        bodies.push_back(std::string(100 + i * 1000, static_cast<char>('a' + i)));
    }
    for (int i = 0; i < 5; ++i) {
        const iovec parts[3] = {piece(heads[i]), piece(bodies[i]), piece(tail)};
        EXPECT_EQ(batch.add(pairs[i]->writer, parts), static_cast<std::size_t>(i));
    }
    ASSERT_EQ(batch.size(), 5u);
    batch.submit();
    for (int i = 0; i < 5; ++i) {
        const std::string want = heads[i] + bodies[i] + tail;
        EXPECT_EQ(batch.result(i), static_cast<ssize_t>(want.size()));
        EXPECT_EQ(pairs[i]->read_available(), want);
    }
}

TEST_P(SendBatchTest, MoreSendsThanTheRingHoldsAllGoOut) {
    SendBatch batch(GetParam());
    constexpr int kSockets = 600;  // more than one ring's worth (256)
    std::vector<std::unique_ptr<SocketPair>> pairs;
    std::vector<std::string> texts;
    for (int i = 0; i < kSockets; ++i) {
        pairs.push_back(std::make_unique<SocketPair>());
        texts.push_back("frame " + std::to_string(i));
    }
    for (int i = 0; i < kSockets; ++i) {
        const iovec parts[1] = {piece(texts[i])};
        batch.add(pairs[i]->writer, parts);
    }
    batch.submit();
    for (int i = 0; i < kSockets; ++i) {
        EXPECT_EQ(batch.result(i), static_cast<ssize_t>(texts[i].size())) << i;
        EXPECT_EQ(pairs[i]->read_available(), texts[i]) << i;
    }
}

TEST_P(SendBatchTest, AFullSocketTakesWhatFitsAndTheBatchDoesNotWaitForIt) {
    SendBatch batch(GetParam());
    SocketPair full(true), fine;
    const std::string big(1 << 20, 'x');
    const std::string small = "small";
    const iovec big_parts[1] = {piece(big)};
    const iovec small_parts[1] = {piece(small)};
    batch.add(full.writer, big_parts);
    batch.add(fine.writer, small_parts);
    batch.submit();
    EXPECT_GE(batch.result(0), 0);
    EXPECT_LT(batch.result(0), static_cast<ssize_t>(big.size()));  // part of it, at most
    EXPECT_EQ(batch.result(1), static_cast<ssize_t>(small.size()));
    const std::string got = full.read_available();
    EXPECT_EQ(got.size(), static_cast<std::size_t>(batch.result(0)));

    // Now nothing fits at all (the reader does not read): 0, not a failure, and
    // the batch can be used again.
    batch.clear();
    const iovec again[1] = {piece(big)};
    batch.add(full.writer, again);
    batch.submit();
    const ssize_t first = batch.result(0);
    EXPECT_GE(first, 0);
    batch.clear();
    batch.add(full.writer, again);
    batch.submit();
    EXPECT_EQ(batch.result(0), 0);
}

TEST_P(SendBatchTest, AClosedPeerOrABadDescriptorIsAFailureOfThatSendAlone) {
    SendBatch batch(GetParam());
    SocketPair closed, fine;
    closed.close_reader();
    const std::string text = "x";
    const iovec parts[1] = {piece(text)};
    batch.add(closed.writer, parts);  // EPIPE, and no SIGPIPE to kill the test
    batch.add(-1, parts);             // EBADF
    batch.add(fine.writer, parts);
    batch.submit();
    EXPECT_EQ(batch.result(0), -1);
    EXPECT_EQ(batch.result(1), -1);
    EXPECT_EQ(batch.result(2), 1);
    EXPECT_EQ(fine.read_available(), "x");
}

TEST_P(SendBatchTest, AnEmptyBatchSubmitsNothingAndTooManyPiecesAreRefused) {
    SendBatch batch(GetParam());
    batch.submit();
    EXPECT_EQ(batch.size(), 0u);
    SocketPair p;
    const std::string t = "t";
    const iovec five[5] = {piece(t), piece(t), piece(t), piece(t), piece(t)};
    EXPECT_THROW(batch.add(p.writer, five), std::invalid_argument);
    EXPECT_EQ(batch.size(), 0u);
}

TEST(SendBatch, ABatchMadeWhileIoUringIsNotAllowedSendsWithSendmsg) {
    SendBatch::allow_io_uring(false);
    SendBatch batch;
    SendBatch::allow_io_uring(true);
    EXPECT_FALSE(batch.uses_io_uring());
    SocketPair p;
    const std::string text = "still sent";
    const iovec parts[1] = {piece(text)};
    batch.add(p.writer, parts);
    batch.submit();
    EXPECT_EQ(batch.result(0), static_cast<ssize_t>(text.size()));
    EXPECT_EQ(p.read_available(), text);
}

// A send that waits inside the kernel (here: no MSG_DONTWAIT, a full blocking
// socket) must not keep the batch, or its bytes, past submit(): it is cancelled
// and counts as taking what it took (nothing), and the ring serves the next batch.
TEST(SendBatch, ASendThatWaitsInTheKernelIsCancelledAndTheRingGoesOn) {
    SendBatch batch(SendBatch::Mode::kAuto, MSG_NOSIGNAL);
    if (!batch.uses_io_uring()) {
        GTEST_SKIP() << "io_uring is unavailable here; sendmsg would block";
    }
    SocketPair full(true), fine;
    const std::string filler(1 << 20, 'f');
    while (::send(full.writer, filler.data(), filler.size(), MSG_DONTWAIT) > 0) {
    }
    const std::string text = "waits";
    const iovec parts[1] = {piece(text)};
    batch.add(full.writer, parts);
    batch.add(fine.writer, parts);
    batch.submit();
    EXPECT_EQ(batch.result(0), 0);
    EXPECT_EQ(batch.result(1), static_cast<ssize_t>(text.size()));
    EXPECT_EQ(fine.read_available(), text);
    // The cancelled send is over: draining its socket brings none of its bytes.
    std::string drained = full.read_available();
    EXPECT_EQ(drained.find('w'), std::string::npos);
    batch.clear();
    batch.add(fine.writer, parts);
    batch.submit();
    EXPECT_EQ(batch.result(0), static_cast<ssize_t>(text.size()));
    EXPECT_EQ(fine.read_available(), text);
}

INSTANTIATE_TEST_SUITE_P(Modes, SendBatchTest, ::testing::Values(SendBatch::Mode::kAuto, SendBatch::Mode::kSendmsg),
                         [](const auto& info) {
                             return info.param == SendBatch::Mode::kAuto ? std::string("Auto")
                                                                          : std::string("Sendmsg");
                         });

}  // namespace
}  // namespace agentd::net
