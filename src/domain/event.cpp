#include "domain/event.hpp"

#include <stdexcept>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "domain/model_reader.hpp"

namespace agentd::domain::event {

using validation::Issues;

namespace {

/// The envelope followed by `type`; the caller appends the event's own fields.
bj::object begin(std::string_view event_type, Envelope env) {
    bj::object e;
    e.reserve(10);
    e["id"] = env.id.empty() ? new_id() : std::move(env.id);
    e["created_at"] =
        env.created_at.empty() ? clock::iso_local(clock::now_us()) : std::move(env.created_at);
    e["metadata"] = std::move(env.metadata);
    e["type"] = event_type;
    return e;
}

bj::object block_event(std::string_view event_type, std::string_view reply_id,
                       std::string_view block_id, Envelope env) {
    bj::object e = begin(event_type, std::move(env));
    e["reply_id"] = reply_id;
    e["block_id"] = block_id;
    return e;
}

bj::object tool_event(std::string_view event_type, std::string_view reply_id,
                      std::string_view tool_call_id, Envelope env) {
    bj::object e = begin(event_type, std::move(env));
    e["reply_id"] = reply_id;
    e["tool_call_id"] = tool_call_id;
    return e;
}

}  // namespace

std::string_view type_of(const bj::object& event) { return str_field(event, "type"); }

std::optional<std::string_view> reply_id_of(const bj::object& event) {
    auto it = event.find("reply_id");
    if (it == event.end() || !it->value().is_string()) return std::nullopt;
    return std::string_view(it->value().get_string());
}

bj::object reply_start(std::string_view session_id, std::string_view reply_id,
                       std::string_view name, std::string_view role, Envelope env) {
    bj::object e = begin(type::kReplyStart, std::move(env));
    e["session_id"] = session_id;
    e["reply_id"] = reply_id;
    e["name"] = name;
    e["role"] = role;
    return e;
}

bj::object reply_end(std::string_view session_id, std::string_view reply_id,
                     std::string_view finished_reason, bj::value error, Envelope env) {
    bj::object e = begin(type::kReplyEnd, std::move(env));
    e["session_id"] = session_id;
    e["reply_id"] = reply_id;
    e["finished_reason"] = finished_reason;
    e["error"] = std::move(error);
    return e;
}

bj::object model_call_start(std::string_view reply_id, std::string_view model_name, Envelope env) {
    bj::object e = begin(type::kModelCallStart, std::move(env));
    e["reply_id"] = reply_id;
    e["model_name"] = model_name;
    return e;
}

bj::object model_call_end(std::string_view reply_id, const Usage& usage,
                          std::string_view finished_reason, Envelope env) {
    bj::object e = begin(type::kModelCallEnd, std::move(env));
    e["reply_id"] = reply_id;
    e["input_tokens"] = usage.input_tokens;
    e["output_tokens"] = usage.output_tokens;
    e["cache_input_tokens"] = usage.cache_input_tokens;
    e["cache_creation_input_tokens"] = usage.cache_creation_input_tokens;
    e["finished_reason"] = finished_reason;
    return e;
}

bj::object text_block_start(std::string_view reply_id, std::string_view block_id, Envelope env) {
    return block_event(type::kTextBlockStart, reply_id, block_id, std::move(env));
}

bj::object text_block_delta(std::string_view reply_id, std::string_view block_id,
                            std::string_view delta, Envelope env) {
    bj::object e = block_event(type::kTextBlockDelta, reply_id, block_id, std::move(env));
    e["delta"] = delta;
    return e;
}

bj::object text_block_end(std::string_view reply_id, std::string_view block_id, Envelope env) {
    return block_event(type::kTextBlockEnd, reply_id, block_id, std::move(env));
}

bj::object thinking_block_start(std::string_view reply_id, std::string_view block_id,
                                Envelope env) {
    return block_event(type::kThinkingBlockStart, reply_id, block_id, std::move(env));
}

bj::object thinking_block_delta(std::string_view reply_id, std::string_view block_id,
                                std::string_view delta, Envelope env) {
    bj::object e = block_event(type::kThinkingBlockDelta, reply_id, block_id, std::move(env));
    e["delta"] = delta;
    return e;
}

bj::object thinking_block_end(std::string_view reply_id, std::string_view block_id, Envelope env) {
    return block_event(type::kThinkingBlockEnd, reply_id, block_id, std::move(env));
}

bj::object data_block_start(std::string_view reply_id, std::string_view block_id,
                            std::string_view media_type, Envelope env) {
    bj::object e = block_event(type::kDataBlockStart, reply_id, block_id, std::move(env));
    e["media_type"] = media_type;
    return e;
}

bj::object data_block_delta(std::string_view reply_id, std::string_view block_id,
                            std::string_view data, std::string_view media_type, Envelope env) {
    bj::object e = block_event(type::kDataBlockDelta, reply_id, block_id, std::move(env));
    e["data"] = data;
    e["media_type"] = media_type;
    return e;
}

bj::object data_block_end(std::string_view reply_id, std::string_view block_id, Envelope env) {
    return block_event(type::kDataBlockEnd, reply_id, block_id, std::move(env));
}

bj::object hint_block(std::string_view reply_id, std::string_view block_id, bj::value hint,
                      bj::value source, Envelope env) {
    bj::object e = block_event(type::kHintBlock, reply_id, block_id, std::move(env));
    e["source"] = std::move(source);
    e["hint"] = std::move(hint);
    return e;
}

bj::object tool_call_start(std::string_view reply_id, std::string_view tool_call_id,
                           std::string_view tool_call_name, Envelope env) {
    bj::object e = tool_event(type::kToolCallStart, reply_id, tool_call_id, std::move(env));
    e["tool_call_name"] = tool_call_name;
    return e;
}

bj::object tool_call_delta(std::string_view reply_id, std::string_view tool_call_id,
                           std::string_view delta, Envelope env) {
    bj::object e = tool_event(type::kToolCallDelta, reply_id, tool_call_id, std::move(env));
    e["delta"] = delta;
    return e;
}

bj::object tool_call_end(std::string_view reply_id, std::string_view tool_call_id, Envelope env) {
    return tool_event(type::kToolCallEnd, reply_id, tool_call_id, std::move(env));
}

bj::object tool_result_start(std::string_view reply_id, std::string_view tool_call_id,
                             std::string_view tool_call_name, Envelope env) {
    bj::object e = tool_event(type::kToolResultStart, reply_id, tool_call_id, std::move(env));
    e["tool_call_name"] = tool_call_name;
    return e;
}

bj::object tool_result_text_delta(std::string_view reply_id, std::string_view tool_call_id,
                                  std::string_view delta, Envelope env) {
    bj::object e = tool_event(type::kToolResultTextDelta, reply_id, tool_call_id, std::move(env));
    e["delta"] = delta;
    return e;
}

bj::object tool_result_data_delta(std::string_view reply_id, std::string_view tool_call_id,
                                  std::string_view media_type, std::optional<std::string> data,
                                  std::optional<std::string> url, std::string block_id,
                                  Envelope env) {
    if (data.has_value() == url.has_value())
        throw std::logic_error("tool_result_data_delta: exactly one of data and url must be set");
    bj::object e = tool_event(type::kToolResultDataDelta, reply_id, tool_call_id, std::move(env));
    e["block_id"] = block_id.empty() ? new_id() : std::move(block_id);
    e["media_type"] = media_type;
    e["data"] = data ? bj::value(*data) : bj::value(nullptr);
    e["url"] = url ? bj::value(*url) : bj::value(nullptr);
    return e;
}

bj::object tool_result_end(std::string_view reply_id, std::string_view tool_call_id,
                           std::string_view state, bj::object result_metadata, Envelope env) {
    env.metadata = std::move(result_metadata);
    bj::object e = tool_event(type::kToolResultEnd, reply_id, tool_call_id, std::move(env));
    e["state"] = state;
    return e;
}

bj::object exceed_max_iters(std::string_view reply_id, std::string_view name, Envelope env) {
    bj::object e = begin(type::kExceedMaxIters, std::move(env));
    e["reply_id"] = reply_id;
    e["name"] = name;
    return e;
}

bj::object require_user_confirm(std::string_view reply_id, bj::array tool_calls, Envelope env) {
    bj::object e = begin(type::kRequireUserConfirm, std::move(env));
    e["reply_id"] = reply_id;
    e["tool_calls"] = std::move(tool_calls);
    return e;
}

bj::object require_external_execution(std::string_view reply_id, bj::array tool_calls,
                                      Envelope env) {
    bj::object e = begin(type::kRequireExternalExecution, std::move(env));
    e["reply_id"] = reply_id;
    e["tool_calls"] = std::move(tool_calls);
    return e;
}

bj::object confirm_result(bool confirmed, bj::object tool_call, bj::value rules) {
    bj::object r;
    r["confirmed"] = confirmed;
    r["tool_call"] = std::move(tool_call);
    r["rules"] = std::move(rules);
    return r;
}

bj::object user_confirm_result(std::string_view reply_id, bj::array confirm_results, Envelope env) {
    bj::object e = begin(type::kUserConfirmResult, std::move(env));
    e["reply_id"] = reply_id;
    e["confirm_results"] = std::move(confirm_results);
    return e;
}

bj::object external_execution_result(std::string_view reply_id, bj::array execution_results,
                                     Envelope env) {
    bj::object e = begin(type::kExternalExecutionResult, std::move(env));
    e["reply_id"] = reply_id;
    e["execution_results"] = std::move(execution_results);
    return e;
}

bj::object user_interrupt(std::string_view reply_id, Envelope env) {
    bj::object e = begin(type::kUserInterrupt, std::move(env));
    e["reply_id"] = reply_id;
    return e;
}

bj::object custom(std::string_view name, bj::object value, Envelope env) {
    bj::object e = begin(type::kCustom, std::move(env));
    e["name"] = name;
    e["value"] = std::move(value);
    return e;
}

// ---------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------

namespace {

/// The envelope and the `type` literal. pydantic prints an enum-member literal
/// as its repr, "<EventType.X: 'X'>".
void read_envelope(ModelFields& in, bj::object& out, std::string_view event_type) {
    static const ModelFields::Default kEmptyDict = [] { return bj::value(bj::object{}); };
    in.take(out, "id", read_str, &ModelFields::new_id_value);
    in.take(out, "created_at", read_str, &ModelFields::now_value);
    in.take(out, "metadata", read_dict, kEmptyDict);
    std::string shown =
        "<EventType." + std::string(event_type) + ": '" + std::string(event_type) + "'>";
    in.literal(out, "type", event_type, shown);
}

std::optional<ReadModel> read_confirm_result(const bj::value& input, const bj::array& loc,
                                             Issues& issues) {
    static const ValueReader kToolCall = model_reader(read_tool_call_block);
    static const ValueReader kRules = list_reader(model_reader(read_permission_rule));
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.take(out, "confirmed", read_bool);
    in.take(out, "tool_call", kToolCall);
    in.take(
        out, "rules", kRules, [] { return bj::value(nullptr); }, true);
    return in.finish(std::move(out));
}

}  // namespace

std::optional<ReadModel> read_user_confirm_result(const bj::value& input, const bj::array& loc,
                                                  Issues& issues) {
    static const ValueReader kResults = list_reader(model_reader(read_confirm_result));
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    read_envelope(in, out, type::kUserConfirmResult);
    in.take(out, "reply_id", read_str);
    in.take(out, "confirm_results", kResults);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_external_execution_result(const bj::value& input,
                                                        const bj::array& loc, Issues& issues) {
    static const ValueReader kResults = list_reader(model_reader(read_tool_result_block));
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    read_envelope(in, out, type::kExternalExecutionResult);
    in.take(out, "reply_id", read_str);
    in.take(out, "execution_results", kResults);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_user_interrupt(const bj::value& input, const bj::array& loc,
                                             Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    read_envelope(in, out, type::kUserInterrupt);
    in.take(out, "reply_id", read_str);
    return in.finish(std::move(out));
}

std::optional<bj::object> parse_event(const bj::value& input, const bj::array& loc,
                                      Issues& issues) {
    static const UnionBranch kInbound[] = {
        {"UserConfirmResultEvent", read_user_confirm_result},
        {"UserInterruptEvent", read_user_interrupt},
        {"ExternalExecutionResultEvent", read_external_execution_result},
    };
    std::string_view t = input.is_object() ? type_of(input.get_object()) : std::string_view{};
    std::optional<ReadModel> read;
    if (t == type::kUserConfirmResult)
        read = read_user_confirm_result(input, loc, issues);
    else if (t == type::kUserInterrupt)
        read = read_user_interrupt(input, loc, issues);
    else if (t == type::kExternalExecutionResult)
        read = read_external_execution_result(input, loc, issues);
    else if (auto m = read_smart_union(input, loc, issues, kInbound))
        read = ReadModel{std::move(m->value), {}};
    if (!read) return std::nullopt;
    return std::move(read->value.get_object());
}

}  // namespace agentd::domain::event
