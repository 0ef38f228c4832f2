#include "model/ollama/ollama_formatter.hpp"

#include "model/history.hpp"
#include "model/json_repair.hpp"
#include "model/parameters.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model::ollama {

std::vector<std::string> default_input_types() { return {"text/plain", "image/*"}; }

namespace {

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "\n" : "") + parts[i];
    return out;
}

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
    /// An accepted image's base64; other media are not sent. An image that
    /// cannot be loaded becomes a note in the text.
    void add_media(const MediaSource& m, std::vector<std::string>& texts, bj::array& images) const {
        if (!policy_.accepts(m.media_type) || m.main_type() != "image") return;
        if (auto b64 = inline_base64(m, resolver_))
            images.push_back(bj::string(*b64));
        else
            texts.push_back(media_note(m));
    }

    void push(std::string_view role, std::vector<std::string>& texts, bj::array& images) {
        bj::object turn{{"role", role}, {"content", join(texts)}};
        if (!images.empty()) turn["images"] = std::move(images);
        out_.push_back(std::move(turn));
        texts.clear();
        images = bj::array{};
    }

    void format_msg(const bj::object& msg) {
        const std::string_view role = str_at(msg, "role");
        std::vector<std::string> texts;
        bj::array images;
        for (const auto& bv : content_blocks_of(msg)) {
            if (!bv.is_object()) continue;
            const auto& block = bv.get_object();
            auto type = str_at(block, "type");
            if (type == "text") {
                texts.emplace_back(str_at(block, "text"));
            } else if (type == "data") {
                if (auto m = media_source_of(block)) add_media(*m, texts, images);
            } else if (type == "hint") {
                if (!texts.empty() || !images.empty()) push(role, texts, images);
                auto it = block.find("hint");
                if (it == block.end()) continue;
                if (it->value().is_string()) {
                    out_.push_back(
                        bj::object{{"role", "user"}, {"content", it->value().get_string()}});
                    continue;
                }
                std::vector<std::string> hint_texts;
                bj::array hint_images;
                for (const auto& item : items_of(it->value())) {
                    if (!item.media)
                        hint_texts.push_back(item.text);
                    else
                        add_media(*item.media, hint_texts, hint_images);
                }
                if (!hint_texts.empty() || !hint_images.empty())
                    push("user", hint_texts, hint_images);
            } else if (type == "tool_call") {
                // Ollama merges consecutive same-role messages keeping only the
                // content, so the pending text and images ride on the call itself.
                auto input = str_at(block, "input");
                bj::object turn{
                    {"role", role},
                    {"content", join(texts)},
                    {"tool_calls",
                     bj::array{bj::object{
                         {"function",
                          bj::object{
                              {"name", str_at(block, "name")},
                              {"arguments", tool_input_object(input.empty() ? "{}" : input)}}}}}}};
                if (!images.empty()) turn["images"] = std::move(images);
                out_.push_back(std::move(turn));
                texts.clear();
                images = bj::array{};
            } else if (type == "tool_result") {
                if (!texts.empty() || !images.empty()) push(role, texts, images);
                auto it = block.find("output");
                auto result =
                    tool_result_text(it == block.end() ? bj::value("") : it->value(), policy_);
                out_.push_back(bj::object{{"role", "tool"},
                                          {"tool_name", str_at(block, "name")},
                                          {"content", result.text}});
                if (!result.promoted.empty()) {
                    std::vector<std::string> promo_texts;
                    bj::array promo_images;
                    for (const auto& item : result.promoted) {
                        if (!item.media)
                            promo_texts.push_back(item.text);
                        else
                            add_media(*item.media, promo_texts, promo_images);
                    }
                    bj::object turn{
                        {"role", "user"},
                        {"content", promo_texts.empty() ? result.text : join(promo_texts)}};
                    if (!promo_images.empty()) turn["images"] = std::move(promo_images);
                    out_.push_back(std::move(turn));
                }
            }
        }
        if (!texts.empty() || !images.empty()) push(role, texts, images);
    }

    const ChatRequest& request_;
    MediaPolicy policy_;
    MediaResolver resolver_;
    bj::array out_;
};

struct Knobs {
    std::optional<std::int64_t> max_tokens;
    std::optional<double> temperature;
    bool thinking = false;
};

Knobs read_parameters(const bj::object& parameters) {
    ParameterReader r(parameters);
    Knobs k;
    k.max_tokens = r.positive_int("max_tokens");
    k.thinking = r.flag("thinking_enable", false);
    k.temperature = r.number("temperature", 0, true, 2, true);
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
    body["model"] = model;
    body["messages"] = format_messages(request, options);
    body["stream"] = true;
    bj::object opts;
    if (k.max_tokens) opts["num_predict"] = *k.max_tokens;
    if (k.temperature) opts["temperature"] = *k.temperature;
    if (!opts.empty()) body["options"] = std::move(opts);
    body["think"] = k.thinking;  // always sent (Trap 11)
    for (const auto& kv : options.extra_body) body[kv.key()] = kv.value();
    // Ollama has no tool_choice: the mode is ignored (Trap 13).
    ToolsText tools_json;
    if (!request.tools.empty()) {
        tools_json = openai_tools_json(request.tools, false);
        body.erase("tools");  // ours replace any the caller's extra_body named
    }
    return RequestBody{std::move(body), std::move(tools_json)};
}

bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options) {
    return format_body(request, model, parameters, options).to_object();
}

}  // namespace agentd::model::ollama
