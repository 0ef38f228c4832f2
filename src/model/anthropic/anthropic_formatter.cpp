#include "model/anthropic/anthropic_formatter.hpp"

#include "model/history.hpp"
#include "model/json_repair.hpp"
#include "model/parameters.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model::anthropic {

std::vector<std::string> default_input_types() {
    return {"text/plain", "image/*", "application/pdf"};
}

namespace {

bj::object text_part(std::string_view text) { return {{"type", "text"}, {"text", text}}; }

class Formatter {
public:
    Formatter(const ChatRequest& request, const FormatOptions& options)
        : request_(request),
          policy_(options.input_types ? *options.input_types : default_input_types()),
          resolver_(options.resolver) {}

    bj::array run() {
        bj::object system;
        for (const bj::object* msg : history_of(request_, system)) format_msg(*msg);
        return std::move(out_);
    }

private:
    /// An image or PDF as a base64 source block; nullopt when not accepted.
    std::optional<bj::object> data_part(const MediaSource& m) const {
        if (!policy_.accepts(m.media_type)) return std::nullopt;
        std::string_view kind;
        if (m.main_type() == "image")
            kind = "image";
        else if (m.media_type == "application/pdf")
            kind = "document";
        else
            return std::nullopt;
        auto b64 = inline_base64(m, resolver_);
        if (!b64) return text_part(media_note(m));
        return bj::object{
            {"type", kind},
            {"source",
             bj::object{{"type", "base64"}, {"media_type", m.media_type}, {"data", *b64}}}};
    }

    void push(std::string_view role, bj::array& content) {
        out_.push_back(bj::object{{"role", role}, {"content", std::move(content)}});
        content = bj::array{};
    }

    void format_msg(const bj::object& msg) {
        const std::string_view role = str_at(msg, "role");
        bj::array content;
        bool has_tool_result = false;
        for (const auto& bv : content_blocks_of(msg)) {
            if (!bv.is_object()) continue;
            const auto& block = bv.get_object();
            auto type = str_at(block, "type");
            // Results gather in one user turn; anything else after them starts a new turn.
            if (has_tool_result && !content.empty() && type != "tool_result") {
                push("user", content);
                has_tool_result = false;
            }
            if (type == "text") {
                auto text = str_at(block, "text");
                if (!text.empty())
                    content.push_back(text_part(text));  // empty text blocks are a 400
            } else if (type == "thinking") {
                if (auto it = block.find("redacted_thinking_data");
                    it != block.end() && !it->value().is_null()) {
                    content.push_back(
                        bj::object{{"type", "redacted_thinking"}, {"data", it->value()}});
                } else if (auto sig = str_at(block, "signature"); !sig.empty()) {
                    // Unsigned thinking (other providers) would be rejected: dropped.
                    content.push_back(bj::object{{"type", "thinking"},
                                                 {"thinking", str_at(block, "thinking")},
                                                 {"signature", sig}});
                }
            } else if (type == "hint") {
                if (!content.empty()) {
                    push(has_tool_result ? "user" : role, content);
                    has_tool_result = false;
                }
                auto it = block.find("hint");
                if (it == block.end()) continue;
                bj::array parts;
                if (it->value().is_string()) {
                    parts.push_back(text_part(it->value().get_string()));
                } else {
                    for (const auto& item : items_of(it->value())) {
                        if (!item.media)
                            parts.push_back(text_part(item.text));
                        else if (auto p = data_part(*item.media))
                            parts.push_back(std::move(*p));
                    }
                }
                if (!parts.empty()) push("user", parts);
            } else if (type == "data") {
                if (auto m = media_source_of(block))
                    if (auto p = data_part(*m)) content.push_back(std::move(*p));
            } else if (type == "tool_call") {
                auto input = str_at(block, "input");
                content.push_back(
                    bj::object{{"type", "tool_use"},
                               {"id", str_at(block, "id")},
                               {"name", str_at(block, "name")},
                               {"input", tool_input_object(input.empty() ? "{}" : input)}});
            } else if (type == "tool_result") {
                if (!content.empty() && !has_tool_result) push(role, content);
                content.push_back(tool_result_block(block));
                has_tool_result = true;
            }
        }
        if (!content.empty()) push(has_tool_result ? "user" : role, content);
    }

    bj::object tool_result_block(const bj::object& block) const {
        bj::array parts;
        auto it = block.find("output");
        if (it != block.end()) {
            if (it->value().is_string()) {
                if (!it->value().get_string().empty())
                    parts.push_back(text_part(it->value().get_string()));
            } else {
                for (const auto& item : items_of(it->value())) {
                    if (!item.media) {
                        if (!item.text.empty()) parts.push_back(text_part(item.text));
                    } else if (auto p = data_part(*item.media)) {
                        parts.push_back(std::move(*p));
                    } else {
                        const auto& m = *item.media;
                        std::string main(m.main_type());
                        parts.push_back(text_part(
                            m.is_url ? "[" + main + " file returned, URL: " + m.value + "]"
                                     : "[" + main + " file returned, type: " + m.media_type + "]"));
                    }
                }
            }
        }
        if (parts.empty()) parts.push_back(text_part("(empty tool output)"));
        return {{"type", "tool_result"},
                {"tool_use_id", str_at(block, "id")},
                {"content", std::move(parts)}};
    }

    const ChatRequest& request_;
    MediaPolicy policy_;
    MediaResolver resolver_;
    bj::array out_;
};

struct Knobs {
    std::int64_t max_tokens = 8192;
    bool thinking = false;
    std::optional<std::int64_t> thinking_budget;
    std::optional<std::string> thinking_mode, thinking_display, reasoning_effort;
};

Knobs read_parameters(const bj::object& parameters) {
    ParameterReader r(parameters);
    Knobs k;
    if (auto m = r.positive_int("max_tokens")) k.max_tokens = *m;
    k.thinking = r.flag("thinking_enable", false);
    k.thinking_budget = r.positive_int("thinking_budget");
    k.thinking_mode = r.choice("thinking_mode", {"adaptive", "enabled", "disabled"});
    k.thinking_display = r.choice("thinking_display", {"summarized", "omitted"});
    k.reasoning_effort = r.choice("reasoning_effort", {"low", "medium", "high", "xhigh", "max"});
    return k;
}

}  // namespace

bj::array format_messages(const ChatRequest& request, const FormatOptions& options) {
    return Formatter(request, options).run();
}

void validate_parameters(const bj::object& parameters) { read_parameters(parameters); }

RequestBody format_body(const ChatRequest& request, const std::string& model,
                        const bj::object& parameters, const FormatOptions& options) {
    const Knobs k = read_parameters(parameters);
    check_tool_choice(request);

    bj::object body;
    ToolsText tools_json;
    body["model"] = model;
    body["max_tokens"] = k.max_tokens;
    body["stream"] = true;
    for (const auto& kv : options.extra_body) body[kv.key()] = kv.value();

    std::optional<std::string> mode = k.thinking_mode;
    if (!mode && k.thinking) mode = "enabled";
    if (mode && !body.contains("thinking")) {
        bj::object thinking{{"type", *mode}};
        if (*mode == "enabled") {
            std::int64_t max_tokens = k.max_tokens;
            std::int64_t budget = k.thinking_budget ? *k.thinking_budget : max_tokens / 2;
            if (budget >= max_tokens)
                body["max_tokens"] = budget + 1024;  // the API wants max_tokens > budget
            thinking["budget_tokens"] = budget;
        }
        if (*mode != "disabled" && k.thinking_display) thinking["display"] = *k.thinking_display;
        body["thinking"] = std::move(thinking);
    }
    if (k.reasoning_effort && !body.contains("output_config"))
        body["output_config"] = bj::object{{"effort", *k.reasoning_effort}};

    if (!request.tools.empty()) {
        tools_json = anthropic_tools_json(request.tools);
        body.erase("tools");  // ours replace any the caller's extra_body named
        if (request.tool_choice) {
            const auto& c = *request.tool_choice;
            if (c == "auto")
                body["tool_choice"] = bj::object{{"type", "auto"}};
            else if (c == "none")
                body["tool_choice"] = bj::object{{"type", "none"}};
            else if (c == "required")
                body["tool_choice"] = bj::object{{"type", "any"}};
            else
                body["tool_choice"] = bj::object{{"type", "tool"}, {"name", c}};
        }
    }

    bj::array messages = format_messages(request, options);
    if (!messages.empty() && str_at(messages[0].as_object(), "role") == "system") {
        body["system"] = messages[0].as_object().at("content");
        messages.erase(messages.begin());
    }
    body["messages"] = std::move(messages);
    return RequestBody{std::move(body), std::move(tools_json)};
}

bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options) {
    return format_body(request, model, parameters, options).to_object();
}

}  // namespace agentd::model::anthropic
