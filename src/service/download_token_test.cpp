#include "service/download_token.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/error.hpp"

namespace agentd::service {
namespace {

constexpr std::string_view kSecret = "test-secret";
constexpr std::int64_t kNow = 1717400000;

/// The 401 detail verify throws, or "" when it accepts.
std::string rejection(std::string_view token, std::string_view path, double now = kNow,
                      std::string_view secret = kSecret) {
    try {
        verify_download_token(secret, token, path, now);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kUnauthorized);
        return e.detail();
    }
    return "";
}

TEST(DownloadToken, FormatIsExpiryUserAndMac) {
    auto t = sign_download_token(kSecret, "alice", "reports/q3.md", kNow);
    EXPECT_EQ(t.expires_at, kNow + 60);
    // HMAC-SHA256("test-secret", "1717400060\0alice\0reports/q3.md"), computed independently
    // with Python's hmac module.
    EXPECT_EQ(t.token, "1717400060.YWxpY2U.dFiDnDoTXe-zJudkoYSuFjj17A1cPzzjK0jfXnNN9fA");
}

TEST(DownloadToken, RoundTripReturnsTheUser) {
    auto t = sign_download_token(kSecret, "bob", "a/b.txt", kNow);
    EXPECT_EQ(verify_download_token(kSecret, t.token, "a/b.txt", kNow + 59.9), "bob");
    auto unicode = sign_download_token(kSecret, "zoë", "ü.txt", kNow);
    EXPECT_EQ(verify_download_token(kSecret, unicode.token, "ü.txt", kNow), "zoë");
}

TEST(DownloadToken, ExpiresAfterTtl) {
    auto t = sign_download_token(kSecret, "alice", "x", kNow, 60);
    EXPECT_EQ(rejection(t.token, "x", kNow + 60), "");  // expires_at < now is strict
    EXPECT_EQ(rejection(t.token, "x", kNow + 60.001), "Expired download token.");
}

TEST(DownloadToken, BoundToPathSecretAndUser) {
    auto t = sign_download_token(kSecret, "alice", "reports/q3.md", kNow);
    EXPECT_EQ(rejection(t.token, "reports/q4.md"), "Invalid download token.");
    // Resolution is not applied: another spelling of the same file is another path.
    EXPECT_EQ(rejection(t.token, "./reports/q3.md"), "Invalid download token.");
    EXPECT_EQ(rejection(t.token, "reports/q3.md", kNow, "other-secret"), "Invalid download token.");
    // Another user swapped into the token: the MAC no longer matches.
    auto mallory = base64url_encode("mallory");
    std::string forged = t.token;
    forged.replace(forged.find('.') + 1, std::string("YWxpY2U").size(), mallory);
    EXPECT_EQ(rejection(forged, "reports/q3.md"), "Invalid download token.");
    // A later expiry with the old MAC.
    std::string extended = t.token;
    extended.replace(0, 10, "1717400999");
    EXPECT_EQ(rejection(extended, "reports/q3.md"), "Invalid download token.");
}

TEST(DownloadToken, MalformedTokens) {
    auto t = sign_download_token(kSecret, "alice", "x", kNow);
    const std::string mac = t.token.substr(t.token.rfind('.') + 1);
    for (std::string bad : {std::string(""), std::string("garbage"), std::string("a.b"), std::string("1.2.3.4"),
                            "abc.YWxpY2U." + mac, ".YWxpY2U." + mac, "1717400060.YW*pY2U." + mac,
                            "1717400060.Y." + mac,            // 1 char: not base64
                            "1717400060.gA." + mac,           // 0x80: not UTF-8
                            std::string("1717400060.YWxpY2U.%%%")}) {
        EXPECT_EQ(rejection(bad, "x"), "Malformed download token.") << bad;
    }
    // Well-formed but a truncated MAC: invalid, not malformed.
    EXPECT_EQ(rejection("1717400060.YWxpY2U.AAAA", "x"), "Invalid download token.");
}

TEST(DownloadToken, RandomSecretsDiffer) {
    auto a = random_download_secret();
    auto b = random_download_secret();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
}

TEST(Base64Url, RoundTripsWithoutPadding) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"\xfb\xff", "-_8"}};
    for (const auto& [raw, encoded] : cases) {
        EXPECT_EQ(base64url_encode(raw), encoded);
        EXPECT_EQ(base64url_decode(encoded), std::string(raw));
    }
    EXPECT_EQ(base64url_decode("Zg=="), "f");
    EXPECT_FALSE(base64url_decode("Z").has_value());
    EXPECT_FALSE(base64url_decode("Zm+v").has_value());  // standard alphabet is not url-safe
}

}  // namespace
}  // namespace agentd::service
