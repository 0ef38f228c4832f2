#include "common/json_access.hpp"
#include "model/anthropic/anthropic_stream_decoder.hpp"

#include "model/history.hpp"
#include "model/provider_error.hpp"

namespace agentd::model::anthropic {

using json::int_at;
using json::object_at;


std::vector<ModelChunk> AnthropicStreamDecoder::feed(std::string_view payload) {
    std::vector<ModelChunk> out;
    bj::object event = parse_event_or_throw(payload, "Anthropic");
    throw_if_error_payload(event);
    const auto type = str_at(event, "type");
    ModelChunk chunk;

    if (type == "message_start") {
        const bj::object* message = object_at(event, "message");
        const bj::object* u = message ? object_at(*message, "usage") : nullptr;
        if (u) {
            Usage usage;
            usage.input_tokens = int_at(*u, "input_tokens");
            usage.output_tokens = int_at(*u, "output_tokens");
            usage.cache_creation_input_tokens = int_at(*u, "cache_creation_input_tokens");
            usage.cache_input_tokens = int_at(*u, "cache_read_input_tokens");
            builder_.set_usage(usage);
            usage_known_ = true;
        }
    } else if (type == "content_block_start") {
        const bj::object* block = object_at(event, "content_block");
        if (!block) return out;
        const auto block_type = str_at(*block, "type");
        if (block_type == "tool_use") {
            std::string id(str_at(*block, "id")), name(str_at(*block, "name"));
            calls_[int_at(event, "index")] = {id, name};
            builder_.add_tool_call(id, name, "", chunk);
        } else if (block_type == "redacted_thinking") {
            builder_.add_redacted_thinking(str_at(*block, "data"));
        }
    } else if (type == "content_block_delta") {
        const bj::object* delta = object_at(event, "delta");
        if (!delta) return out;
        const auto delta_type = str_at(*delta, "type");
        if (delta_type == "text_delta") {
            builder_.add_text(str_at(*delta, "text"), chunk);
        } else if (delta_type == "thinking_delta") {
            builder_.add_thinking(str_at(*delta, "thinking"), chunk);
        } else if (delta_type == "signature_delta") {
            builder_.set_thinking_extra("signature", bj::string(str_at(*delta, "signature")));
        } else if (delta_type == "input_json_delta") {
            auto it = calls_.find(int_at(event, "index"));
            if (it != calls_.end())
                builder_.add_tool_call(it->second.first, it->second.second,
                                       str_at(*delta, "partial_json"), chunk);
        }
    } else if (type == "message_delta") {
        const bj::object* u = object_at(event, "usage");
        if (u && usage_known_ && u->contains("output_tokens")) {
            Usage usage = *builder_.usage();
            usage.output_tokens = int_at(*u, "output_tokens");
            builder_.set_usage(usage);
        }
    } else if (type == "message_stop") {
        finished_ = true;
    }
    surface(chunk, out);
    return out;
}

}  // namespace agentd::model::anthropic
