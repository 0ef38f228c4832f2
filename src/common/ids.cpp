#include "common/ids.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace agentd {

namespace {

/// randombytes_buf is one getrandom(2) call per use, and a turn makes a couple
/// dozen ids (events, blocks, messages): each thread draws 4 KiB of the same
/// randomness at once and hands it out 16 bytes at a time.
class RandomPool {
public:
    void take(std::uint8_t* out, std::size_t n) {
        if (used_ + n > bytes_.size()) {
            randombytes_buf(bytes_.data(), bytes_.size());
            used_ = 0;
        }
        std::memcpy(out, bytes_.data() + used_, n);
        used_ += n;
    }

private:
    std::array<std::uint8_t, 4096> bytes_{};
    std::size_t used_ = bytes_.size();
};

}  // namespace

std::string new_id() {
    thread_local RandomPool pool;
    std::uint8_t b[16];
    pool.take(b, sizeof b);
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
