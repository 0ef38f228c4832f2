#include "common/json_access.hpp"
#include "model/openai/openai_stream_decoder.hpp"

#include "common/ids.hpp"
#include "model/history.hpp"
#include "model/media.hpp"
#include "model/provider_error.hpp"

namespace agentd::model::openai {

using json::int_at;
using json::object_at;


std::vector<ModelChunk> OpenAIStreamDecoder::feed(std::string_view payload) {
    std::vector<ModelChunk> out;
    if (payload == "[DONE]") {
        finished_ = true;
        return out;
    }
    bj::object event = parse_event_or_throw(payload, "OpenAI-compatible");
    throw_if_error_payload(event);

    if (const auto* u = object_at(event, "usage")) {
        Usage usage;
        usage.input_tokens = int_at(*u, "prompt_tokens");
        usage.output_tokens = int_at(*u, "completion_tokens");
        switch (vendor_) {
            case Vendor::kDeepSeek:
                usage.cache_input_tokens = int_at(*u, "prompt_cache_hit_tokens");
                break;
            case Vendor::kMoonshot:
                usage.cache_input_tokens = int_at(*u, "cached_tokens");
                break;
            default:
                if (const auto* d = object_at(*u, "prompt_tokens_details"))
                    usage.cache_input_tokens = int_at(*d, "cached_tokens");
                break;
        }
        builder_.set_usage(usage);
    }

    auto choices = event.find("choices");
    if (choices == event.end() || !choices->value().is_array() ||
        choices->value().get_array().empty() || !choices->value().get_array()[0].is_object())
        return out;  // usage carrier
    const bj::object* delta = object_at(choices->value().get_array()[0].get_object(), "delta");
    if (!delta) return out;

    ModelChunk chunk;
    // Thinking: DeepSeek-style `reasoning_content`; OpenAI and xAI also accept
    // the vLLM/OpenRouter `reasoning` field.
    std::string_view thinking = str_at(*delta, "reasoning_content");
    bool reasoning_is_string =
        delta->contains("reasoning_content") && delta->at("reasoning_content").is_string();
    if (!reasoning_is_string && (vendor_ == Vendor::kOpenAI || vendor_ == Vendor::kXai))
        thinking = str_at(*delta, "reasoning");
    builder_.add_thinking(thinking, chunk);

    std::string text(str_at(*delta, "content"));
    const bj::object* audio = (vendor_ == Vendor::kOpenAI || vendor_ == Vendor::kDashScope)
                                  ? object_at(*delta, "audio")
                                  : nullptr;
    auto add_audio = [&] {
        if (!audio) return;
        auto data = str_at(*audio, "data");
        if (data.empty()) return;
        auto pcm = base64_decode(data);
        if (!pcm) return;
        std::string payload_bytes;
        if (!audio_started_) {
            payload_bytes = streaming_wav_header();
            audio_started_ = true;
        }
        payload_bytes += *pcm;
        builder_.add_audio(payload_bytes, "audio/wav", chunk);
    };
    if (vendor_ == Vendor::kOpenAI) {
        // Omni models speak the answer: its text arrives as the transcript.
        if (audio) text += str_at(*audio, "transcript");
        add_audio();
    }
    builder_.add_text(text, chunk);

    auto calls = delta->find("tool_calls");
    if (calls != delta->end() && calls->value().is_array()) {
        std::int64_t position = 0;
        for (const auto& cv : calls->value().get_array()) {
            if (!cv.is_object()) continue;
            const auto& call = cv.get_object();
            std::int64_t index = call.contains("index") ? int_at(call, "index") : position;
            ++position;
            const bj::object* fn = object_at(call, "function");
            std::string_view name = fn ? str_at(*fn, "name") : std::string_view{};
            std::string_view args = fn ? str_at(*fn, "arguments") : std::string_view{};
            std::string_view id = str_at(call, "id");
            auto [it, inserted] = calls_.try_emplace(index);
            if (inserted) {
                // A provider that never sends an id still needs one to pair the result with.
                it->second.first = id.empty() ? "call_" + new_id() : std::string(id);
                it->second.second = name.empty() ? "unknown" : std::string(name);
            }
            builder_.add_tool_call(id.empty() ? it->second.first : std::string(id),
                                   name.empty() ? it->second.second : std::string(name), args,
                                   chunk);
        }
    }
    if (vendor_ == Vendor::kDashScope) add_audio();
    surface(chunk, out);
    return out;
}

}  // namespace agentd::model::openai
