#include "model/media.hpp"

#include <fnmatch.h>

#include <array>
#include <cstdint>

namespace agentd::model {

MediaPolicy::MediaPolicy(std::vector<std::string> input_types)
    : input_types_(std::move(input_types)) {}

bool MediaPolicy::accepts(std::string_view media_type) const {
    for (const auto& pattern : input_types_) {
        if (pattern == "text/plain" || pattern == "application/x-thinking") continue;
        if (glob_match(pattern, media_type)) return true;
    }
    return false;
}

bool MediaPolicy::accepts_thinking() const {
    for (const auto& t : input_types_)
        if (t == "application/x-thinking") return true;
    return false;
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void put_le32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_le16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                          std::uint8_t(bytes[i + 2]);
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(kAlphabet[(n >> 6) & 63]);
        out.push_back(kAlphabet[n & 63]);
    }
    if (std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t n = std::uint8_t(bytes[i]) << 16;
        if (rest == 2) n |= std::uint8_t(bytes[i + 1]) << 8;
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    static const std::array<int, 256> table = [] {
        std::array<int, 256> t{};
        t.fill(-1);
        for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
        return t;
    }();
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v = table[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    return out;
}

std::string streaming_wav_header() {
    constexpr std::uint32_t kRate = 24000;
    constexpr std::uint16_t kChannels = 1, kBits = 16;
    std::string h = "RIFF";
    put_le32(h, 0xFFFFFFFFu);
    h += "WAVEfmt ";
    put_le32(h, 16);
    put_le16(h, 1);  // PCM
    put_le16(h, kChannels);
    put_le32(h, kRate);
    put_le32(h, kRate * kChannels * kBits / 8);
    put_le16(h, kChannels * kBits / 8);
    put_le16(h, kBits);
    h += "data";
    put_le32(h, 0xFFFFFFFFu);
    return h;
}

bool glob_match(std::string_view pattern, std::string_view text) {
    return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

std::string_view main_media_type(std::string_view media_type) {
    return media_type.substr(0, media_type.find('/'));
}

}  // namespace agentd::model
