#pragma once
// BLAKE2b (RFC 7693) with a configurable digest size.
//
// The reference derives workspace ids with Python's blake2b(digest_size=8). The
// digest size is part of BLAKE2b's parameter block, so truncating a longer hash
// gives different bytes; libsodium only offers 16..64-byte digests and Debian's
// OpenSSL 3.0 cannot set the size, hence this small implementation.
#include <cstdint>
#include <string>
#include <string_view>

namespace agentd {

/// Unkeyed BLAKE2b of `data` with `digest_size` bytes (1..64), as lowercase hex.
std::string blake2b_hex(std::string_view data, std::size_t digest_size);

}  // namespace agentd
