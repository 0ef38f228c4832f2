#include "common/blake2b.hpp"

#include <gtest/gtest.h>

namespace agentd {

// Expected values from Python's hashlib.blake2b(data, digest_size=n).hexdigest().
TEST(Blake2b, MatchesPythonForWorkspaceIds) {
    EXPECT_EQ(blake2b_hex("alice::7c1e0d8e4b2f4a9c9a51f3d2b6e8a410", 8), "eff0bb4715dffd3f");
    EXPECT_EQ(blake2b_hex("user::alice", 8), "982aa9b33217069a");
    EXPECT_EQ(blake2b_hex("", 8), "e4a6a0577479b2b4");
}

TEST(Blake2b, MultiBlockAndLongerDigests) {
    std::string data(200, 'x');
    EXPECT_EQ(blake2b_hex(data, 8), "56304c0e1b76a18d");
    EXPECT_EQ(blake2b_hex(data, 32), "7eb9c902d76f4876a0494066a9773bd4f8c0caf612f4683e352af66bc12af33e");
    EXPECT_EQ(blake2b_hex("", 32), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(Blake2b, RejectsBadDigestSize) {
    EXPECT_THROW(blake2b_hex("x", 0), std::invalid_argument);
    EXPECT_THROW(blake2b_hex("x", 65), std::invalid_argument);
}

}  // namespace agentd
