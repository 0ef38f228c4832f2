#include "domain/reply_builder.hpp"

#include <sodium.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "domain/event.hpp"
#include "domain/message.hpp"

namespace agentd::domain {

namespace {

namespace et = event::type;

std::optional<std::string> decode_base64(std::string_view text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    std::size_t len = 0;
    // Whitespace is skipped, as Python's lenient b64decode does; anything else
    // outside the alphabet or a bad padding makes the input invalid.
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), " \t\r\n", &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return std::nullopt;
    out.resize(len);
    return out;
}

std::string encode_base64(std::string_view bytes) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

std::string_view field(const bj::object& o, std::string_view key) { return str_field(o, key); }

const bj::value& value_or_null(const bj::object& o, std::string_view key) {
    static const bj::value kNull;
    auto it = o.find(key);
    return it == o.end() ? kNull : it->value();
}

std::int64_t count(const bj::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_number()) return 0;
    return it->value().to_number<std::int64_t>();
}

const bj::array& array_field(const bj::object& o, std::string_view key) {
    static const bj::array kEmpty;
    auto it = o.find(key);
    return (it != o.end() && it->value().is_array()) ? it->value().get_array() : kEmpty;
}

void append_to_string(bj::object& block, std::string_view key, std::string_view delta) {
    auto& slot = block[key];
    if (!slot.is_string()) slot = "";
    slot.get_string().append(delta);
}

/// Tool output given as a plain string becomes one text block before more is added.
bj::array& output_blocks(bj::object& result) {
    auto& output = result["output"];
    if (output.is_string()) {
        std::string text(output.get_string());
        output = bj::array{text_block(text)};
    } else if (!output.is_array()) {
        output = bj::array{};
    }
    return output.get_array();
}

using Handler = void (*)(bj::object& msg, const bj::object& event);

void on_reply_end(bj::object& msg, const bj::object& e) {
    msg["finished_at"] = value_or_null(e, "created_at");
    msg["finished_reason"] = value_or_null(e, "finished_reason");
    msg["error"] = value_or_null(e, "error");
}

void on_model_call_end(bj::object& msg, const bj::object& e) {
    add_usage(msg, Usage{count(e, "input_tokens"), count(e, "output_tokens"),
                         count(e, "cache_input_tokens"), count(e, "cache_creation_input_tokens")});
}

void on_text_start(bj::object& msg, const bj::object& e) {
    content_of(msg).push_back(text_block("", {.id = std::string(field(e, "block_id"))}));
}

void on_thinking_start(bj::object& msg, const bj::object& e) {
    content_of(msg).push_back(thinking_block("", {.id = std::string(field(e, "block_id"))}));
}

template <const std::string_view& kBlockType, const std::string_view& kTextKey>
void on_stream_delta(bj::object& msg, const bj::object& e) {
    if (auto* block = find_block(msg, kBlockType, field(e, "block_id")))
        append_to_string(*block, kTextKey, field(e, "delta"));
}

template <const std::string_view& kBlockType, const std::string_view& kIdKey>
void on_block_end(bj::object& msg, const bj::object& e) {
    if (auto* block = find_block(msg, kBlockType, field(e, kIdKey)))
        (*block)["finished_at"] = value_or_null(e, "created_at");
}

void on_data_start(bj::object& msg, const bj::object& e) {
    content_of(msg).push_back(data_block(base64_source("", field(e, "media_type")), nullptr,
                                         {.id = std::string(field(e, "block_id"))}));
}

void on_data_delta(bj::object& msg, const bj::object& e) {
    auto* block = find_block(msg, block_type::kData, field(e, "block_id"));
    auto delta = field(e, "data");
    if (!block || delta.empty()) return;
    auto src = block->find("source");
    if (src == block->end() || !src->value().is_object()) return;
    auto& source = src->value().get_object();
    if (field(source, "type") != "base64") return;
    // Each delta is its own padded base64 text: join the bytes, never the strings.
    if (auto joined = concat_base64(field(source, "data"), delta)) source["data"] = *joined;
}

void on_hint(bj::object& msg, const bj::object& e) {
    content_of(msg).push_back(hint_block(value_or_null(e, "hint"), value_or_null(e, "source"),
                                         {.id = std::string(field(e, "block_id"))}));
}

void on_tool_call_start(bj::object& msg, const bj::object& e) {
    content_of(msg).push_back(
        tool_call_block(field(e, "tool_call_id"), field(e, "tool_call_name"), ""));
}

void on_tool_call_delta(bj::object& msg, const bj::object& e) {
    if (auto* block = find_block(msg, block_type::kToolCall, field(e, "tool_call_id")))
        append_to_string(*block, "input", field(e, "delta"));
}

void on_tool_result_start(bj::object& msg, const bj::object& e) {
    content_of(msg).push_back(tool_result_block(field(e, "tool_call_id"),
                                                field(e, "tool_call_name"), bj::array{},
                                                tool_result_state::kRunning));
}

void on_tool_result_text(bj::object& msg, const bj::object& e) {
    auto* result = find_block(msg, block_type::kToolResult, field(e, "tool_call_id"));
    if (!result) return;
    auto& output = output_blocks(*result);
    auto delta = field(e, "delta");
    if (!output.empty() && output.back().is_object() &&
        field(output.back().get_object(), "type") == block_type::kText) {
        append_to_string(output.back().get_object(), "text", delta);
    } else {
        output.push_back(text_block(delta));
    }
}

void on_tool_result_data(bj::object& msg, const bj::object& e) {
    auto* result = find_block(msg, block_type::kToolResult, field(e, "tool_call_id"));
    if (!result) return;
    auto& output = output_blocks(*result);
    auto media_type = field(e, "media_type");
    bj::object source;
    if (const auto& data = value_or_null(e, "data"); data.is_string()) {
        source = base64_source(data.get_string(), media_type);
    } else {
        auto url = field(e, "url");
        auto normalized = normalize_url(url);
        source = url_source(normalized ? std::string_view(*normalized) : url, media_type);
    }
    output.push_back(
        data_block(std::move(source), nullptr, {.id = std::string(field(e, "block_id"))}));
}

void on_tool_result_end(bj::object& msg, const bj::object& e) {
    auto id = field(e, "tool_call_id");
    auto* result = find_block(msg, block_type::kToolResult, id);
    if (!result) return;
    (*result)["state"] = value_or_null(e, "state");
    const auto& metadata = value_or_null(e, "metadata");
    (*result)["metadata"] = metadata.is_object() ? metadata : bj::value(bj::object{});
    (*result)["finished_at"] = value_or_null(e, "created_at");
    if (auto* call = find_block(msg, block_type::kToolCall, id))
        (*call)["state"] = tool_call_state::kFinished;
}

void on_require_user_confirm(bj::object& msg, const bj::object& e) {
    for (const auto& c : array_field(e, "tool_calls")) {
        if (!c.is_object()) continue;
        const auto& asked = c.get_object();
        if (auto* call = find_block(msg, block_type::kToolCall, field(asked, "id"))) {
            (*call)["state"] = tool_call_state::kAsking;
            const auto& rules = value_or_null(asked, "suggested_rules");
            (*call)["suggested_rules"] = rules.is_array() ? rules : bj::value(bj::array{});
        }
    }
}

void on_user_confirm_result(bj::object& msg, const bj::object& e) {
    for (const auto& r : array_field(e, "confirm_results")) {
        if (!r.is_object()) continue;
        const auto& result = r.get_object();
        const auto& tc = value_or_null(result, "tool_call");
        if (!tc.is_object()) continue;
        auto* call = find_block(msg, block_type::kToolCall, field(tc.get_object(), "id"));
        // Only a call still asking changes; a late answer (after an interrupt) is stale.
        if (!call || field(*call, "state") != tool_call_state::kAsking) continue;
        const auto& confirmed = value_or_null(result, "confirmed");
        (*call)["state"] = (confirmed.is_bool() && confirmed.get_bool())
                               ? tool_call_state::kAllowed
                               : tool_call_state::kFinished;
    }
}

void on_require_external_execution(bj::object& msg, const bj::object& e) {
    for (const auto& c : array_field(e, "tool_calls")) {
        if (!c.is_object()) continue;
        if (auto* call = find_block(msg, block_type::kToolCall, field(c.get_object(), "id")))
            (*call)["state"] = tool_call_state::kSubmitted;
    }
}

void on_external_execution_result(bj::object& msg, const bj::object& e) {
    // Ids are collected first: results for calls that already have one (the
    // usual case, TOOL_RESULT_START having been sent) are skipped.
    std::vector<std::string> existing;
    for (const auto* b : blocks_of_type(msg, block_type::kToolResult))
        existing.emplace_back(field(*b, "id"));
    for (const auto& r : array_field(e, "execution_results")) {
        if (!r.is_object()) continue;
        bj::object result = r.get_object();
        if (std::find(existing.begin(), existing.end(), field(result, "id")) != existing.end())
            continue;
        if (value_or_null(result, "finished_at").is_null())
            result["finished_at"] = value_or_null(e, "created_at");
        content_of(msg).push_back(std::move(result));
    }
}

constexpr std::string_view kText = block_type::kText;
constexpr std::string_view kThinking = block_type::kThinking;
constexpr std::string_view kData = block_type::kData;
constexpr std::string_view kToolCall = block_type::kToolCall;
constexpr std::string_view kTextKey = "text";
constexpr std::string_view kThinkingKey = "thinking";
constexpr std::string_view kBlockId = "block_id";
constexpr std::string_view kToolCallId = "tool_call_id";

const std::unordered_map<std::string_view, Handler>& handlers() {
    static const std::unordered_map<std::string_view, Handler> kHandlers = {
        {et::kReplyEnd, on_reply_end},
        {et::kModelCallEnd, on_model_call_end},
        {et::kTextBlockStart, on_text_start},
        {et::kTextBlockDelta, on_stream_delta<kText, kTextKey>},
        {et::kTextBlockEnd, on_block_end<kText, kBlockId>},
        {et::kThinkingBlockStart, on_thinking_start},
        {et::kThinkingBlockDelta, on_stream_delta<kThinking, kThinkingKey>},
        {et::kThinkingBlockEnd, on_block_end<kThinking, kBlockId>},
        {et::kDataBlockStart, on_data_start},
        {et::kDataBlockDelta, on_data_delta},
        {et::kDataBlockEnd, on_block_end<kData, kBlockId>},
        {et::kHintBlock, on_hint},
        {et::kToolCallStart, on_tool_call_start},
        {et::kToolCallDelta, on_tool_call_delta},
        {et::kToolCallEnd, on_block_end<kToolCall, kToolCallId>},
        {et::kToolResultStart, on_tool_result_start},
        {et::kToolResultTextDelta, on_tool_result_text},
        {et::kToolResultDataDelta, on_tool_result_data},
        {et::kToolResultEnd, on_tool_result_end},
        {et::kRequireUserConfirm, on_require_user_confirm},
        {et::kUserConfirmResult, on_user_confirm_result},
        {et::kRequireExternalExecution, on_require_external_execution},
        {et::kExternalExecutionResult, on_external_execution_result},
        // REPLY_START, MODEL_CALL_START, EXCEED_MAX_ITERS, USER_INTERRUPT: no effect.
    };
    return kHandlers;
}

}  // namespace

std::optional<std::string> concat_base64(std::string_view a, std::string_view b) {
    auto first = decode_base64(a);
    auto second = decode_base64(b);
    if (!first || !second) return std::nullopt;
    return encode_base64(*first + *second);
}

bj::object start_reply(const bj::object& reply_start_event) {
    return assistant_msg(field(reply_start_event, "name"), bj::array{},
                         {.id = std::string(field(reply_start_event, "reply_id"))});
}

void append_event(bj::object& msg, const bj::object& event) {
    auto reply_id = event::reply_id_of(event);
    if (!reply_id || *reply_id != field(msg, "id")) return;
    const auto& table = handlers();
    auto it = table.find(event::type_of(event));
    if (it != table.end()) it->second(msg, event);
}

}  // namespace agentd::domain
