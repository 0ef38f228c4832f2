#pragma once
// Short-lived download capabilities (spec api-extended §1.3.12, shared with
// knowledge-base documents §5.8). A browser navigation carries no X-User-ID, so
// the credential rides in the URL: an HMAC over (expiry, user, path).
//
// Format: "<expires_at>.<b64url(user_id)>.<b64url(HMAC-SHA256(secret,
// "<expires_at>\0<user_id>\0<path>"))>", base64url without padding. The path is
// never read from the token: verification recomputes the MAC over the path of the
// request, so a token for one resource cannot be replayed against another.
#include <cstdint>
#include <optional>

#include <string>
#include <string_view>

#include "common/base64.hpp"

namespace agentd::service {

/// Seconds a minted token stays valid.
inline constexpr std::int64_t kDownloadTokenTtlSeconds = 60;

struct DownloadToken {
    std::string token;
    std::int64_t expires_at = 0;  ///< seconds since the epoch
};

/// 32 random bytes (libsodium): the per-process secret when none is configured.
/// Replicas behind one load balancer must share a configured secret instead.
std::string random_download_secret();

/// Mints a token for `user_id` and `path` (taken verbatim) valid until now + ttl.
DownloadToken sign_download_token(std::string_view secret, std::string_view user_id, std::string_view path,
                                  std::int64_t now_seconds, std::int64_t ttl_seconds = kDownloadTokenTtlSeconds);

/// The user a token was minted for, when it covers `path` and has not expired at
/// `now_seconds`. Throws agentd::Error (401) with the reference's detail:
/// "Malformed download token.", "Invalid download token." or "Expired download token.".
std::string verify_download_token(std::string_view secret, std::string_view token, std::string_view path,
                                  double now_seconds);

using agentd::base64url_decode;  // common/base64.hpp
using agentd::base64url_encode;

}  // namespace agentd::service
