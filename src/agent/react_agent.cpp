#include "agent/react_agent.hpp"

#include <algorithm>
#include <cmath>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/context_budget.hpp"
#include "agent/structured_output_tool.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"
#include "domain/event.hpp"
#include "domain/message.hpp"
#include "common/error.hpp"
#include "common/python_json_error.hpp"
#include "common/json_schema.hpp"
#include "common/python_repr.hpp"
#include "model/structured_output.hpp"

namespace agentd::agent {

namespace ev = domain::event;

namespace {

using domain::kInterruptedToolText;

domain::Usage to_domain(const model::Usage& u) {
    domain::Usage d;
    d.input_tokens = u.input_tokens;
    d.output_tokens = u.output_tokens;
    d.cache_input_tokens = u.cache_input_tokens;
    d.cache_creation_input_tokens = u.cache_creation_input_tokens;
    return d;
}

/// Turns a model's aggregated block into the block kept in context.
std::optional<bj::object> context_block(const bj::value& v) {
    if (!v.is_object()) return std::nullopt;
    const auto& b = v.get_object();
    auto type = json::str_at(b, "type");
    if (type == "text") return domain::text_block(json::str_at(b, "text"));
    if (type == "tool_call") {
        auto input = b.contains("input") && b.at("input").is_string() ? json::str_at(b, "input") : std::string_view("{}");
        return domain::tool_call_block(json::str_at(b, "id"), json::str_at(b, "name"), input);
    }
    if (type == "thinking") {
        bj::object out = domain::thinking_block(json::str_at(b, "thinking"));
        for (const auto& kv : b)  // provider extras (signatures) ride along
            if (!out.contains(kv.key())) out[kv.key()] = kv.value();
        return out;
    }
    if (type == "data") {
        // Audio produced by the model is streamed but not kept in context (spec §2.5).
        if (b.contains("source") && b.at("source").is_object()) {
            auto media = json::str_at(b.at("source").get_object(), "media_type");
            if (media.rfind("audio/", 0) == 0) return std::nullopt;
        }
        return b;
    }
    return b;
}

/// Streams a model call's chunks as block events (data-model §6.4).
class ChunkEvents {
public:
    ChunkEvents(ReplySink& sink, std::string reply_id) : sink_(sink), reply_id_(std::move(reply_id)) {}

    void on_chunk(const model::ModelChunk& c) {
        const bool has_data = !c.data.empty();
        if (!c.thinking.empty()) {
            if (thinking_.empty()) {
                thinking_ = new_id();
                sink_.emit(ev::thinking_block_start(reply_id_, thinking_));
            }
            sink_.emit(ev::thinking_block_delta(reply_id_, thinking_, c.thinking));
        } else if (!thinking_.empty() && !has_data) {
            sink_.emit(ev::thinking_block_end(reply_id_, thinking_));
            thinking_.clear();
        }
        if (!c.text.empty()) {
            if (text_.empty()) {
                text_ = new_id();
                sink_.emit(ev::text_block_start(reply_id_, text_));
            }
            sink_.emit(ev::text_block_delta(reply_id_, text_, c.text));
        } else if (!text_.empty() && !has_data) {
            sink_.emit(ev::text_block_end(reply_id_, text_));
            text_.clear();
        }
        std::vector<std::string> seen;
        for (const auto& tc : c.tool_calls) {
            if (std::find(open_calls_.begin(), open_calls_.end(), tc.id) == open_calls_.end()) {
                open_calls_.push_back(tc.id);
                sink_.emit(ev::tool_call_start(reply_id_, tc.id, tc.name));
            }
            sink_.emit(ev::tool_call_delta(reply_id_, tc.id, tc.arguments));
            seen.push_back(tc.id);
        }
        for (auto it = open_calls_.begin(); it != open_calls_.end();) {
            if (std::find(seen.begin(), seen.end(), *it) == seen.end()) {
                sink_.emit(ev::tool_call_end(reply_id_, *it));
                it = open_calls_.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& d : c.data) {
            if (std::find(data_.begin(), data_.end(), d.block_id) == data_.end()) {
                data_.push_back(d.block_id);
                sink_.emit(ev::data_block_start(reply_id_, d.block_id, d.media_type));
            }
            sink_.emit(ev::data_block_delta(reply_id_, d.block_id, d.base64, d.media_type));
        }
    }

    /// Ends whatever is still open, in the reference's order.
    void flush() {
        if (!text_.empty()) sink_.emit(ev::text_block_end(reply_id_, text_));
        if (!thinking_.empty()) sink_.emit(ev::thinking_block_end(reply_id_, thinking_));
        for (const auto& id : open_calls_) sink_.emit(ev::tool_call_end(reply_id_, id));
        for (const auto& id : data_) sink_.emit(ev::data_block_end(reply_id_, id));
        text_.clear();
        thinking_.clear();
        open_calls_.clear();
        data_.clear();
    }

private:
    ReplySink& sink_;
    std::string reply_id_;
    std::string thinking_, text_;
    std::vector<std::string> open_calls_;
    std::vector<std::string> data_;
};

}  // namespace

/// The runtime-state reminder with its fields, each `<key>value</key>` on its own line.
std::string runtime_state_hint(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string body;
    for (const auto& [key, value] : fields) {
        if (!body.empty()) body += "\n";
        body += "<" + key + ">" + value + "</" + key + ">";
    }
    return "<system-reminder>Treat the following as the ground truth at this point of the conversation. "
           "Anything stated earlier is outdated, and a later reminder, if any, supersedes this one:\n" +
           body + "\n</system-reminder>";
}

/// Python's name for the type of a decoded JSON value.
std::string_view python_type(const bj::value& v) {
    switch (v.kind()) {
        case bj::kind::array: return "list";
        case bj::kind::string: return "str";
        case bj::kind::int64:
        case bj::kind::uint64: return "int";
        case bj::kind::double_: return "float";
        case bj::kind::bool_: return "bool";
        case bj::kind::null: return "NoneType";
        default: return "dict";
    }
}

/// The first `n` code points of UTF-8 text, or (from_end) the last `n`.
std::string_view code_points(std::string_view s, std::size_t n, bool from_end) {
    auto is_lead = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; };
    if (!from_end) {
        std::size_t i = 0, seen = 0;
        for (; i < s.size(); ++i)
            if (is_lead(s[i]) && seen++ == n) break;
        return s.substr(0, i);
    }
    std::size_t i = s.size(), seen = 0;
    while (i > 0 && seen < n) {
        --i;
        if (is_lead(s[i])) ++seen;
    }
    return s.substr(i);
}

/// Why a tool call's argument string is not a JSON object, worded as the
/// reference tells the model (spec/tools-workspace.md §2.3 step 2); nullopt
/// when it is one. No JSON repair is attempted.
std::optional<std::string> arguments_error(std::string_view text, const json::ParseResult& parsed) {
    std::string why;
    if (parsed.value) {
        if (parsed.value->is_object()) return std::nullopt;
        why = "Error: Your argument string is decoded into a <class '" + std::string(python_type(*parsed.value)) +
              "'> object, but a dict object is expected!";
    } else {
        std::string detail = "Expecting value: line 1 column 1 (char 0)";
        if (auto e = json::python_json_error(text)) {
            // JSONDecodeError's str(): "<msg>: line L column C (char P)", positions in code points.
            std::size_t line = 1, column = e->pos + 1, index = 0;
            for (std::size_t i = 0; i < text.size() && index < e->pos; ++i) {
                if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
                if (text[i] == '\n') {
                    ++line;
                    column = e->pos - index;
                }
                ++index;
            }
            detail = e->msg + ": line " + std::to_string(line) + " column " + std::to_string(column) + " (char " +
                     std::to_string(e->pos) + ")";
        }
        why = "Error: When decoding your tool arguments from JSON format to a Python dictionary, a JSONDecodeError "
              "was raised with message: " + detail + ".";
    }
    std::string shown(text);
    std::string hint;
    if (code_points(text, 201, false).size() < text.size()) {  // more than 200 code points
        shown = std::string(code_points(text, 100, false)) + "[TRUNCATE]" + std::string(code_points(text, 100, true));
        hint = "(Because the JSON string is too long, a truncated label \"[TRUNCATE]\" is used here to indicate the "
               "truncation)";
    }
    return "<system-reminder>" + why + "\n\nYour argument string is decoded by the following code snippet" + hint +
           ":\n```python\nimport json\n\nyour_tool_arguments = " + py_repr(shown) +
           "\njson.loads(your_tool_arguments)\n```\n\n**You should recorrect the arguments in JSON format.**"
           "</system-reminder>";
}

bool is_task_tool(std::string_view name) {
    return name == "TaskCreate" || name == "TaskGet" || name == "TaskList" || name == "TaskUpdate";
}

std::string structured_output_hint(bool forced) {
    const std::string_view suffix =
        forced ? "You have reached the maximum reasoning-acting iterations, so call this tool at once to generate "
                 "the final structured output."
               : "Call it when you are ready to generate the final structured output.";
    return "<system-reminder>You're required to generate structured output by calling the '" +
           std::string(kStructuredOutputToolName) + "' tool. " + std::string(suffix) + "</system-reminder>";
}

ReactAgent::ReactAgent(AgentProfile profile, model::ChatModel& model, Toolkit& toolkit, std::string session_id,
                       domain::SessionState& state, bj::array& context, ReplySink& sink, CancellationPtr cancel)
    : profile_(std::move(profile)), model_(model), toolkit_(toolkit), session_id_(std::move(session_id)),
      state_(state), context_(context), sink_(sink), cancel_(std::move(cancel)), context_mark_(context.size()) {
    load_context_scan();
}

namespace {
constexpr std::int64_t kContextScanVersion = 1;

std::optional<std::int64_t> int_field(const bj::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_int64() || v->get_int64() < 0) return std::nullopt;
    return v->get_int64();
}
}  // namespace

void ReactAgent::load_context_scan() {
    const auto* scan = state_.middle_context.if_contains(kContextScanKey);
    if (!scan || !scan->is_object()) return;
    const auto& o = scan->get_object();
    auto version = int_field(o, "v");
    auto counted = int_field(o, "counted");
    auto tokens = int_field(o, "tokens");
    auto images = int_field(o, "images");
    auto scanned = int_field(o, "scanned");
    const auto* tasks = o.if_contains("tasks_known");
    const auto* last = o.if_contains("last_time_us");
    const std::size_t before_tail = context_.empty() ? 0 : context_.size() - 1;
    // Anything inconsistent with the context (another version, a rewritten
    // history) is ignored: the scans then start from the first message.
    if (version != kContextScanVersion || !counted || !tokens || !images || !scanned || !tasks || !tasks->is_bool() ||
        !last || !(last->is_null() || last->is_int64()) || static_cast<std::size_t>(*counted) > before_tail ||
        static_cast<std::size_t>(*scanned) > before_tail)
        return;
    counted_ = static_cast<std::size_t>(*counted);
    counted_tokens_ = *tokens;
    counted_images_ = *images;
    injection_scan_from_ = static_cast<std::size_t>(*scanned);
    tasks_known_ = tasks->get_bool();
    if (last->is_int64()) last_injection_us_ = last->get_int64();
}

void ReactAgent::store_context_scan() {
    state_.middle_context[kContextScanKey] =
        bj::object{{"v", kContextScanVersion},
                   {"counted", static_cast<std::int64_t>(counted_)},
                   {"tokens", counted_tokens_},
                   {"images", counted_images_},
                   {"scanned", static_cast<std::int64_t>(injection_scan_from_)},
                   {"last_time_us", last_injection_us_ ? bj::value(*last_injection_us_) : bj::value(nullptr)},
                   {"tasks_known", tasks_known_}};
}

std::int64_t ReactAgent::cur_iter() const {
    auto it = state_.reply_context.find("cur_iter");
    return (it != state_.reply_context.end() && it->value().is_int64()) ? it->value().get_int64() : 0;
}

void ReactAgent::set_cur_iter(std::int64_t v) { state_.reply_context["cur_iter"] = v; }

bool ReactAgent::has_reply_message() const {
    if (context_.empty() || !context_.back().is_object()) return false;
    const auto& m = context_.back().get_object();
    return json::str_at(m, "role") == "assistant" && json::str_at(m, "id") == reply_id_ && json::str_at(m, "name") == profile_.name;
}

bj::object& ReactAgent::reply_message() {
    if (!has_reply_message()) {
        domain::MsgOptions opts;
        opts.id = reply_id_;
        context_.push_back(domain::assistant_msg(profile_.name, bj::array{}, opts));
    }
    dirty_ = true;
    return context_.back().get_object();
}

void ReactAgent::append_blocks(const bj::array& blocks) {
    auto& content = domain::content_of(reply_message());
    for (const auto& b : blocks) content.push_back(b);
}

std::vector<bj::object*> ReactAgent::unfinished_calls() {
    std::vector<bj::object*> out;
    if (!has_reply_message()) return out;
    auto& msg = context_.back().get_object();
    auto& content = domain::content_of(msg);
    for (auto& b : content) {
        if (!b.is_object() || json::str_at(b.get_object(), "type") != "tool_call") continue;
        auto id = json::str_at(b.get_object(), "id");
        bool has_result = false;
        for (const auto& r : content)
            if (r.is_object() && json::str_at(r.get_object(), "type") == "tool_result" && json::str_at(r.get_object(), "id") == id)
                has_result = true;
        if (!has_result) out.push_back(&b.get_object());
    }
    return out;
}

namespace {

bool is_image(const bj::value& v) {
    if (!v.is_object()) return false;
    const auto& b = v.get_object();
    if (json::str_at(b, "type") != "data") return false;
    const auto* src = b.if_contains("source");
    return src && src->is_object() && json::str_at(src->get_object(), "media_type").starts_with("image/");
}

/// The nested block list of a tool result (output) or a hint, when it is a list.
const bj::array* nested_blocks(const bj::object& block) {
    auto type = json::str_at(block, "type");
    const char* key = type == "tool_result" ? "output" : type == "hint" ? "hint" : nullptr;
    if (!key) return nullptr;
    const auto* v = block.if_contains(key);
    return v && v->is_array() ? &v->get_array() : nullptr;
}

bj::array* nested_blocks(bj::object& block) {
    return const_cast<bj::array*>(nested_blocks(static_cast<const bj::object&>(block)));
}

/// The URL an image block can be found at: its own, when its source is one.
std::string image_url(const bj::object& image) {
    const auto* src = image.if_contains("source");
    if (!src || !src->is_object() || json::str_at(src->get_object(), "type") != "url") return {};
    return std::string(json::str_at(src->get_object(), "url"));
}

std::string image_reminder(const bj::object& image, const std::string& url) {
    std::string name(json::str_at(image, "name"));
    std::string named = name.empty() ? "" : "named '" + name + "' ";
    if (!url.empty())
        return "<system-reminder>The image " + named + "is offloaded into " + url +
               ", you can refer to it when needed.</system-reminder>";
    return "<system-reminder>The image " + named + "is removed to free up context space.</system-reminder>";
}

}  // namespace

void ReactAgent::refresh_cost_cache() {
    const std::size_t before_tail = context_.empty() ? 0 : context_.size() - 1;
    if (counted_ > before_tail) {  // the context was rewritten (compaction): count afresh
        counted_ = 0;
        counted_tokens_ = 0;
        counted_images_ = 0;
    }
    for (; counted_ < before_tail; ++counted_) {
        auto cost = estimate_cost(context_[counted_]);
        counted_tokens_ += cost.tokens;
        counted_images_ += cost.images;
    }
}

void ReactAgent::recount(std::size_t index, const ContextCost& before) {
    if (index >= counted_) return;
    auto after = estimate_cost(context_[index]);
    counted_tokens_ += after.tokens - before.tokens;
    counted_images_ += after.images - before.images;
}

boost::asio::awaitable<void> ReactAgent::limit_images() {
    if (profile_.max_image_num < 0) co_return;
    // Counts of messages before the tail are kept with their token counts: the
    // check costs nothing per step until a new image crosses the limit.
    refresh_cost_cache();
    std::int64_t total = counted_images_ + (context_.empty() ? 0 : estimate_cost(context_.back()).images);
    std::int64_t excess = total - profile_.max_image_num;
    if (excess <= 0) co_return;
    // Oldest first; a top-level image of a non-user message becomes a hint,
    // every other one a text block (what its container accepts).
    struct Replacement {
        std::size_t message;
        bj::value* block;  ///< into context_, which nothing else changes meanwhile
        bool as_hint;
        std::string text;
    };
    std::vector<Replacement> plan;
    std::vector<std::pair<std::size_t, ContextCost>> before;  // each message changed, with its cost before
    for (std::size_t i = 0; i < context_.size() && excess > 0; ++i) {
        if (!context_[i].is_object()) continue;
        const ContextCost cost = estimate_cost(context_[i]);
        if (cost.images == 0) continue;
        auto& msg = context_[i].get_object();
        auto* content = msg.if_contains("content");
        if (!content || !content->is_array()) continue;
        const bool user = json::str_at(msg, "role") == "user";
        const std::size_t planned = plan.size();
        for (auto& b : content->get_array()) {
            if (excess <= 0) break;
            if (is_image(b)) {
                plan.push_back({i, &b, !user, {}});
                --excess;
            } else if (b.is_object()) {
                if (auto* nested = nested_blocks(b.get_object())) {
                    for (auto& sub : *nested) {
                        if (excess <= 0) break;
                        if (!is_image(sub)) continue;
                        plan.push_back({i, &sub, false, {}});
                        --excess;
                    }
                }
            }
        }
        if (plan.size() > planned) before.emplace_back(i, cost);
    }
    // The payloads are stored first and the blocks replaced together afterwards,
    // so an interrupt in between leaves the context as it was.
    for (auto& r : plan) {
        const auto& image = r.block->get_object();
        std::string url = image_url(image);
        if (url.empty() && context_offloader_) {
            const bj::object stored = co_await context_offloader_->offload_data_block(image);
            url = image_url(stored);
        }
        r.text = image_reminder(image, url);
    }
    for (auto& r : plan) *r.block = r.as_hint ? domain::hint_block(bj::value(r.text)) : domain::text_block(r.text);
    for (const auto& [i, cost] : before) {
        if (i + 1 == context_.size()) {
            mark_dirty();
        } else {
            touched_.push_back(i);
            recount(i, cost);
        }
    }
}

boost::asio::awaitable<void> ReactAgent::checkpoint() {
    store_context_scan();
    std::vector<const bj::object*> changed;
    if (context_replaced_) {
        for (const auto& m : context_)
            if (m.is_object()) changed.push_back(&m.get_object());
        context_mark_ = context_.size();
        dirty_ = false;
        context_replaced_ = false;
        touched_.clear();
        co_await sink_.checkpoint(changed, true);
        co_return;
    }
    // Messages appended since the last checkpoint, and the tail if it was modified.
    std::size_t from = std::min(context_mark_, context_.size());
    if (dirty_ && from == context_.size() && !context_.empty()) from = context_.size() - 1;
    // Older messages changed in place (images replaced) go first, each once.
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (auto i : touched_)
        if (i < from && context_[i].is_object()) changed.push_back(&context_[i].get_object());
    touched_.clear();
    for (std::size_t i = from; i < context_.size(); ++i)
        if (context_[i].is_object()) changed.push_back(&context_[i].get_object());
    context_mark_ = context_.size();
    dirty_ = false;
    co_await sink_.checkpoint(changed, false);
}

void ReactAgent::maybe_inject_runtime_state() {
    // Fields (spec §4.9): the current time when no runtime-state hint of this
    // context carries one from the last half hour; the open tasks when the
    // context shows no task tool call and no earlier tasks reminder; the
    // context length at the start of a reply when it nears compaction.
    constexpr std::int64_t kIntervalUs = 30LL * 60 * 1000000;
    constexpr double kContextBufferRatio = 0.2;
    std::int64_t now = clock::now_us();
    // Only messages not scanned before are read: the scan is incremental, so a long
    // conversation does not cost a full pass per step.
    if (injection_scan_from_ > context_.size()) {  // the context was rewritten under us: start over
        injection_scan_from_ = 0;
        last_injection_us_.reset();
        tasks_known_ = false;
    }
    std::optional<std::int64_t> last = last_injection_us_;
    for (std::size_t i = injection_scan_from_; i < context_.size(); ++i) {
        const auto& m = context_[i];
        if (!m.is_object()) continue;
        const auto& msg = m.get_object();
        if (!msg.contains("content") || !msg.at("content").is_array()) continue;
        for (const auto& b : msg.at("content").get_array()) {
            if (!b.is_object()) continue;
            const auto& blk = b.get_object();
            auto type = json::str_at(blk, "type");
            if (type == "tool_call" && is_task_tool(json::str_at(blk, "name"))) tasks_known_ = true;
            if (type != "hint" || json::str_at(blk, "source") != kRuntimeStateSource) continue;
            auto text = json::str_at(blk, "hint");
            if (text.find("<tasks>") != std::string_view::npos) tasks_known_ = true;
            auto start = text.find("<current-time>");
            auto end = text.find("</current-time>");
            if (start == std::string_view::npos || end == std::string_view::npos) continue;
            std::string stamp(text.substr(start + 14, end - start - 14));
            std::tm tm{};
            if (strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) last = static_cast<std::int64_t>(timegm(&tm)) * 1000000;
        }
    }
    // The tail (the reply in progress) keeps changing: rescan it next time.
    injection_scan_from_ = context_.empty() ? 0 : context_.size() - 1;
    last_injection_us_ = last;

    std::vector<std::pair<std::string, std::string>> fields;
    if (!last || now - *last < 0 || now - *last > kIntervalUs) {
        fields.emplace_back("current-time", clock::iso_utc(now - now % 1000000));
        fields.emplace_back("timezone", "UTC");
    }
    std::int64_t pending = 0, in_progress = 0;
    if (const auto* tasks = state_.tasks_context.if_contains("tasks"); tasks && tasks->is_array()) {
        for (const auto& t : tasks->get_array()) {
            if (!t.is_object()) continue;
            auto st = json::str_at(t.get_object(), "state");
            if (st == "pending") ++pending;
            if (st == "in_progress") ++in_progress;
        }
    }
    if ((pending > 0 || in_progress > 0) && !tasks_known_) {
        fields.emplace_back("tasks", "You have " + std::to_string(in_progress) + " in-progress tasks and " +
                                         std::to_string(pending) +
                                         " pending tasks. Use `TaskList` to view them if you don't know.");
    }
    if (cur_iter() == 0 && profile_.context_size > 0) {
        refresh_cost_cache();
        std::int64_t tokens = estimate_tokens(bj::value(profile_.system_prompt)) + estimate_tokens(state_.summary) +
                              tool_schema_tokens() + counted_tokens_;
        if (!context_.empty()) tokens += estimate_tokens(context_.back());
        const double size = static_cast<double>(profile_.context_size);
        if (static_cast<double>(tokens) > std::max(0.0, profile_.trigger_ratio - kContextBufferRatio) * size) {
            const auto trigger = static_cast<std::int64_t>(profile_.trigger_ratio * size);
            fields.emplace_back("context-length", "Your current context contains " + std::to_string(tokens) +
                                                      " tokens. When reaching " + std::to_string(trigger) +
                                                      " tokens, your context will be compressed.");
        }
    }
    if (fields.empty()) return;
    std::string hint = runtime_state_hint(fields);
    std::string block_id = new_id();
    auto event = ev::hint_block(reply_id_, block_id, bj::value(hint), bj::value(kRuntimeStateSource));
    domain::BlockStamp stamp;
    stamp.id = block_id;
    stamp.created_at = std::string(json::str_at(event, "created_at"));
    append_blocks(bj::array{domain::hint_block(bj::value(hint), bj::value(kRuntimeStateSource), stamp)});
    if (fields.front().first == "current-time") last_injection_us_ = now - now % 1000000;
    if (!tasks_known_ && (pending > 0 || in_progress > 0)) tasks_known_ = true;
    sink_.emit(event);
}

ReactAgent::Opening ReactAgent::open_reply(domain::SessionState& state, bj::array& context, const bj::array& inputs,
                                           const std::string& session_id, const std::string& agent_name,
                                           std::optional<bj::object> structured_schema) {
    if (structured_schema) check_structured_schema(*structured_schema);
    Opening opening;
    opening.reply_id = new_id();
    state.reply_context = bj::object{{"reply_id", opening.reply_id},
                                     {"cur_iter", 0},
                                     {"structured_schema", structured_schema ? bj::value(std::move(*structured_schema))
                                                                             : bj::value(nullptr)},
                                     {"structured_output", nullptr}};
    state.session_id = session_id;
    for (const auto& m : inputs) context.push_back(m);
    opening.reply_start = ev::reply_start(session_id, opening.reply_id, agent_name);
    return opening;
}

boost::asio::awaitable<void> ReactAgent::reply(const bj::array& inputs, std::optional<bj::object> structured_schema) {
    const Opening opening = open_reply(state_, context_, inputs, session_id_, profile_.name, std::move(structured_schema));
    reply_id_ = opening.reply_id;
    final_message_.reset();
    sink_.emit(opening.reply_start);
    equip_structured_output();
    co_await checkpoint();
    co_await loop();
}

boost::asio::awaitable<void> ReactAgent::reply_opened(const Opening& opening) {
    reply_id_ = opening.reply_id;
    final_message_.reset();
    sink_.emit(opening.reply_start);
    equip_structured_output();
    co_await loop();
}

const bj::object* ReactAgent::required_schema() const {
    const auto* schema = state_.reply_context.if_contains("structured_schema");
    return schema ? schema->if_object() : nullptr;
}

void ReactAgent::equip_structured_output() {
    toolkit_.remove(kStructuredOutputToolName);
    if (const auto* schema = required_schema()) toolkit_.add(std::make_shared<StructuredOutputTool>(*schema));
}

bj::object ReactAgent::notice(std::string_view text, bj::value finished_reason, bj::value structured_output) const {
    domain::MsgOptions opts;
    opts.id = reply_id_;
    opts.finished_reason = std::move(finished_reason);
    opts.structured_output = std::move(structured_output);
    return domain::assistant_msg(profile_.name, bj::array{domain::text_block(text)}, std::move(opts));
}

namespace {

/// The tail reply's calls without results, split the way the next-action
/// decision needs them (spec §4.3).
struct OpenCalls {
    std::vector<std::string> executable;  ///< allowed ones, and pending ones when nothing awaits
    bool awaiting = false;                ///< something is asking or submitted
};

OpenCalls open_calls(const bj::object& msg) {
    OpenCalls out;
    std::vector<std::string> allowed_or_pending;
    std::vector<bool> is_allowed;
    const auto& content = msg.at("content").get_array();
    for (const auto& b : content) {
        if (!b.is_object() || json::str_at(b.get_object(), "type") != "tool_call") continue;
        const auto& call = b.get_object();
        auto id = json::str_at(call, "id");
        if (domain::find_block(msg, "tool_result", id)) continue;
        auto state = json::str_at(call, "state");
        if (state == "asking" || state == "submitted") {
            out.awaiting = true;
            continue;
        }
        allowed_or_pending.emplace_back(id);
        is_allowed.push_back(state == "allowed");
    }
    for (std::size_t i = 0; i < allowed_or_pending.size(); ++i)
        if (is_allowed[i] || !out.awaiting) out.executable.push_back(std::move(allowed_or_pending[i]));
    return out;
}

}  // namespace

bool ReactAgent::parked() const {
    if (context_.empty() || !context_.back().is_object()) return false;
    const auto& m = context_.back().get_object();
    if (json::str_at(m, "role") != "assistant" || json::str_at(m, "name") != profile_.name) return false;
    return !domain::awaiting_tool_calls(m).empty();
}

std::optional<std::string> continuation_error(const bj::array& context, const std::string& agent_name,
                                              const bj::object& event) {
    std::vector<std::string> asking, submitted;
    if (!context.empty() && context.back().is_object()) {
        const auto& m = context.back().get_object();
        if (json::str_at(m, "role") == "assistant" && json::str_at(m, "name") == agent_name) {
            for (const auto* call : domain::awaiting_tool_calls(m)) {
                auto state = json::str_at(*call, "state");
                (state == "asking" ? asking : submitted).emplace_back(json::str_at(*call, "id"));
            }
        }
    }
    auto contains = [](const std::vector<std::string>& v, std::string_view id) {
        return std::find(v.begin(), v.end(), id) != v.end();
    };
    auto type = ev::type_of(event);
    if (type == ev::type::kUserConfirmResult) {
        if (asking.empty()) return "The session has no tool call awaiting confirmation.";
        for (const auto& r : event.at("confirm_results").get_array()) {
            auto id = json::str_at(r.get_object().at("tool_call").get_object(), "id");
            if (!contains(asking, id))
                return "Tool call " + py_repr(std::string(id)) + " is not awaiting confirmation.";
        }
        return std::nullopt;
    }
    if (type == ev::type::kExternalExecutionResult) {
        if (submitted.empty()) return "The session has no tool call awaiting an external execution result.";
        for (const auto& r : event.at("execution_results").get_array()) {
            auto id = json::str_at(r.get_object(), "id");
            if (!contains(submitted, id))
                return "Tool call " + py_repr(std::string(id)) + " is not awaiting an external execution result.";
        }
        return std::nullopt;
    }
    return std::nullopt;  // USER_INTERRUPT applies to anything
}

std::string ReactAgent::state_fingerprint() const {
    return bj::serialize(state_.tasks_context) + "\n" + bj::serialize(state_.permission_context);
}

void ReactAgent::notify_state_change(const std::string& before) {
    if (state_fingerprint() == before) return;
    sink_.notify(ev::custom("state_updated", bj::object{{"tasks_context", state_.tasks_context},
                                                        {"permission_context", state_.permission_context}}));
}

void ReactAgent::error_result(const std::string& id, const std::string& name, std::string_view state,
                              const std::string& text) {
    sink_.emit(ev::tool_result_start(reply_id_, id, name));
    sink_.emit(ev::tool_result_text_delta(reply_id_, id, text));
    auto& msg = reply_message();
    if (auto* c = domain::find_block(msg, "tool_call", id)) (*c)["state"] = "finished";
    domain::content_of(msg).push_back(domain::tool_result_block(id, name, bj::value(text), state, {}));
    sink_.emit(ev::tool_result_end(reply_id_, id, state));
}

void ReactAgent::apply_confirmations(const bj::object& event) {
    // Answers are keyed by call id (a repeated id: the last answer counts) and
    // applied in the reply's order, whatever order the client sent them in:
    // the denied calls' results follow the calls.
    std::vector<std::pair<std::string, const bj::object*>> answers;
    for (const auto& r : event.at("confirm_results").get_array()) {
        const auto& result = r.get_object();
        std::string id(json::str_at(result.at("tool_call").get_object(), "id"));
        auto same = std::find_if(answers.begin(), answers.end(), [&](const auto& a) { return a.first == id; });
        if (same != answers.end()) same->second = &result;
        else answers.emplace_back(std::move(id), &result);
    }
    std::vector<std::pair<std::string, const bj::object*>> in_order;
    for (const auto& b : domain::content_of(reply_message())) {
        if (!b.is_object() || json::str_at(b.get_object(), "type") != "tool_call") continue;
        auto id = json::str_at(b.get_object(), "id");
        auto answer = std::find_if(answers.begin(), answers.end(), [&](const auto& a) { return a.first == id; });
        if (answer == answers.end()) continue;
        in_order.push_back(std::move(*answer));
        answers.erase(answer);
    }
    // Blocks are looked up by id from here on: a denial appends to the reply.
    for (const auto& [id, answer] : in_order) {
        const auto& result = *answer;
        const auto& submitted = result.at("tool_call").get_object();
        auto* call = domain::find_block(reply_message(), "tool_call", id);
        if (!call || json::str_at(*call, "state") != "asking") continue;
        std::string name(json::str_at(*call, "name"));
        if (result.contains("confirmed") && result.at("confirmed").is_bool() && result.at("confirmed").get_bool()) {
            // Approval may edit the call: the client echoes the block it approved.
            (*call)["state"] = "allowed";
            if (submitted.contains("name") && submitted.at("name").is_string()) (*call)["name"] = submitted.at("name");
            if (submitted.contains("input") && submitted.at("input").is_string()) (*call)["input"] = submitted.at("input");
            if (result.contains("rules") && result.at("rules").is_array())
                for (const auto& rv : result.at("rules").get_array())
                    if (auto rule = permission::Rule::from_json(rv)) permission::add_rule(state_.permission_context, *rule);
        } else {
            error_result(id, name, "denied",
                         "<system-reminder>The execution of tool \"" + name + "\" is denied by user!</system-reminder>");
        }
    }
}

boost::asio::awaitable<bj::value> ReactAgent::context_tool_output(const std::string& call_id, const bj::value& output) {
    auto cut = cut_tool_output(output, profile_.tool_result_limit);
    if (!cut) co_return output;
    std::string path;
    if (context_offloader_) path = co_await context_offloader_->offload_tool_result(call_id, cut->rest);
    co_return with_reminder(std::move(cut->kept), truncated_reminder(path));
}

boost::asio::awaitable<void> ReactAgent::apply_external_results(const bj::object& event) {
    for (const auto& r : event.at("execution_results").get_array()) {
        const auto& result = r.get_object();
        std::string id(json::str_at(result, "id"));
        auto* call = domain::find_block(reply_message(), "tool_call", id);
        if (!call || json::str_at(*call, "state") != "submitted") continue;
        std::string name(json::str_at(*call, "name"));
        const bj::value output = result.contains("output") ? result.at("output") : bj::value("");
        if (output.is_string()) {
            // Even an empty text is a delta: the stored result then holds one empty text block.
            sink_.emit(ev::tool_result_text_delta(reply_id_, id, output.get_string()));
        } else if (output.is_array()) {
            for (const auto& b : output.get_array()) {
                if (!b.is_object()) continue;
                const auto& blk = b.get_object();
                if (json::str_at(blk, "type") == "text") {
                    sink_.emit(ev::tool_result_text_delta(reply_id_, id, json::str_at(blk, "text")));
                } else if (json::str_at(blk, "type") == "data" && blk.contains("source") && blk.at("source").is_object()) {
                    const auto& src = blk.at("source").get_object();
                    std::string media(json::str_at(src, "media_type"));
                    if (json::str_at(src, "type") == "url")
                        sink_.emit(ev::tool_result_data_delta(reply_id_, id, media, std::nullopt, std::string(json::str_at(src, "url"))));
                    else
                        sink_.emit(ev::tool_result_data_delta(reply_id_, id, media, std::string(json::str_at(src, "data")), std::nullopt));
                }
            }
        }
        std::string state(json::str_at(result, "state"));
        if (state.empty()) state = "success";
        bj::object metadata = result.contains("metadata") && result.at("metadata").is_object()
                                  ? result.at("metadata").get_object()
                                  : bj::object{};
        bj::value kept = co_await context_tool_output(id, output);
        // Looked up again: the offload let other work run, but nothing else changes the reply.
        call = domain::find_block(reply_message(), "tool_call", id);
        if (call) (*call)["state"] = "finished";
        domain::content_of(reply_message()).push_back(domain::tool_result_block(id, name, std::move(kept), state, metadata));
        sink_.emit(ev::tool_result_end(reply_id_, id, state, std::move(metadata)));
    }
}

boost::asio::awaitable<void> ReactAgent::resume(const bj::object& event) {
    auto it = state_.reply_context.find("reply_id");
    if (it != state_.reply_context.end() && it->value().is_string()) reply_id_ = std::string(it->value().get_string());
    state_.session_id = session_id_;
    final_message_.reset();
    auto type = ev::type_of(event);
    if (type == ev::type::kUserInterrupt) {
        if (parked()) co_await close_interrupted();
        co_return;
    }
    // Taken before the answer is applied: rules it adds are announced with the
    // rest of the turn's changes, once, when the turn ends or parks again.
    std::string before = state_fingerprint();
    if (type == ev::type::kUserConfirmResult) apply_confirmations(event);
    else if (type == ev::type::kExternalExecutionResult) co_await apply_external_results(event);
    equip_structured_output();  // the parked reply's requirement, whatever the caller wants now
    co_await checkpoint();
    co_await loop(std::move(before));
}

boost::asio::awaitable<void> ReactAgent::loop(std::optional<std::string> state_before) {
    bool final_answer = false;
    const std::string turn_start = state_before ? std::move(*state_before) : state_fingerprint();
    for (;;) {
        if (cancelled()) {
            co_await close_interrupted();
            break;
        }
        OpenCalls calls = has_reply_message() ? open_calls(context_.back().get_object()) : OpenCalls{};
        if (!calls.executable.empty()) {
            co_await acting();
            if (cancelled()) continue;  // the loop head closes the reply
            if (unfinished_calls().empty()) set_cur_iter(cur_iter() + 1);
            co_await checkpoint();
            continue;
        }
        if (calls.awaiting) {
            // Parked: no REPLY_END; the run ends and the lock is released.
            final_message_ = notice("I'm waiting for your permission or the external execution to finish.", nullptr);
            co_await checkpoint();
            break;
        }
        std::optional<bj::object> hint;
        std::optional<std::string> tool_choice;
        if (required_schema()) {
            // Structured output required: only the output ends the reply (spec §4.3 items 3-4).
            const auto* output = state_.reply_context.if_contains("structured_output");
            if (output && !output->is_null()) {
                final_message_ = notice("The required structured output is generated.", "completed", *output);
                sink_.emit(ev::reply_end(session_id_, reply_id_, "completed"));
                co_await checkpoint();
                break;
            }
            // Written as a difference: max_iters may be as large as int64 holds.
            if (cur_iter() - profile_.max_iters >= profile_.structured_output_grace_iters) {
                co_await exceed_max_iters();
                break;
            }
            const bool forced = cur_iter() >= profile_.max_iters;
            hint = domain::hint_block(bj::array{domain::text_block(structured_output_hint(forced))},
                                      bj::value(kStructuredOutputSource));
            if (forced) tool_choice = std::string(kStructuredOutputToolName);
        } else {
            if (final_answer) {
                final_message_ = final_candidate_;
                sink_.emit(ev::reply_end(session_id_, reply_id_, "completed"));
                co_await checkpoint();
                break;
            }
            if (cur_iter() >= profile_.max_iters) {
                co_await exceed_max_iters();
                break;
            }
        }
        final_answer = co_await reasoning(std::move(hint), std::move(tool_choice));
        if (unfinished_calls().empty() && !cancelled()) set_cur_iter(cur_iter() + 1);
        // A final answer is closed at the loop head with nothing awaited in
        // between: its REPLY_END shares this step's checkpoint.
        if (final_answer && !cancelled() && !required_schema()) continue;
        co_await checkpoint();
    }
    notify_state_change(turn_start);
}

boost::asio::awaitable<void> ReactAgent::exceed_max_iters() {
    final_message_ = notice("The maximum reasoning-acting iterations are exceeded.", "exceed_max_iters");
    sink_.emit(ev::exceed_max_iters(reply_id_, profile_.name));
    sink_.emit(ev::reply_end(session_id_, reply_id_, "exceed_max_iters"));
    co_await checkpoint();
}

std::int64_t ReactAgent::tool_schema_tokens() const {
    // Bytes / 4, as for messages, of the schema list as the reference counts
    // it: json.dumps of each tool in its function-call form. Each schema's
    // text in that form is rendered once for the life of the schema.
    constexpr std::size_t kEnvelopeBytes =
        sizeof(R"({"type": "function", "function": {"name": , "description": , "parameters": }})") - 1;
    auto activated = domain::activated_groups(state_);
    if (schema_tokens_ && schema_tokens_->first == activated) return schema_tokens_->second;
    std::size_t bytes = 0;
    std::string literals;  // the name and description as JSON strings
    for (const auto& tool : toolkit_.schemas(activated)) {
        literals.clear();
        json::write_string(literals, tool.name);
        json::write_string(literals, tool.description);
        // 2: the list's brackets for the first tool, the ", " before each later one.
        bytes += 2 + kEnvelopeBytes + literals.size() + tool.parameters.text(model::SchemaForm::kPython).size();
    }
    const auto tokens = static_cast<std::int64_t>(std::floor(static_cast<double>(bytes) / 4.0 + 0.5));
    schema_tokens_.emplace(std::move(activated), tokens);
    return tokens;
}

std::int64_t ReactAgent::compression_tool_tokens() const {
    // The reference counts the compression request with its one tool.
    const bj::array tools{bj::object{
        {"type", "function"},
        {"function", bj::object{{"name", model::kStructuredOutputTool},
                                {"description", "Call this function to generate structured output required by the user."},
                                {"parameters", profile_.summary_schema}}}}};
    return static_cast<std::int64_t>(
        std::floor(static_cast<double>(json::write(tools, json::Style::kPython).size()) / 4.0 + 0.5));
}

boost::asio::awaitable<void> ReactAgent::maybe_compact() {
    // Images first, so that the token count reflects the ones that remain.
    co_await limit_images();
    if (profile_.context_size <= 0 || profile_.summary_schema.empty()) co_return;
    const auto base =
        estimate_tokens(bj::value(profile_.system_prompt)) + estimate_tokens(state_.summary) + tool_schema_tokens();
    // Messages before the tail do not change: their tokens are counted once and kept.
    refresh_cost_cache();
    std::int64_t total = base + counted_tokens_;
    if (!context_.empty()) total += estimate_tokens(context_.back());
    // Compared as the reference compares it: with the fractional threshold.
    if (static_cast<double>(total) < profile_.trigger_ratio * static_cast<double>(profile_.context_size) ||
        context_.empty())
        co_return;
    // Compaction reads the whole context anyway: the per-message costs are taken here.
    std::vector<std::int64_t> cost;
    cost.reserve(context_.size());
    for (const auto& m : context_) cost.push_back(estimate_tokens(m));

    // Split (spec §8.2): walk back from the newest message while it and
    // everything newer fit the budget; the first message that does not fit is
    // split by blocks the same way (its newest blocks kept), then the split
    // moves forward past every kept tool result whose call is compressed, as
    // the reference does. A long reply in progress can thus be compacted too.
    // Nothing to compress: budget 0.
    struct Split {
        std::size_t message = 0;  ///< messages before it are compressed
        std::size_t block = 0;    ///< and this message's blocks before it
    };
    auto find_split = [&](std::int64_t budget) {
        std::int64_t kept = base;
        std::size_t m = context_.size();
        while (m > 0 && kept + cost[m - 1] <= budget) kept += cost[--m];
        if (m == 0) return Split{};  // everything fits
        const std::size_t b = m - 1;
        const bj::array* content = nullptr;
        if (context_[b].is_object())
            if (const auto* c = context_[b].get_object().if_contains("content"); c && c->is_array()) content = &c->get_array();
        const std::size_t n = content ? content->size() : 0;
        std::size_t k = n;
        while (k > 0) {
            auto c = estimate_tokens((*content)[k - 1]);
            if (kept + c > budget) break;
            kept += c;
            --k;
        }
        // A kept result whose call is not kept before it goes to the summary,
        // with everything older; that may strand another result: until stable.
        for (;;) {
            std::optional<std::size_t> stranded;
            std::vector<std::string_view> kept_calls;
            for (std::size_t j = k; j < n; ++j) {
                if (!(*content)[j].is_object()) continue;
                const auto& blk = (*content)[j].get_object();
                auto type = json::str_at(blk, "type");
                auto id = json::str_at(blk, "id");
                if (type == "tool_call") kept_calls.push_back(id);
                else if (type == "tool_result" && std::ranges::find(kept_calls, id) == kept_calls.end())
                    stranded = j;
            }
            if (!stranded) break;
            k = *stranded + 1;
        }
        return Split{b, k};
    };
    const auto reserve = static_cast<std::int64_t>(profile_.reserve_ratio * static_cast<double>(profile_.context_size));
    Split split = find_split(reserve);
    if (split.message == 0 && split.block == 0) split = find_split(0);
    if (split.message == 0 && split.block == 0) co_return;
    // The boundary message's two parts; the kept one keeps its identity (it
    // may be the reply in progress).
    std::optional<bj::object> compressed_part, kept_part;
    if (split.message < context_.size() && context_[split.message].is_object()) {
        const auto& whole = context_[split.message].get_object();
        const auto* c = whole.if_contains("content");
        const bj::array blocks = c && c->is_array() ? c->get_array() : bj::array{};
        if (split.block > 0) {
            bj::object part = whole;
            part["content"] = bj::array(blocks.begin(), blocks.begin() + static_cast<std::ptrdiff_t>(split.block));
            compressed_part = std::move(part);
        }
        if (split.block < blocks.size()) {
            bj::object part = whole;
            part["content"] = bj::array(blocks.begin() + static_cast<std::ptrdiff_t>(split.block), blocks.end());
            kept_part = std::move(part);
        }
    }

    model::ChatRequest request;
    request.system_prompt = profile_.system_prompt;
    std::size_t summary_messages = 0;
    if (state_.summary.is_string() && !state_.summary.get_string().empty()) {
        request.messages.push_back(domain::user_msg("user", std::string_view(state_.summary.get_string())));
        summary_messages = 1;
    }
    for (std::size_t i = 0; i < split.message; ++i) request.messages.push_back(context_[i]);
    if (compressed_part) request.messages.push_back(*compressed_part);
    // The reference leaves {current_time} in the prompt unsubstituted; so do we.
    request.messages.push_back(domain::user_msg("user", std::string_view(profile_.compression_prompt)));
    request.structured_schema = profile_.summary_schema;

    std::string summary;
    // One retry (spec §8.1 step 6): a request that failed while larger than the
    // window drops its oldest messages until it is under the trigger.
    for (bool retried = false;;) {
        bool failed = false;
        try {
            const model::ChunkSink ignore = [](const model::ModelChunk&) {};
            auto response = co_await model_.call(request, ignore, cancel_);
            if (response.structured_output)  // as the reference's summary_template.format(**fields)
                summary = python_format(profile_.summary_template, *response.structured_output);
        } catch (const model::ModelInterrupted&) {
            // Nothing is applied; the reasoning step stops and the loop head
            // ends the reply as interrupted.
            if (cancel_) cancel_->request();
            co_return;
        } catch (const std::exception&) {
            failed = true;  // lossy fallback below unless the retry helps
        }
        if (!failed || retried) break;
        retried = true;
        std::int64_t size = estimate_tokens(bj::value(request.system_prompt)) + compression_tool_tokens();
        for (const auto& m : request.messages) size += estimate_tokens(m);
        if (size <= profile_.context_size) break;  // not a size problem
        const std::size_t first = summary_messages;  // the summary message stays, and so does the prompt
        const double limit = profile_.trigger_ratio * static_cast<double>(profile_.context_size);
        while (static_cast<double>(size) >= limit && request.messages.size() > first + 1) {
            size -= estimate_tokens(request.messages[first]);
            request.messages.erase(request.messages.begin() + static_cast<std::ptrdiff_t>(first));
        }
    }
    if (summary.empty())
        summary = state_.summary.is_string() && !state_.summary.get_string().empty()
                      ? std::string(state_.summary.get_string())
                      : std::string("<system-info>Some earlier messages were truncated for limited context."
                                    "</system-info>");
    if (context_offloader_) {
        // What was summarised stays readable in the workspace; the summary says where.
        std::vector<const bj::object*> compressed;
        for (std::size_t i = 0; i < split.message; ++i)
            if (context_[i].is_object()) compressed.push_back(&context_[i].get_object());
        if (compressed_part) compressed.push_back(&*compressed_part);
        const std::string path = co_await context_offloader_->offload_context(compressed);
        if (!path.empty()) {
            const std::string reminder = "<system-reminder>The compressed context is offloaded to '" + path +
                                         "', you can refer to it when needed.</system-reminder>";
            // A summary kept from before (the compression failed) may name the file already.
            if (summary.find(reminder) == std::string::npos) summary += "\n" + reminder;
        }
    }
    state_.summary = summary;
    bj::array rest;
    if (kept_part) rest.push_back(std::move(*kept_part));
    for (std::size_t i = split.message + 1; i < context_.size(); ++i) rest.push_back(std::move(context_[i]));
    context_ = std::move(rest);
    domain::keep_read_cache_of_kept_reads(state_, context_);
    context_replaced_ = true;
    counted_ = 0;
    counted_tokens_ = 0;
    counted_images_ = 0;
    // What the summary replaced no longer counts: the time and the tasks are
    // reminded again (spec §4.9).
    injection_scan_from_ = 0;
    last_injection_us_.reset();
    tasks_known_ = false;
    co_await checkpoint();
}

boost::asio::awaitable<bool> ReactAgent::reasoning(std::optional<bj::object> hint,
                                                   std::optional<std::string> tool_choice) {
    // The decision's hint goes into the reply without an event, as the reference does.
    if (hint) append_blocks(bj::array{std::move(*hint)});
    final_candidate_.reset();
    co_await maybe_compact();
    // An interrupt during compaction ends the reply before this step shows anything.
    if (cancelled()) co_return false;
    maybe_inject_runtime_state();
    // Last before the call, where the reference's inbox middleware runs: hints
    // that arrive meanwhile reach this call whole, and no summary swallows them.
    co_await take_inbox();
    if (cancelled()) co_return false;
    sink_.emit(ev::model_call_start(reply_id_, model_.model_name()));

    model::ChatRequest request;
    request.system_prompt = profile_.system_prompt;
    if (state_.summary.is_string() ? !state_.summary.get_string().empty()
                                   : (state_.summary.is_array() && !state_.summary.get_array().empty())) {
        bj::array content = state_.summary.is_string() ? bj::array{domain::text_block(state_.summary.get_string())}
                                                       : state_.summary.get_array();
        request.messages.push_back(domain::user_msg("user", content));
    }
    request.context = &context_;  // by reference: the call never outlives this step
    request.tools = toolkit_.schemas(domain::activated_groups(state_));
    request.tool_choice = std::move(tool_choice);

    ChunkEvents events(sink_, reply_id_);
    model::ModelResponse response;
    bool interrupted = false;
    const model::ChunkSink on_chunk = [&](const model::ModelChunk& c) { events.on_chunk(c); };
    try {
        response = co_await model_.call(request, on_chunk, cancel_);
    } catch (const model::ModelInterrupted& e) {
        response = e.partial();
        interrupted = true;
    } catch (...) {
        events.flush();
        throw;
    }
    events.flush();
    sink_.emit(ev::model_call_end(reply_id_, to_domain(response.usage), interrupted ? "interrupted" : "completed"));

    // Decided on the response as the model gave it: only a response made of
    // thinking alone asks for another step. An empty one, or one whose audio
    // the context drops, is a final answer.
    bool has_tool_call = false, only_thinking = !response.content.empty();
    for (const auto& b : response.content) {
        auto type = b.is_object() ? json::str_at(b.get_object(), "type") : std::string_view();
        if (type == "tool_call") has_tool_call = true;
        if (type != "thinking") only_thinking = false;
    }
    const bool final_answer = !interrupted && !has_tool_call && !only_thinking;
    // The answer is the whole response (its audio too); the context keeps the
    // same blocks without the audio.
    bj::array blocks, answer;
    for (const auto& b : response.content) {
        auto block = context_block(b);
        if (final_answer) answer.push_back(block ? bj::value(*block) : b);
        if (block) blocks.push_back(std::move(*block));
    }
    auto& msg = reply_message();
    for (auto& b : blocks) domain::content_of(msg).push_back(std::move(b));
    domain::add_usage(msg, to_domain(response.usage));
    if (interrupted) {
        cancel_->request();  // the reply ends as interrupted at the loop head
        co_return false;
    }
    if (final_answer) {
        domain::MsgOptions opts;
        opts.id = reply_id_;
        opts.usage = msg.contains("usage") ? msg.at("usage") : bj::value(nullptr);
        opts.finished_reason = "completed";
        final_candidate_ = domain::assistant_msg(profile_.name, std::move(answer), std::move(opts));
    }
    co_return final_answer;
}

boost::asio::awaitable<void> ReactAgent::acting() {
    // Consecutive calls of the same kind form a batch: concurrency-safe (or
    // unknown) tools run together, the others one by one (spec §4.5.1). A call
    // that parks stops its sequential batch and every later batch.
    struct Batch {
        bool concurrent;
        std::vector<std::string> ids;
    };
    std::vector<Batch> batches;
    {
        OpenCalls calls = open_calls(context_.back().get_object());
        for (auto& id : calls.executable) {
            const auto* call = domain::find_block(reply_message(), "tool_call", id);
            Tool* tool = call ? toolkit_.find_registered(std::string(json::str_at(*call, "name"))) : nullptr;
            bool concurrent = !tool || tool->concurrency_safe();
            if (batches.empty() || batches.back().concurrent != concurrent) batches.push_back(Batch{concurrent, {}});
            batches.back().ids.push_back(std::move(id));
        }
    }
    // Results are persisted between calls, so a crash never re-runs a finished
    // tool; after the last one the loop's own checkpoint follows at once, and
    // every early return (parked, interrupted) reaches one too.
    for (std::size_t b = 0; b < batches.size(); ++b) {
        const auto& batch = batches[b];
        const bool last_batch = b + 1 == batches.size();
        if (cancelled()) co_return;
        if (batch.concurrent && batch.ids.size() > 1) {
            bool parked_any = co_await run_concurrently(batch.ids);
            if (parked_any || last_batch) co_return;
            co_await checkpoint();
            continue;
        }
        for (std::size_t i = 0; i < batch.ids.size(); ++i) {
            if (cancelled()) co_return;
            CallEnd end = co_await run_tool(batch.ids[i], nullptr);
            if (end == CallEnd::kInterrupted) cancel_->request();  // the reply ends interrupted (§4.5.1)
            if (end != CallEnd::kFinished) co_return;
            if (!last_batch || i + 1 < batch.ids.size()) co_await checkpoint();
        }
    }
}

boost::asio::awaitable<bool> ReactAgent::run_concurrently(const std::vector<std::string>& call_ids) {
    auto executor = co_await boost::asio::this_coro::executor;
    // Every call runs as its own coroutine on this strand; a timer that the last
    // one to finish cancels is the join point.
    struct Join {
        explicit Join(boost::asio::any_io_executor ex) : timer(ex, boost::asio::steady_timer::time_point::max()) {}
        boost::asio::steady_timer timer;
        std::size_t remaining = 0;
        bool parked = false;
        std::exception_ptr error;
        std::vector<permission::Rule> kept_rules;  // asks surfaced so far in this batch
    };
    auto join = std::make_shared<Join>(executor);
    join->remaining = call_ids.size();
    for (const auto& id : call_ids) {
        boost::asio::co_spawn(executor, run_tool(id, &join->kept_rules), [join](std::exception_ptr e, CallEnd end) {
            if (e && !join->error) join->error = e;
            if (!e && end == CallEnd::kParked) join->parked = true;
            if (--join->remaining == 0) join->timer.cancel();
        });
    }
    if (join->remaining > 0) {
        auto [ec] = co_await join->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        (void)ec;
    }
    if (join->error) std::rethrow_exception(join->error);
    co_return join->parked;
}

boost::asio::awaitable<ReactAgent::CallEnd> ReactAgent::run_tool(std::string id,
                                                                std::vector<permission::Rule>* kept_rules) {
    std::string name, input_text, call_state;
    if (auto* call = domain::find_block(reply_message(), "tool_call", id)) {
        name = std::string(json::str_at(*call, "name"));
        input_text = std::string(json::str_at(*call, "input"));
        call_state = std::string(json::str_at(*call, "state"));
    }
    auto find_call = [&]() -> bj::object* {
        return domain::find_block(reply_message(), "tool_call", id);
    };

    // Available means basic or an active group (spec/tools-workspace.md §2.3 step 1).
    ToolLookup lookup = toolkit_.find(name, domain::activated_groups(state_));
    if (!lookup.tool) {
        error_result(id, name, "error", lookup.error);
        co_return CallEnd::kFinished;
    }
    Tool* tool = lookup.tool;
    // An empty argument string is an empty object: providers send it for tools without parameters.
    const std::string_view arguments = input_text.empty() ? std::string_view("{}") : std::string_view(input_text);
    auto parsed = json::parse(arguments);
    if (auto problem = arguments_error(arguments, parsed)) {
        error_result(id, name, "error", *problem);
        co_return CallEnd::kFinished;
    }
    const bj::object& tool_input = parsed.value->get_object();
    // Step 3: the input schema. Validated on a copy: declared defaults are the
    // tool's business, as with the reference's jsonschema.validate.
    if (const auto& schema = tool->schema().parameters; !schema.empty()) {
        bj::value probe = tool_input;
        auto violations = json_schema::validate_filling_defaults(schema, probe);
        if (const auto* worst = json_schema::best_match(violations)) {
            error_result(id, name, "error", "Input validation failed for tool '" + name + "': " + worst->message);
            co_return CallEnd::kFinished;
        }
    }

    // Permission (spec §4.5.2 step 2): a call the user approved is allowed as is.
    permission::Decision decision = call_state == "allowed"
                                        ? permission::Decision::allow()
                                        : permission::evaluate(*tool, tool_input,
                                                               permission::Context::from_json(state_.permission_context));
    if (decision.behavior == permission::Behavior::kAsk || decision.behavior == permission::Behavior::kPassthrough) {
        if (kept_rules && !decision.bypass_immune) {
            for (const auto& rule : *kept_rules) {
                if (rule.tool_name != tool->subject_name()) continue;
                bool covers = !rule.rule_content || rule.rule_content->empty() ||
                              tool->match_rule(*rule.rule_content, tool_input);
                if (covers) co_return CallEnd::kParked;  // stays pending; re-evaluated after the answer
            }
        }
        if (kept_rules) kept_rules->insert(kept_rules->end(), decision.suggested_rules.begin(), decision.suggested_rules.end());
        auto* call = find_call();
        if (!call) co_return CallEnd::kFinished;
        (*call)["state"] = "asking";
        bj::array rules;
        for (const auto& r : decision.suggested_rules) rules.push_back(r.to_json());
        (*call)["suggested_rules"] = std::move(rules);
        mark_dirty();
        sink_.emit(ev::require_user_confirm(reply_id_, bj::array{*call}));
        co_return CallEnd::kParked;
    }
    if (decision.behavior == permission::Behavior::kDeny) {
        error_result(id, name, "denied", decision.message);
        co_return CallEnd::kFinished;
    }

    if (auto* c = find_call()) (*c)["state"] = "allowed";
    mark_dirty();
    sink_.emit(ev::tool_result_start(reply_id_, id, name));
    if (tool->external()) {
        auto* call = find_call();
        if (call) {
            (*call)["state"] = "submitted";
            sink_.emit(ev::require_external_execution(reply_id_, bj::array{*call}));
        }
        co_return CallEnd::kParked;
    }

    const std::string before = state_fingerprint();
    ToolContext ctx{session_id_, state_, cancel_, workspace_};
    ToolOutcome outcome;
    const std::function<void(const ToolChunk&)> emit = [&](const ToolChunk& chunk) {
            // A text chunk is a delta even when empty (the reply then holds an
            // empty text block, as the reference's does); a data chunk is not.
            if (!chunk.text.empty() || !chunk.data_source) sink_.emit(ev::tool_result_text_delta(reply_id_, id, chunk.text));
            if (chunk.data_source) {
                const auto& src = *chunk.data_source;
                std::string media(json::str_at(src, "media_type"));
                if (json::str_at(src, "type") == "url")
                    sink_.emit(ev::tool_result_data_delta(reply_id_, id, media, std::nullopt, std::string(json::str_at(src, "url"))));
                else
                    sink_.emit(ev::tool_result_data_delta(reply_id_, id, media, std::string(json::str_at(src, "data")), std::nullopt));
            }
    };
    try {
        if (offloader_ && !tool->external() && !tool->uses_session_state()) {
            std::shared_ptr<Tool> owned = toolkit_.shared(tool);
            const ToolCallRef call{id, name};
            if (owned) outcome = co_await offloader_->run(owned, tool_input, call, ctx, emit);
            else outcome = co_await tool->run(tool_input, ctx, emit);
        } else {
            outcome = co_await tool->run(tool_input, ctx, emit);
        }
    } catch (const std::exception& e) {
        // A failing tool is the model's problem to handle, not the run's.
        std::string text = std::string("Error: ") + e.what();
        sink_.emit(ev::tool_result_text_delta(reply_id_, id, text));
        outcome = ToolOutcome{"error", bj::value(text), {}};
    }
    if (cancelled() && outcome.state != "interrupted") {
        // An interrupted call's result is the interruption notice, whatever the
        // tool made of its cancellation, as the reference closes it.
        sink_.emit(ev::tool_result_text_delta(reply_id_, id, kInterruptedToolText));
        outcome.state = "interrupted";
        outcome.output = bj::value(kInterruptedToolText);
    }
    bj::value output = outcome.output;
    // What the tool returned is kept as text blocks, whatever its state; only
    // the interruption notice stays a string, as the reference stores it.
    if (output.is_string() && outcome.state != "interrupted") output = bj::array{domain::text_block(output.get_string())};
    // Only the context copy is cut; the streamed deltas carried everything.
    bj::value kept = co_await context_tool_output(id, output);
    auto& msg = reply_message();
    if (auto* c = find_call()) (*c)["state"] = "finished";
    domain::content_of(msg).push_back(
        domain::tool_result_block(id, name, std::move(kept), outcome.state, outcome.metadata));
    const bool interrupted = outcome.state == "interrupted";
    sink_.emit(ev::tool_result_end(reply_id_, id, outcome.state, std::move(outcome.metadata)));
    notify_state_change(before);
    co_return interrupted ? CallEnd::kInterrupted : CallEnd::kFinished;
}

boost::asio::awaitable<void> ReactAgent::take_inbox() {
    std::vector<bj::object> hints = co_await sink_.drain_inbox();
    if (hints.empty()) co_return;
    // The reference puts them at the end of this agent's last message, whichever
    // reply it belongs to; otherwise they open this reply's message.
    bool tail_is_ours = false;
    if (!context_.empty() && context_.back().is_object()) {
        const auto& tail = context_.back().get_object();
        tail_is_ours = json::str_at(tail, "role") == "assistant" && json::str_at(tail, "name") == profile_.name;
    }
    bj::object& target = tail_is_ours ? context_.back().get_object() : reply_message();
    const std::size_t index = context_.size() - 1;
    const ContextCost before = index < counted_ ? estimate_cost(context_[index]) : ContextCost{};
    auto& content = domain::content_of(target);
    for (auto& hint : hints) {
        sink_.emit(ev::hint_block(reply_id_, json::str_at(hint, "id"), hint.at("hint"), hint.at("source")));
        content.push_back(std::move(hint));
    }
    if (index < context_mark_) {
        // An older reply's message changed in place: checkpointed on its own,
        // and counted again.
        touched_.push_back(index);
        recount(index, before);
    } else {
        mark_dirty();
    }
}

boost::asio::awaitable<void> ReactAgent::close_interrupted() {
    if (reply_id_.empty()) {
        auto it = state_.reply_context.find("reply_id");
        if (it != state_.reply_context.end() && it->value().is_string()) reply_id_ = std::string(it->value().get_string());
    }
    // Collect first: appending results moves the blocks the pointers refer to.
    struct Open {
        std::string id, name, state;
    };
    std::vector<Open> open;
    for (auto* call : unfinished_calls())
        open.push_back({std::string(json::str_at(*call, "id")), std::string(json::str_at(*call, "name")),
                        std::string(json::str_at(*call, "state"))});
    for (const auto& call : open) {
        if (call.state != "allowed" && call.state != "submitted")
            sink_.emit(ev::tool_result_start(reply_id_, call.id, call.name));
        if (auto* block = domain::find_block(reply_message(), "tool_call", call.id)) (*block)["state"] = "finished";
        sink_.emit(ev::tool_result_text_delta(reply_id_, call.id, kInterruptedToolText));
        sink_.emit(ev::tool_result_end(reply_id_, call.id, "interrupted"));
        domain::content_of(reply_message())
            .push_back(domain::tool_result_block(call.id, call.name, bj::value(kInterruptedToolText), "interrupted", {}));
    }
    sink_.emit(ev::reply_end(session_id_, reply_id_, "interrupted"));
    final_message_ = notice(profile_.interruption_message, "interrupted");
    co_await checkpoint();
}

}  // namespace agentd::agent
