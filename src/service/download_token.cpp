#include "service/download_token.hpp"

#include "common/base64.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <stdexcept>

#include "common/error.hpp"
#include "common/json.hpp"

namespace agentd::service {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// "<expires_at>\0<user_id>\0<path>": NUL cannot occur in any field, so no
// two triples share a message.
std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac(std::string_view secret, std::int64_t expires_at,
                                                            std::string_view user_id, std::string_view path) {
    std::string message = std::to_string(expires_at);
    message.push_back('\0');
    message.append(user_id);
    message.push_back('\0');
    message.append(path);
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> out{};
    crypto_auth_hmacsha256_final(&state, out.data());
    sodium_memzero(&state, sizeof state);
    return out;
}

Error unauthorized(const char* detail) { return Error(ErrorCode::kUnauthorized, detail); }

}  // namespace

std::string random_download_secret() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    std::string secret(32, '\0');
    randombytes_buf(secret.data(), secret.size());
    return secret;
}

DownloadToken sign_download_token(std::string_view secret, std::string_view user_id, std::string_view path,
                                  std::int64_t now_seconds, std::int64_t ttl_seconds) {
    DownloadToken out;
    out.expires_at = now_seconds + ttl_seconds;
    auto signature = mac(secret, out.expires_at, user_id, path);
    out.token = std::to_string(out.expires_at) + "." + base64url_encode(user_id) + "." +
                base64url_encode(std::string_view(reinterpret_cast<const char*>(signature.data()), signature.size()));
    return out;
}

std::string verify_download_token(std::string_view secret, std::string_view token, std::string_view path,
                                  double now_seconds) {
    auto first = token.find('.');
    auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
        throw unauthorized("Malformed download token.");
    std::string_view raw_expiry = token.substr(0, first);
    std::string_view raw_user = token.substr(first + 1, second - first - 1);
    std::string_view raw_signature = token.substr(second + 1);

    // Python's int(): an optional sign, then digits.
    std::string_view digits = raw_expiry;
    bool negative = false;
    if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
        negative = digits.front() == '-';
        digits.remove_prefix(1);
    }
    bool numeric = !digits.empty();
    for (char c : digits) numeric = numeric && c >= '0' && c <= '9';
    auto user_id = base64url_decode(raw_user);
    auto signature = base64url_decode(raw_signature);
    if (!numeric || !user_id || !json::is_valid_utf8(*user_id) || !signature)
        throw unauthorized("Malformed download token.");
    std::int64_t expires_at = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expires_at);
    // Too large for any token this server mints: it cannot carry a valid MAC.
    if (ec != std::errc() || end != digits.data() + digits.size()) throw unauthorized("Invalid download token.");
    if (negative) expires_at = -expires_at;

    auto expected = mac(secret, expires_at, *user_id, path);
    if (signature->size() != expected.size() ||
        sodium_memcmp(signature->data(), expected.data(), expected.size()) != 0)
        throw unauthorized("Invalid download token.");
    if (static_cast<double>(expires_at) < now_seconds) throw unauthorized("Expired download token.");
    return std::move(*user_id);
}

}  // namespace agentd::service
