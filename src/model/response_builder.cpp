#include "model/response_builder.hpp"

#include "common/ids.hpp"
#include "model/media.hpp"

namespace agentd::model {

ResponseBuilder::ResponseBuilder()
    : text_id_(new_id()), thinking_id_(new_id()), audio_id_(new_id()) {}

ResponseBuilder::Block& ResponseBuilder::block(Kind kind, const std::string& id) {
    auto it = index_.find(id);
    if (it != index_.end()) {
        Block& b = blocks_[it->second];
        if (b.kind == kind) return b;
        // A provider reused an id for another kind of block: start over, as the reference does.
        b = Block{kind, id, {}, {}, {}};
        return b;
    }
    index_.emplace(id, blocks_.size());
    blocks_.push_back(Block{kind, id, {}, {}, {}});
    return blocks_.back();
}

void ResponseBuilder::add_text(std::string_view text, ModelChunk& chunk) {
    if (text.empty()) return;
    block(Kind::kText, text_id_).body += text;
    chunk.text += text;
}

void ResponseBuilder::add_thinking(std::string_view thinking, ModelChunk& chunk) {
    if (thinking.empty()) return;
    block(Kind::kThinking, thinking_id_).body += thinking;
    chunk.thinking += thinking;
}

void ResponseBuilder::set_thinking_extra(std::string_view key, bj::value value) {
    block(Kind::kThinking, thinking_id_).extras[key] = std::move(value);
}

void ResponseBuilder::add_redacted_thinking(std::string_view data) {
    Block& b = block(Kind::kThinking, new_id());
    b.extras["redacted_thinking_data"] = bj::string(data);
}

void ResponseBuilder::add_tool_call(std::string_view id, std::string_view name,
                                    std::string_view arguments, ModelChunk& chunk) {
    Block& b = block(Kind::kToolCall, std::string(id));
    if (b.name.empty()) b.name = std::string(name);
    b.body += arguments;
    chunk.tool_calls.push_back(
        {std::string(id), b.name.empty() ? std::string(name) : b.name, std::string(arguments)});
}

void ResponseBuilder::add_audio(std::string_view bytes, std::string_view media_type,
                                ModelChunk& chunk) {
    if (bytes.empty()) return;
    Block& b = block(Kind::kData, audio_id_);
    if (b.name != media_type) {
        b.body.clear();
        b.name = std::string(media_type);
    }
    b.body += bytes;
    chunk.data.push_back({audio_id_, std::string(media_type), base64_encode(bytes)});
}

ModelResponse ResponseBuilder::build() const {
    ModelResponse r;
    for (const auto& b : blocks_) {
        bj::object o;
        switch (b.kind) {
            case Kind::kText:
                o = {{"type", "text"}, {"id", b.id}, {"text", b.body}};
                break;
            case Kind::kThinking:
                o = {{"type", "thinking"}, {"id", b.id}, {"thinking", b.body}};
                for (const auto& kv : b.extras) o[kv.key()] = kv.value();
                break;
            case Kind::kToolCall:
                o = {{"type", "tool_call"}, {"id", b.id},         {"name", b.name},
                     {"input", b.body},     {"state", "pending"}, {"suggested_rules", bj::array{}}};
                break;
            case Kind::kData:
                o = {{"type", "data"},
                     {"id", b.id},
                     {"source", bj::object{{"type", "base64"},
                                           {"data", base64_encode(b.body)},
                                           {"media_type", b.name}}}};
                break;
        }
        r.content.push_back(std::move(o));
    }
    if (usage_) r.usage = *usage_;
    return r;
}

}  // namespace agentd::model
