#include "common/ids.hpp"

#include <sodium.h>

#include <cstdint>

namespace agentd {

std::string new_id() {
    std::uint8_t b[16];
    randombytes_buf(b, sizeof b);  // thread-safe, seeded by sodium_init()
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    static const char* kHex = "0123456789abcdef";
    std::string out(32, '0');
    for (int i = 0; i < 16; ++i) {
        out[2 * i] = kHex[b[i] >> 4];
        out[2 * i + 1] = kHex[b[i] & 15];
    }
    return out;
}

}  // namespace agentd
