#pragma once
// Base64 (RFC 4648): the standard alphabet for media payloads, the URL-safe one
// without padding for tokens.
#include <optional>
#include <string>
#include <string_view>

namespace agentd {

std::string base64_encode(std::string_view bytes);
/// Standard alphabet, padding optional, whitespace not allowed; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

/// URL-safe alphabet (`-`, `_`), no padding.
std::string base64url_encode(std::string_view bytes);
/// URL-safe alphabet, padding optional; the standard alphabet's `+` / `/` are malformed.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace agentd
