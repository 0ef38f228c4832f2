#include "model/openai/openai_formatter.hpp"

#include <cctype>
#include <stdexcept>
#include <utility>

#include "model/history.hpp"
#include "model/parameters.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model::openai {

std::vector<std::string> default_input_types(Vendor vendor) {
    switch (vendor) {
        case Vendor::kOpenAI:
            return {"text/plain", "image/*", "audio/*", "application/pdf"};
        case Vendor::kDashScope:
            return {"text/plain", "image/*", "audio/*", "video/*"};
        case Vendor::kDeepSeek:
            return {"text/plain"};
        case Vendor::kMoonshot:
            return {"text/plain", "image/*", "audio/*"};
        case Vendor::kXai:
            return {"text/plain", "image/jpeg", "image/png"};
    }
    return {"text/plain"};
}

namespace {

bj::object text_part(std::string_view text) { return {{"type", "text"}, {"text", text}}; }

std::string data_uri(std::string_view media_type, std::string_view b64) {
    return "data:" + std::string(media_type) + ";base64," + std::string(b64);
}

/// The extension of a URL's path ("wav" for ".../a.WAV?x=1"), lower-cased.
std::string url_extension(std::string_view url) {
    auto end = url.find_first_of("?#");
    std::string_view path = url.substr(0, end);
    auto slash = path.rfind('/');
    auto dot = path.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return "";
    std::string ext(path.substr(dot + 1));
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

class Formatter {
public:
    Formatter(const ChatRequest& request, const FormatOptions& options)
        : request_(request),
          vendor_(options.vendor),
          policy_(options.input_types ? *options.input_types : default_input_types(options.vendor)),
          resolver_(options.resolver) {}

    bj::array run() {
        bj::object system;
        for (const bj::object* msg : history_of(request_, system)) format_msg(*msg);
        emit_held_media();
        return std::move(out_);
    }

private:
    struct Pending {
        bj::array content;  ///< parts
        bj::array tool_calls;
        std::vector<std::string> reasoning;
        bool any() const { return !content.empty() || !tool_calls.empty() || !reasoning.empty(); }
    };

    bool with_names() const { return vendor_ == Vendor::kOpenAI || vendor_ == Vendor::kMoonshot; }

    /// Appends an assistant/user turn. Media promoted out of the tool results
    /// just before it go first: every `tool` message answering an assistant's
    /// `tool_calls` must directly follow it (the API rejects a user turn
    /// between them), so their media wait until the run of results ends.
    void push_turn(bj::object turn) {
        emit_held_media();
        out_.push_back(std::move(turn));
    }

    /// The user turn that shows the media of the tool results just formatted.
    void emit_held_media() {
        auto items = std::exchange(held_media_, {});
        bj::array parts;
        for (const auto& item : items) {
            if (!item.media)
                parts.push_back(text_part(item.text));
            else if (auto p = data_part(*item.media))
                parts.push_back(std::move(*p));
        }
        if (parts.empty()) return;
        bj::object turn{{"role", "user"}};
        if (with_names()) turn["name"] = "system-reminder";
        turn["content"] = std::move(parts);
        out_.push_back(std::move(turn));
    }

    /// An image as `image_url`: base64 → data URI; remote URLs pass through
    /// (Moonshot: downloaded); `file://` is always inlined.
    bj::object image_part(const MediaSource& m) const {
        std::string url;
        if (!m.is_url) {
            url = data_uri(m.media_type, m.value);
        } else if (is_file_url(m.value) || vendor_ == Vendor::kMoonshot) {
            auto b64 = inline_base64(m, resolver_);
            if (!b64) return text_part(media_note(m));
            url = data_uri(m.media_type, *b64);
        } else {
            url = m.value;
        }
        return {{"type", "image_url"}, {"image_url", bj::object{{"url", url}}}};
    }

    bj::object openai_audio_part(const MediaSource& m) const {
        std::string format;
        if (!m.is_url) {
            if (m.media_type == "audio/wav")
                format = "wav";
            else if (m.media_type == "audio/mp3" || m.media_type == "audio/mpeg")
                format = "mp3";
            else
                return text_part(media_note(m));  // the API takes wav and mp3 only
        } else {
            format = url_extension(m.value);
            if (format != "wav" && format != "mp3") return text_part(media_note(m));
        }
        auto b64 = inline_base64(m, resolver_);
        if (!b64) return text_part(media_note(m));
        return {{"type", "input_audio"},
                {"input_audio", bj::object{{"data", *b64}, {"format", format}}}};
    }

    bj::object dashscope_audio_part(const MediaSource& m) const {
        std::string format(m.media_type.substr(m.media_type.rfind('/') + 1));
        if (format == "mpeg") format = "mp3";
        std::string data;
        if (!m.is_url || is_file_url(m.value)) {
            auto b64 = inline_base64(m, resolver_);
            if (!b64) return text_part(media_note(m));
            data = "data:;base64," + *b64;
        } else {
            data = m.value;
        }
        return {{"type", "input_audio"},
                {"input_audio", bj::object{{"data", data}, {"format", format}}}};
    }

    bj::object video_part(const MediaSource& m) const {
        std::string url;
        if (!m.is_url || is_file_url(m.value)) {
            auto b64 = inline_base64(m, resolver_);
            if (!b64) return text_part(media_note(m));
            url = data_uri(m.media_type, *b64);
        } else {
            url = m.value;
        }
        return {{"type", "video_url"}, {"video_url", bj::object{{"url", url}}}};
    }

    bj::object pdf_part(const MediaSource& m) const {
        auto b64 = inline_base64(m, resolver_);
        if (!b64) return text_part(media_note(m));
        return {{"type", "file"},
                {"file", bj::object{{"filename", m.name.empty() ? "document.pdf" : m.name},
                                    {"file_data", data_uri(m.media_type, *b64)}}}};
    }

    /// The content part for a data block, or nullopt when it is not sent.
    std::optional<bj::object> data_part(const MediaSource& m) const {
        if (!policy_.accepts(m.media_type)) return std::nullopt;
        auto main = m.main_type();
        switch (vendor_) {
            case Vendor::kOpenAI:
            case Vendor::kMoonshot:
                if (main == "image") return image_part(m);
                if (main == "audio") return openai_audio_part(m);
                if (m.media_type == "application/pdf") return pdf_part(m);
                return std::nullopt;
            case Vendor::kDashScope:
                if (main == "image") return image_part(m);
                if (main == "video") return video_part(m);
                if (main == "audio") return dashscope_audio_part(m);
                return std::nullopt;
            case Vendor::kXai:
                if (main == "image") return image_part(m);
                return std::nullopt;
            case Vendor::kDeepSeek:
                return std::nullopt;
        }
        return std::nullopt;
    }

    /// Emits the pending assistant/user turn. `force` is the end-of-message
    /// flush, which applies the vendor's "is this turn worth sending" rule.
    void flush(const bj::object& msg, Pending& p, bool final_flush) {
        if (!final_flush && !p.any()) return;
        std::string_view role = str_at(msg, "role");
        std::string reasoning;
        for (std::size_t i = 0; i < p.reasoning.size(); ++i)
            reasoning += (i ? "\n" : "") + p.reasoning[i];

        bj::object turn;
        turn["role"] = role;
        if (with_names()) turn["name"] = str_at(msg, "name");
        bool keep = false;
        if (vendor_ == Vendor::kDeepSeek) {
            std::string text;
            for (std::size_t i = 0; i < p.content.size(); ++i)
                text += (i ? "\n" : "") + std::string(str_at(p.content[i].as_object(), "text"));
            keep = !text.empty() || !p.tool_calls.empty() || !p.reasoning.empty();
            if (!text.empty())
                turn["content"] = text;
            else if (!p.tool_calls.empty())
                turn["content"] = nullptr;
            else
                turn["content"] = "";
            if (role == "assistant") turn["reasoning_content"] = reasoning;
        } else {
            keep = !p.content.empty() || !p.tool_calls.empty();
            if (p.content.empty())
                turn["content"] = nullptr;
            else
                turn["content"] = p.content;
            if (vendor_ == Vendor::kMoonshot) {
                if (role == "assistant") turn["reasoning_content"] = reasoning;
                keep = keep || !p.reasoning.empty();
            } else if (vendor_ == Vendor::kDashScope) {
                keep = keep || !reasoning.empty();
            }
        }
        if (!p.tool_calls.empty()) turn["tool_calls"] = p.tool_calls;
        if (vendor_ == Vendor::kDashScope && !p.reasoning.empty())
            turn["reasoning_content"] = reasoning;
        if (!final_flush || keep) push_turn(std::move(turn));
        p = Pending{};
    }

    void hint_turn(const bj::value& hint) {
        if (vendor_ == Vendor::kDeepSeek) {
            if (hint.is_string()) {
                push_turn(bj::object{{"role", "user"}, {"content", hint.get_string()}});
                return;
            }
            std::vector<std::string> lines;
            for (const auto& item : items_of(hint)) {
                if (item.media)
                    lines.push_back("[" + item.media->media_type +
                                    " attached, not supported by this provider]");
                else
                    lines.push_back(item.text);
            }
            if (lines.empty()) return;
            std::string text;
            for (std::size_t i = 0; i < lines.size(); ++i) text += (i ? "\n" : "") + lines[i];
            push_turn(bj::object{{"role", "user"}, {"content", text}});
            return;
        }
        bj::array parts;
        if (hint.is_string()) {
            parts.push_back(text_part(hint.get_string()));
        } else {
            for (const auto& item : items_of(hint)) {
                if (!item.media)
                    parts.push_back(text_part(item.text));
                else if (auto p = data_part(*item.media))
                    parts.push_back(std::move(*p));
            }
        }
        if (!parts.empty()) push_turn(bj::object{{"role", "user"}, {"content", std::move(parts)}});
    }

    void tool_result_turns(const bj::object& block) {
        auto it = block.find("output");
        bj::value output = it == block.end() ? bj::value("") : it->value();
        bool promote = vendor_ != Vendor::kDeepSeek;
        auto result = tool_result_text(output, policy_, promote);
        bj::object tool{
            {"role", "tool"}, {"tool_call_id", str_at(block, "id")}, {"content", result.text}};
        if (vendor_ != Vendor::kXai) tool["name"] = str_at(block, "name");
        out_.push_back(std::move(tool));
        merge_promoted(held_media_, std::move(result.promoted));
    }

    void format_msg(const bj::object& msg) {
        Pending p;
        for (const auto& bv : content_blocks_of(msg)) {
            if (!bv.is_object()) continue;
            const auto& block = bv.get_object();
            auto type = str_at(block, "type");
            if (type == "text") {
                p.content.push_back(text_part(str_at(block, "text")));
            } else if (type == "data") {
                if (vendor_ == Vendor::kDeepSeek)
                    continue;  // text-only API: attachments are dropped
                if (auto m = media_source_of(block))
                    if (auto part = data_part(*m)) p.content.push_back(std::move(*part));
            } else if (type == "thinking") {
                bool echo = vendor_ == Vendor::kDeepSeek || vendor_ == Vendor::kMoonshot ||
                            (vendor_ == Vendor::kDashScope && policy_.accepts_thinking());
                if (echo) p.reasoning.emplace_back(str_at(block, "thinking"));
            } else if (type == "hint") {
                flush(msg, p, false);
                auto it = block.find("hint");
                if (it != block.end()) hint_turn(it->value());
            } else if (type == "tool_call") {
                p.tool_calls.push_back(bj::object{
                    {"id", str_at(block, "id")},
                    {"type", "function"},
                    {"function", bj::object{{"name", str_at(block, "name")},
                                            {"arguments", str_at(block, "input")}}},
                });
            } else if (type == "tool_result") {
                flush(msg, p, false);
                tool_result_turns(block);
            }
        }
        flush(msg, p, true);
    }

    const ChatRequest& request_;
    Vendor vendor_;
    MediaPolicy policy_;
    MediaResolver resolver_;
    bj::array out_;
    /// Promoted media of the tool results since the last non-tool turn.
    std::vector<ContentItem> held_media_;
};

struct Knobs {
    std::optional<std::int64_t> max_tokens;
    std::optional<double> temperature, top_p;
    bool thinking = false;
    std::optional<std::string> reasoning_effort;
    bool parallel_tool_calls = true;
    std::optional<std::string> voice;
    std::optional<std::int64_t> thinking_budget, top_k;
};

Knobs read_parameters(Vendor vendor, const std::string& model, const bj::object& parameters) {
    ParameterReader r(parameters);
    Knobs k;
    k.max_tokens = r.positive_int("max_tokens");
    k.top_p = r.number("top_p", 0, false, 1, true);
    k.thinking = r.flag("thinking_enable", false);
    switch (vendor) {
        case Vendor::kOpenAI:
            k.temperature = r.number("temperature", 0, true, 2, true);
            k.reasoning_effort =
                r.choice("reasoning_effort", {"none", "minimal", "low", "medium", "high", "xhigh"});
            k.parallel_tool_calls = r.flag("parallel_tool_calls", true);
            k.voice = r.text("voice");
            break;
        case Vendor::kDashScope:
            k.temperature = r.number("temperature", 0, true, 2, false);
            k.thinking_budget = r.positive_int("thinking_budget");
            k.top_k = r.positive_int("top_k");
            if (k.top_k && *k.top_k > 100)
                throw std::invalid_argument(
                    "parameters.top_k: Input should be less than or equal to 100");
            k.parallel_tool_calls = r.flag("parallel_tool_calls", true);
            k.voice = r.text("voice");
            break;
        case Vendor::kDeepSeek:
            k.temperature = r.number("temperature", 0, true, 2, true);
            k.reasoning_effort = r.choice("reasoning_effort", {"high", "max"});
            break;
        case Vendor::kMoonshot:
            k.temperature = r.number("temperature", 0, true, 1, true);
            k.reasoning_effort = r.choice("reasoning_effort", {"low", "high", "max"});
            break;
        case Vendor::kXai:
            k.temperature = r.number("temperature", 0, true, 2, true);
            k.reasoning_effort = r.choice("reasoning_effort", {"low", "medium", "high"});
            break;
    }
    (void)model;
    return k;
}

}  // namespace

bj::array format_messages(const ChatRequest& request, const FormatOptions& options) {
    return Formatter(request, options).run();
}

void validate_parameters(Vendor vendor, const std::string& model, const bj::object& parameters) {
    read_parameters(vendor, model, parameters);
}

RequestBody format_body(const ChatRequest& request, const std::string& model,
                        const bj::object& parameters, const FormatOptions& options) {
    const Vendor vendor = options.vendor;
    const Knobs k = read_parameters(vendor, model, parameters);
    check_tool_choice(request);
    const bool kimi_k3 = vendor == Vendor::kMoonshot && model == "kimi-k3";

    bj::object body;
    ToolsText tools_json;
    body["model"] = model;
    body["messages"] = format_messages(request, options);
    body["stream"] = true;
    if (k.max_tokens) {
        bool completion_tokens = vendor == Vendor::kOpenAI || kimi_k3;
        body[completion_tokens ? "max_completion_tokens" : "max_tokens"] = *k.max_tokens;
    }
    if (k.temperature) body["temperature"] = *k.temperature;
    if (k.top_p) body["top_p"] = *k.top_p;
    if (k.reasoning_effort) {
        bool send = false;
        switch (vendor) {
            case Vendor::kOpenAI:
            case Vendor::kXai:
                send = k.thinking;
                break;
            case Vendor::kDeepSeek:
                send = true;
                break;
            case Vendor::kMoonshot:
                send = kimi_k3;
                break;
            case Vendor::kDashScope:
                break;
        }
        if (send) body["reasoning_effort"] = *k.reasoning_effort;
    }
    if (k.voice) {
        body["audio"] = bj::object{{"voice", *k.voice}, {"format", "pcm16"}};
        body["modalities"] = bj::array{"text", "audio"};
    }

    if (!request.tools.empty()) {
        bool flatten = vendor == Vendor::kOpenAI;
        tools_json = openai_tools_json(request.tools, flatten);
        if (!k.parallel_tool_calls && (vendor == Vendor::kOpenAI || vendor == Vendor::kDashScope))
            body["parallel_tool_calls"] = false;
        if (request.tool_choice) {
            const auto& mode = *request.tool_choice;
            if (!is_tool_choice_mode(mode))
                body["tool_choice"] =
                    bj::object{{"type", "function"}, {"function", bj::object{{"name", mode}}}};
            else if (mode == "required" && vendor == Vendor::kDashScope)
                body["tool_choice"] = "auto";  // DashScope does not support "required"
            else
                body["tool_choice"] = mode;
        }
    }
    body["stream_options"] = bj::object{{"include_usage", true}};

    // Provider switches the reference passes through the SDK's extra_body
    // (merged at the top level of the JSON body).
    switch (vendor) {
        case Vendor::kDashScope:
            body["enable_thinking"] = k.thinking;
            if (k.thinking_budget) body["thinking_budget"] = *k.thinking_budget;
            if (k.top_k) body["top_k"] = *k.top_k;
            break;
        case Vendor::kDeepSeek:
            body["thinking"] = bj::object{{"type", k.thinking ? "enabled" : "disabled"}};
            break;
        case Vendor::kMoonshot:
            if (!kimi_k3)
                body["thinking"] = bj::object{{"type", k.thinking ? "enabled" : "disabled"}};
            break;
        default:
            break;
    }
    for (const auto& kv : options.extra_body) body[kv.key()] = kv.value();
    if (body.contains("tools")) tools_json.reset();  // the caller's extra_body replaced them
    return RequestBody{std::move(body), std::move(tools_json)};
}

bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options) {
    return format_body(request, model, parameters, options).to_object();
}

}  // namespace agentd::model::openai
