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

void put_le32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_le16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
}
}  // namespace

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
