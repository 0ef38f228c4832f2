#include "domain/message.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <span>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/ids.hpp"

namespace agentd::domain {

using validation::Issues;
using validation::loc_join;

namespace {

std::string now_stamp() { return clock::iso_local(clock::now_us()); }

std::string or_new_id(std::string id) { return id.empty() ? new_id() : std::move(id); }
std::string or_now(std::string ts) { return ts.empty() ? now_stamp() : std::move(ts); }

bool contains(std::span<const std::string_view> list, std::string_view v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

std::string_view block_type_of(const bj::value& block) {
    if (!block.is_object()) return {};
    return str_field(block.get_object(), "type");
}

/// The role constraint of the reference: nullptr when `content` fits `role`,
/// otherwise the reference's error sentence.
const char* role_violation(std::string_view role, const bj::array& content) {
    if (role == "user") {
        for (const auto& b : content) {
            auto t = block_type_of(b);
            if (t != block_type::kText && t != block_type::kData)
                return "User message can only contain text blocks or data blocks.";
        }
    } else if (role == "system") {
        for (const auto& b : content) {
            if (block_type_of(b) != block_type::kText)
                return "System message can only contain text blocks.";
        }
    }
    return nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------

bj::object Usage::to_json() const {
    bj::object o;
    o["input_tokens"] = input_tokens;
    o["output_tokens"] = output_tokens;
    o["cache_input_tokens"] = cache_input_tokens;
    o["cache_creation_input_tokens"] = cache_creation_input_tokens;
    return o;
}

Usage Usage::from_json(const bj::object& o) {
    auto count = [&](std::string_view key) -> std::int64_t {
        auto it = o.find(key);
        if (it == o.end() || !it->value().is_number()) return 0;
        return it->value().to_number<std::int64_t>();
    };
    return {count("input_tokens"), count("output_tokens"), count("cache_input_tokens"),
            count("cache_creation_input_tokens")};
}

Usage& Usage::operator+=(const Usage& other) {
    input_tokens += other.input_tokens;
    output_tokens += other.output_tokens;
    cache_input_tokens += other.cache_input_tokens;
    cache_creation_input_tokens += other.cache_creation_input_tokens;
    return *this;
}

// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------

bj::object text_block(std::string_view text, BlockStamp stamp) {
    bj::object b;
    b["type"] = block_type::kText;
    b["text"] = text;
    b["id"] = or_new_id(std::move(stamp.id));
    b["created_at"] = or_now(std::move(stamp.created_at));
    b["finished_at"] = nullptr;
    return b;
}

bj::object thinking_block(std::string_view thinking, BlockStamp stamp, const bj::object& extra) {
    bj::object b;
    b["type"] = block_type::kThinking;
    b["thinking"] = thinking;
    b["id"] = or_new_id(std::move(stamp.id));
    b["created_at"] = or_now(std::move(stamp.created_at));
    b["finished_at"] = nullptr;
    for (const auto& kv : extra)
        if (!b.contains(kv.key())) b[kv.key()] = kv.value();
    return b;
}

bj::object hint_block(bj::value hint, bj::value source, BlockStamp stamp) {
    bj::object b;
    b["type"] = block_type::kHint;
    b["hint"] = std::move(hint);
    b["id"] = or_new_id(std::move(stamp.id));
    b["source"] = std::move(source);
    std::string created = or_now(std::move(stamp.created_at));
    b["created_at"] = created;
    b["finished_at"] = created;
    return b;
}

bj::object base64_source(std::string_view data, std::string_view media_type) {
    bj::object s;
    s["type"] = "base64";
    s["data"] = data;
    s["media_type"] = media_type;
    return s;
}

bj::object url_source(std::string_view url, std::string_view media_type) {
    bj::object s;
    s["type"] = "url";
    s["url"] = url;
    s["media_type"] = media_type;
    return s;
}

bj::object data_block(bj::object source, bj::value name, BlockStamp stamp) {
    bj::object b;
    b["type"] = block_type::kData;
    b["id"] = or_new_id(std::move(stamp.id));
    b["source"] = std::move(source);
    b["name"] = std::move(name);
    b["created_at"] = or_now(std::move(stamp.created_at));
    b["finished_at"] = nullptr;
    return b;
}

bj::object tool_call_block(std::string_view id, std::string_view name, std::string_view input,
                           std::string_view state, bj::array suggested_rules,
                           std::string created_at) {
    bj::object b;
    b["type"] = block_type::kToolCall;
    b["id"] = id;
    b["name"] = name;
    b["input"] = input;
    b["state"] = state;
    b["suggested_rules"] = std::move(suggested_rules);
    b["created_at"] = or_now(std::move(created_at));
    b["finished_at"] = nullptr;
    return b;
}

bj::object tool_result_block(std::string_view id, std::string_view name, bj::value output,
                             std::string_view state, bj::object metadata, std::string created_at) {
    bj::object b;
    b["type"] = block_type::kToolResult;
    b["id"] = id;
    b["name"] = name;
    b["output"] = std::move(output);
    b["state"] = state;
    b["metadata"] = std::move(metadata);
    b["created_at"] = or_now(std::move(created_at));
    b["finished_at"] = nullptr;
    return b;
}

bj::object permission_rule(std::string_view tool_name, bj::value rule_content,
                           std::string_view behavior, std::string_view source) {
    bj::object r;
    r["tool_name"] = tool_name;
    r["rule_content"] = std::move(rule_content);
    r["behavior"] = behavior;
    r["source"] = source;
    return r;
}

bj::object error_info(std::string_view type, std::string_view message) {
    bj::object e;
    e["type"] = type;
    e["message"] = message;
    return e;
}

bj::object make_msg(std::string_view name, bj::array content, std::string_view role,
                    MsgOptions options) {
    if (!contains(kRoles, role))
        throw std::logic_error("make_msg: unknown role " + std::string(role));
    if (const char* why = role_violation(role, content)) throw std::logic_error(why);
    bj::object m;
    m["name"] = name;
    m["content"] = std::move(content);
    m["role"] = role;
    m["id"] = or_new_id(std::move(options.id));
    m["metadata"] = std::move(options.metadata);
    m["created_at"] = or_now(std::move(options.created_at));
    m["usage"] = std::move(options.usage);
    m["finished_at"] = std::move(options.finished_at);
    m["finished_reason"] = std::move(options.finished_reason);
    m["structured_output"] = std::move(options.structured_output);
    m["error"] = std::move(options.error);
    return m;
}

namespace {

/// UserMsg / SystemMsg: one timestamp serves as created_at and, unless given,
/// finished_at.
bj::object finished_msg(std::string_view name, bj::array content, std::string_view role,
                        MsgOptions options) {
    options.created_at = or_now(std::move(options.created_at));
    if (options.finished_at.is_null()) options.finished_at = bj::value(options.created_at);
    return make_msg(name, std::move(content), role, std::move(options));
}

}  // namespace

bj::object user_msg(std::string_view name, bj::array content, MsgOptions options) {
    return finished_msg(name, std::move(content), "user", std::move(options));
}

bj::object user_msg(std::string_view name, std::string_view text, MsgOptions options) {
    return user_msg(name, bj::array{text_block(text)}, std::move(options));
}

bj::object assistant_msg(std::string_view name, bj::array content, MsgOptions options) {
    return make_msg(name, std::move(content), "assistant", std::move(options));
}

bj::object system_msg(std::string_view name, bj::array content, MsgOptions options) {
    return finished_msg(name, std::move(content), "system", std::move(options));
}

bj::object system_msg(std::string_view name, std::string_view text, MsgOptions options) {
    return system_msg(name, bj::array{text_block(text)}, std::move(options));
}

// ---------------------------------------------------------------------------
// Accessors
// ---------------------------------------------------------------------------

std::string_view str_field(const bj::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return {};
    return it->value().get_string();
}

const bj::array& content_of(const bj::object& msg) {
    static const bj::array kEmpty;
    auto it = msg.find("content");
    if (it == msg.end() || !it->value().is_array()) return kEmpty;
    return it->value().get_array();
}

bj::array& content_of(bj::object& msg) {
    auto& v = msg["content"];
    if (!v.is_array()) v = bj::array{};
    return v.get_array();
}

bj::object* find_block(bj::object& msg, std::string_view type, std::string_view id) {
    auto it = msg.find("content");
    if (it == msg.end() || !it->value().is_array()) return nullptr;
    for (auto& b : it->value().get_array()) {
        if (!b.is_object()) continue;
        auto& o = b.get_object();
        if (str_field(o, "type") == type && str_field(o, "id") == id) return &o;
    }
    return nullptr;
}

const bj::object* find_block(const bj::object& msg, std::string_view type, std::string_view id) {
    for (const auto& b : content_of(msg)) {
        if (!b.is_object()) continue;
        const auto& o = b.get_object();
        if (str_field(o, "type") == type && str_field(o, "id") == id) return &o;
    }
    return nullptr;
}

std::vector<const bj::object*> blocks_of_type(const bj::object& msg, std::string_view type) {
    std::vector<const bj::object*> out;
    for (const auto& b : content_of(msg))
        if (b.is_object() && str_field(b.get_object(), "type") == type)
            out.push_back(&b.get_object());
    return out;
}

std::vector<bj::object*> blocks_of_type(bj::object& msg, std::string_view type) {
    std::vector<bj::object*> out;
    auto it = msg.find("content");
    if (it == msg.end() || !it->value().is_array()) return out;
    for (auto& b : it->value().get_array())
        if (b.is_object() && str_field(b.get_object(), "type") == type)
            out.push_back(&b.get_object());
    return out;
}

bool has_blocks(const bj::object& msg, std::string_view type) {
    for (const auto& b : content_of(msg))
        if (block_type_of(b) == type) return true;
    return false;
}

std::vector<const bj::object*> awaiting_tool_calls(const bj::object& msg) {
    std::vector<const bj::object*> out;
    for (const auto* call : tool_calls(msg)) {
        auto state = str_field(*call, "state");
        if (state == tool_call_state::kAsking) {
            out.push_back(call);
        } else if (state == tool_call_state::kSubmitted &&
                   !find_block(msg, block_type::kToolResult, str_field(*call, "id"))) {
            out.push_back(call);
        }
    }
    return out;
}

std::optional<std::string> text_content(const bj::object& msg, std::string_view separator) {
    std::optional<std::string> out;
    for (const auto* b : blocks_of_type(msg, block_type::kText)) {
        if (out)
            out->append(separator);
        else
            out.emplace();
        out->append(str_field(*b, "text"));
    }
    return out;
}

void add_usage(bj::object& msg, const Usage& usage) {
    auto& slot = msg["usage"];
    if (slot.is_object()) {
        Usage sum = Usage::from_json(slot.get_object());
        sum += usage;
        slot = sum.to_json();
    } else {
        slot = usage.to_json();
    }
}

// ---------------------------------------------------------------------------
// Model readers
// ---------------------------------------------------------------------------

namespace {

using Default = ModelFields::Default;

const Default kNewId = &ModelFields::new_id_value;
const Default kNow = &ModelFields::now_value;
const Default kNull = [] { return bj::value(nullptr); };
const Default kEmptyDict = [] { return bj::value(bj::object{}); };
const Default kEmptyList = [] { return bj::value(bj::array{}); };
const Default kZero = [] { return bj::value(0); };

std::optional<ReadModel> read_text_block(const bj::value& input, const bj::array& loc,
                                         Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", block_type::kText);
    in.take(out, "text", read_str);
    in.take(out, "id", read_str, kNewId);
    in.take(out, "created_at", read_str, kNow);
    in.take(out, "finished_at", read_str, kNull, true);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_thinking_block(const bj::value& input, const bj::array& loc,
                                             Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", block_type::kThinking);
    in.take(out, "thinking", read_str);
    in.take(out, "id", read_str, kNewId);
    in.take(out, "created_at", read_str, kNow);
    in.take(out, "finished_at", read_str, kNull, true);
    in.keep_extra(out, {"type", "thinking", "id", "created_at", "finished_at"});
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_base64_source(const bj::value& input, const bj::array& loc,
                                            Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", "base64");
    in.take(out, "data", read_str);
    in.take(out, "media_type", read_str);
    return in.finish(std::move(out));
}

std::optional<bj::value> read_url(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (!v.is_string()) {
        issues.add("url_type", loc, "URL input should be a string or URL", v);
        return std::nullopt;
    }
    std::string error;
    if (auto url = normalize_url(v.get_string(), &error)) return bj::value(*url);
    bj::object ctx;
    ctx["error"] = error;
    issues.add("url_parsing", loc, "Input should be a valid URL, " + error, v, std::move(ctx));
    return std::nullopt;
}

std::optional<ReadModel> read_url_source(const bj::value& input, const bj::array& loc,
                                         Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", "url");
    in.take(out, "url", read_url);
    in.take(out, "media_type", read_str);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_data_block(const bj::value& input, const bj::array& loc,
                                         Issues& issues) {
    static const ValueReader kSource = union_reader({
        {"Base64Source", read_base64_source},
        {"URLSource", read_url_source},
    });
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", block_type::kData);
    in.take(out, "id", read_str, kNewId);
    in.take(out, "source", kSource);
    in.take(out, "name", read_str, kNull, true);
    in.take(out, "created_at", read_str, kNow);
    in.take(out, "finished_at", read_str, kNull, true);
    return in.finish(std::move(out));
}

/// `str | list[TextBlock | DataBlock]`: hint and tool output.
const ValueReader& text_or_blocks_reader() {
    static const ValueReader kReader = union_reader({
        {"str", plain_branch(read_str)},
        {"list[union[TextBlock,DataBlock]]", plain_branch(list_reader(union_reader({
                                                 {"TextBlock", read_text_block},
                                                 {"DataBlock", read_data_block},
                                             })))},
    });
    return kReader;
}

std::optional<ReadModel> read_hint_block(const bj::value& input, const bj::array& loc,
                                         Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", block_type::kHint);
    in.take(out, "hint", text_or_blocks_reader());
    in.take(out, "id", read_str, kNewId);
    in.take(out, "source", read_str, kNull, true);
    in.take(out, "created_at", read_str, kNow);
    // The reference's default for a hint's finished_at is a fresh timestamp.
    in.take(out, "finished_at", read_str, kNow, true);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_usage(const bj::value& input, const bj::array& loc, Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.take(out, "input_tokens", read_int);
    in.take(out, "output_tokens", read_int);
    in.take(out, "cache_input_tokens", read_int, kZero);
    in.take(out, "cache_creation_input_tokens", read_int, kZero);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_error_info(const bj::value& input, const bj::array& loc,
                                         Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.take(out, "type", choice_reader(kErrorTypes, true), [] { return bj::value("unknown"); });
    in.take(out, "message", read_str);
    return in.finish(std::move(out));
}

}  // namespace

std::optional<ReadModel> read_permission_rule(const bj::value& input, const bj::array& loc,
                                              Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.take(out, "tool_name", read_str);
    // `str | None` without a default: the key is required, null is allowed.
    in.take(out, "rule_content", read_str, nullptr, true);
    in.take(out, "behavior", choice_reader(kPermissionBehaviors, true));
    in.take(out, "source", read_str);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_tool_call_block(const bj::value& input, const bj::array& loc,
                                              Issues& issues) {
    static const ValueReader kRules = list_reader(model_reader(read_permission_rule));
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", block_type::kToolCall);
    in.take(out, "id", read_str);
    in.take(out, "name", read_str);
    in.take(out, "input", read_str);
    in.take(out, "state", choice_reader(kToolCallStates, true),
            [] { return bj::value(tool_call_state::kPending); });
    in.take(out, "suggested_rules", kRules, kEmptyList);
    in.take(out, "created_at", read_str, kNow);
    in.take(out, "finished_at", read_str, kNull, true);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_tool_result_block(const bj::value& input, const bj::array& loc,
                                                Issues& issues) {
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.literal(out, "type", block_type::kToolResult);
    in.take(out, "id", read_str);
    in.take(out, "name", read_str);
    in.take(out, "output", text_or_blocks_reader());
    in.take(out, "state", choice_reader(kToolResultStates, true),
            [] { return bj::value(tool_result_state::kRunning); });
    in.take(out, "metadata", read_dict, kEmptyDict);
    in.take(out, "created_at", read_str, kNow);
    in.take(out, "finished_at", read_str, kNull, true);
    return in.finish(std::move(out));
}

std::optional<ReadModel> read_content_block(const bj::value& input, const bj::array& loc,
                                            Issues& issues) {
    static const UnionBranch kBranches[] = {
        {"TextBlock", read_text_block},
        {"ThinkingBlock", read_thinking_block},
        {"HintBlock", read_hint_block},
        {"ToolCallBlock", read_tool_call_block},
        {"ToolResultBlock", read_tool_result_block},
        {"DataBlock", read_data_block},
    };
    auto m = read_smart_union(input, loc, issues, kBranches);
    if (!m) return std::nullopt;
    return ReadModel{std::move(m->value), std::nullopt};
}

std::optional<ReadModel> read_msg(const bj::value& input, const bj::array& loc, Issues& issues) {
    static const ValueReader kContent = list_reader(model_reader(read_content_block));
    static const ValueReader kUsage = model_reader(read_usage);
    static const ValueReader kError = model_reader(read_error_info);
    ModelFields in(input, loc, issues);
    if (!in.is_object()) return std::nullopt;
    bj::object out;
    in.take(out, "name", read_str);
    in.take(out, "content", kContent);
    in.take(out, "role", choice_reader(kRoles, false));
    in.take(out, "id", read_str, kNewId);
    in.take(out, "metadata", read_dict, kEmptyDict);
    in.take(out, "created_at", read_str, kNow);
    in.take(out, "usage", kUsage, kNull, true);
    in.take(out, "finished_at", read_str, kNull, true);
    in.take(out, "finished_reason", choice_reader(kReplyFinishedReasons, true), kNull, true);
    in.take(out, "structured_output", read_dict, kNull, true);
    in.take(out, "error", kError, kNull, true);
    if (in.failed()) return std::nullopt;
    // The role check is a model validator: it runs only once the fields are valid.
    if (const char* why =
            role_violation(out.at("role").as_string(), out.at("content").as_array())) {
        bj::object ctx;
        ctx["error"] = bj::object{};
        issues.add("value_error", loc, std::string("Value error, ") + why, input, std::move(ctx));
        return std::nullopt;
    }
    return in.finish(std::move(out));
}

std::optional<bj::object> parse_msg(const bj::value& input, const bj::array& loc, Issues& issues) {
    auto m = read_msg(input, loc, issues);
    if (!m) return std::nullopt;
    return std::move(m->value.get_object());
}

// ---------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------

namespace {

int default_port(std::string_view scheme) {
    if (scheme == "http" || scheme == "ws") return 80;
    if (scheme == "https" || scheme == "wss") return 443;
    if (scheme == "ftp") return 21;
    return -1;
}

bool is_special(std::string_view scheme) { return default_port(scheme) >= 0 || scheme == "file"; }

enum class EncodeSet { kControl, kFragment, kQuery, kSpecialQuery, kPath };

bool needs_escape(unsigned char c, EncodeSet set) {
    if (c < 0x20 || c >= 0x7f) return true;
    switch (set) {
        case EncodeSet::kControl:
            return false;
        case EncodeSet::kFragment:
            return c == ' ' || c == '"' || c == '<' || c == '>' || c == '`';
        case EncodeSet::kQuery:
            return c == ' ' || c == '"' || c == '#' || c == '<' || c == '>';
        case EncodeSet::kSpecialQuery:
            return c == ' ' || c == '"' || c == '#' || c == '<' || c == '>' || c == '\'';
        case EncodeSet::kPath:
            return c == ' ' || c == '"' || c == '#' || c == '<' || c == '>' || c == '?' ||
                   c == '`' || c == '{' || c == '}';
    }
    return false;
}

void append_escaped(std::string& out, std::string_view s, EncodeSet set) {
    static const char* kHex = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if (needs_escape(c, set)) {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
}

/// Resolves "." and ".." segments of an absolute path.
std::string normalize_path(std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t pos = 1;  // skip the leading '/'
    while (true) {
        std::size_t slash = path.find('/', pos);
        std::string_view seg =
            path.substr(pos, slash == std::string_view::npos ? path.npos : slash - pos);
        bool last = slash == std::string_view::npos;
        if (seg == "..") {
            if (!segments.empty()) segments.pop_back();
            if (last) segments.emplace_back();
        } else if (seg == ".") {
            if (last) segments.emplace_back();
        } else {
            segments.push_back(seg);
        }
        if (last) break;
        pos = slash + 1;
    }
    std::string out;
    for (auto seg : segments) {
        out += '/';
        append_escaped(out, seg, EncodeSet::kPath);
    }
    if (out.empty()) out = "/";
    return out;
}

void append_query_fragment(std::string& out, std::string_view rest, bool special) {
    auto hash = rest.find('#');
    std::string_view query = rest.substr(0, hash);
    if (!query.empty())
        append_escaped(out, query, special ? EncodeSet::kSpecialQuery : EncodeSet::kQuery);
    if (hash != std::string_view::npos) {
        out += '#';
        append_escaped(out, rest.substr(hash + 1), EncodeSet::kFragment);
    }
}

}  // namespace

std::optional<std::string> normalize_url(std::string_view text, std::string* error) {
    auto fail = [&](const char* why) -> std::optional<std::string> {
        if (error) *error = why;
        return std::nullopt;
    };
    while (!text.empty() && static_cast<unsigned char>(text.front()) <= 0x20) text.remove_prefix(1);
    while (!text.empty() && static_cast<unsigned char>(text.back()) <= 0x20) text.remove_suffix(1);
    std::string input;
    for (char c : text)
        if (c != '\t' && c != '\n' && c != '\r') input += c;
    if (input.empty()) return fail("input is empty");

    std::size_t colon = 0;
    if (!std::isalpha(static_cast<unsigned char>(input[0])))
        return fail("relative URL without a base");
    while (colon < input.size() && input[colon] != ':') {
        unsigned char c = static_cast<unsigned char>(input[colon]);
        if (!std::isalnum(c) && c != '+' && c != '-' && c != '.')
            return fail("relative URL without a base");
        ++colon;
    }
    if (colon == input.size()) return fail("relative URL without a base");
    std::string scheme = input.substr(0, colon);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view rest = std::string_view(input).substr(colon + 1);

    std::string out = scheme + ":";
    if (!is_special(scheme)) {
        // Opaque or non-special URL: kept as written apart from escaping.
        auto cut = rest.find_first_of("?#");
        append_escaped(out, rest.substr(0, cut),
                       rest.starts_with("//") ? EncodeSet::kPath : EncodeSet::kControl);
        if (cut != std::string_view::npos) {
            if (rest[cut] == '?') out += '?';
            append_query_fragment(out, rest.substr(cut + (rest[cut] == '?' ? 1 : 0)), false);
        }
        return out;
    }

    bool file = scheme == "file";
    std::size_t slashes = 0;
    while (slashes < rest.size() && (rest[slashes] == '/' || rest[slashes] == '\\')) ++slashes;
    if (file && slashes < 2) {
        // file:/path or file:path — no authority.
        rest.remove_prefix(slashes);
        std::string path = "/";
        path += rest.substr(0, rest.find_first_of("?#"));
        std::replace(path.begin(), path.end(), '\\', '/');
        out += "//" + normalize_path(path);
        auto cut = rest.find_first_of("?#");
        if (cut != std::string_view::npos) {
            if (rest[cut] == '?') out += '?';
            append_query_fragment(out, rest.substr(cut + (rest[cut] == '?' ? 1 : 0)), true);
        }
        return out;
    }
    // A file URL's authority follows exactly two slashes ("file:///p" has an empty host).
    rest.remove_prefix(file ? 2 : slashes);
    std::size_t auth_end = rest.find_first_of("/\\?#");
    std::string_view authority = rest.substr(0, auth_end);
    rest = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);

    std::string userinfo;
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        append_escaped(userinfo, authority.substr(0, at), EncodeSet::kPath);
        userinfo += '@';
        authority.remove_prefix(at + 1);
    }
    std::string_view host = authority;
    std::string_view port;
    if (host.starts_with('[')) {
        auto close = host.find(']');
        if (close == std::string_view::npos) return fail("invalid IPv6 address");
        port = host.substr(close + 1);
        host = host.substr(0, close + 1);
        if (!port.empty()) {
            if (port[0] != ':') return fail("invalid port number");
            port.remove_prefix(1);
        }
    } else if (auto c = host.rfind(':'); c != std::string_view::npos) {
        port = host.substr(c + 1);
        host = host.substr(0, c);
    }
    if (host.empty()) {
        if (!file) return fail("empty host");
    }
    std::string host_out;
    for (unsigned char c : host) {
        if (c == ' ' || c == '#' || c == '%' || c == '/' || c == '<' || c == '>' || c == '?' ||
            c == '@' || c == '\\' || c == '^' || c == '|' || (c == ':' && !host.starts_with('[')))
            return fail("invalid international domain name");
        host_out += static_cast<char>(std::tolower(c));
    }
    std::string port_out;
    if (!port.empty()) {
        unsigned long value = 0;
        auto res = std::from_chars(port.data(), port.data() + port.size(), value);
        if (res.ec != std::errc() || res.ptr != port.data() + port.size() || value > 65535)
            return fail("invalid port number");
        if (static_cast<int>(value) != default_port(scheme)) port_out = ":" + std::to_string(value);
    }
    out += "//" + userinfo + host_out + port_out;

    auto cut = rest.find_first_of("?#");
    std::string path(rest.substr(0, cut));
    std::replace(path.begin(), path.end(), '\\', '/');
    if (path.empty()) path = "/";
    out += normalize_path(path);
    if (cut != std::string_view::npos) {
        if (rest[cut] == '?') out += '?';
        append_query_fragment(out, rest.substr(cut + (rest[cut] == '?' ? 1 : 0)), true);
    }
    return out;
}

}  // namespace agentd::domain
