#pragma once
// Media handling shared by the formatters: which media a model accepts, how
// `url` sources are turned into inline bytes, base64, and the streaming WAV
// header that wraps raw PCM audio from omni models.
#include <functional>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.hpp"

namespace agentd::model {

/// The media a model accepts, from its card's `input_types` (or the
/// formatter's default list). Entries other than `text/plain` and
/// `application/x-thinking` are case-sensitive shell globs (`image/*`).
class MediaPolicy {
public:
    explicit MediaPolicy(std::vector<std::string> input_types);

    /// Whether a data block of `media_type` is sent to the model.
    bool accepts(std::string_view media_type) const;
    /// Whether `application/x-thinking` is listed (DashScope echoes reasoning only then).
    bool accepts_thinking() const;
    const std::vector<std::string>& input_types() const { return input_types_; }

private:
    std::vector<std::string> input_types_;
};

/// Returns the base64 of the bytes behind a `url` source (`file://`, `http(s)://`)
/// when they could be loaded; nullopt otherwise. Formatters never do I/O
/// themselves: the HTTP glue fetches what a first formatting pass asked for.
using MediaResolver = std::function<std::optional<std::string>(const std::string& url)>;

using agentd::base64_decode;  // common/base64.hpp
using agentd::base64_encode;

/// 44-byte RIFF/WAVE header for open-ended 24 kHz mono 16-bit PCM (sizes 0xFFFFFFFF).
std::string streaming_wav_header();

/// Python fnmatch semantics on POSIX (`*` also matches `/`), case-sensitive.
bool glob_match(std::string_view pattern, std::string_view text);

/// "image" for "image/png"; the whole string when it has no slash.
std::string_view main_media_type(std::string_view media_type);

}  // namespace agentd::model
