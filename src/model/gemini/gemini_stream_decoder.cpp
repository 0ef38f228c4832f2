#include "common/json_access.hpp"
#include "model/gemini/gemini_stream_decoder.hpp"

#include "common/ids.hpp"
#include "common/json.hpp"
#include "model/history.hpp"
#include "model/provider_error.hpp"

namespace agentd::model::gemini {

using json::object_at;

namespace {

std::optional<std::int64_t> opt_int(const bj::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    if (it->value().is_int64()) return it->value().get_int64();
    if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
    return std::nullopt;
}

}  // namespace

std::vector<ModelChunk> GeminiStreamDecoder::feed(std::string_view payload) {
    std::vector<ModelChunk> out;
    bj::object event = parse_event_or_throw(payload, "Gemini");
    throw_if_error_payload(event);
    ModelChunk chunk;

    auto candidates = event.find("candidates");
    if (candidates != event.end() && candidates->value().is_array() &&
        !candidates->value().get_array().empty() &&
        candidates->value().get_array()[0].is_object()) {
        const auto& candidate = candidates->value().get_array()[0].get_object();
        if (candidate.contains("finishReason")) finished_ = true;
        const bj::object* content = object_at(candidate, "content");
        const bj::value* parts =
            content && content->contains("parts") ? &content->at("parts") : nullptr;
        if (parts && parts->is_array()) {
            for (const auto& pv : parts->get_array()) {
                if (!pv.is_object()) continue;
                const auto& part = pv.get_object();
                auto text = str_at(part, "text");
                if (!text.empty()) {
                    auto thought = part.find("thought");
                    if (thought != part.end() && thought->value().is_bool() &&
                        thought->value().get_bool())
                        builder_.add_thinking(text, chunk);
                    else
                        builder_.add_text(text, chunk);
                }
                if (const bj::object* call = object_at(part, "functionCall")) {
                    std::string id(str_at(part, "thoughtSignature"));
                    if (id.empty()) id = std::string(str_at(*call, "id"));
                    if (id.empty()) id = new_id();
                    bj::value args = bj::object{};
                    if (auto a = call->find("args");
                        a != call->end() && !a->value().is_null() &&
                        !(a->value().is_object() && a->value().get_object().empty()))
                        args = a->value();
                    builder_.add_tool_call(id, str_at(*call, "name"),
                                           json::write(args, json::Style::kPython), chunk);
                }
            }
        }
    }
    if (const bj::object* u = object_at(event, "usageMetadata")) {
        auto prompt = opt_int(*u, "promptTokenCount");
        auto total = opt_int(*u, "totalTokenCount");
        if (prompt && total) {
            Usage usage;
            usage.input_tokens = *prompt;
            usage.output_tokens = *total - *prompt;
            usage.cache_input_tokens = opt_int(*u, "cachedContentTokenCount").value_or(0);
            builder_.set_usage(usage);
        }
    }
    surface(chunk, out);
    return out;
}

}  // namespace agentd::model::gemini
