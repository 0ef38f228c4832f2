#include "model/gemini/gemini_formatter.hpp"

#include <algorithm>
#include <cctype>

#include "model/history.hpp"
#include "model/json_repair.hpp"
#include "model/parameters.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model::gemini {

std::vector<std::string> default_input_types() {
    return {"text/plain", "image/*", "audio/*", "video/*", "application/pdf"};
}

namespace {

bj::object text_part(std::string_view text) { return {{"text", text}}; }

/// A function call's id is its thought signature when Gemini sent one (the
/// decoder, like the reference, keeps it there). Gemini 3 refuses a history
/// whose function calls come back without their signatures, so such an id also
/// goes back as `thoughtSignature`. Signatures are long standard base64 of
/// binary data, so they mix upper and lower case letters; the ids of other
/// providers and of agentd are short, hold '_' / '-', or are hexadecimal.
bool is_thought_signature(std::string_view id) {
    if (id.size() < 48) return false;
    const auto has = [id](auto pred) {
        return std::any_of(id.begin(), id.end(), [&](char c) { return pred(static_cast<unsigned char>(c)); });
    };
    if (!has([](unsigned char c) { return std::isupper(c); }) || !has([](unsigned char c) { return std::islower(c); }))
        return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
    });
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
    std::optional<bj::object> data_part(const MediaSource& m) const {
        if (!policy_.accepts(m.media_type)) return std::nullopt;
        auto b64 = inline_base64(m, resolver_);
        if (!b64) return text_part(media_note(m));
        return bj::object{{"inlineData", bj::object{{"data", *b64}, {"mimeType", m.media_type}}}};
    }

    void push(std::string_view role, bj::array& parts) {
        out_.push_back(bj::object{{"role", role}, {"parts", std::move(parts)}});
        parts = bj::array{};
    }

    void format_msg(const bj::object& msg) {
        const std::string_view role = str_at(msg, "role") == "assistant" ? "model" : "user";
        bj::array parts;
        for (const auto& bv : content_blocks_of(msg)) {
            if (!bv.is_object()) continue;
            const auto& block = bv.get_object();
            auto type = str_at(block, "type");
            if (type == "text") {
                parts.push_back(text_part(str_at(block, "text")));
            } else if (type == "thinking") {
                auto thinking = str_at(block, "thinking");
                if (!thinking.empty())
                    parts.push_back(bj::object{{"thought", true}, {"text", thinking}});
            } else if (type == "hint") {
                if (!parts.empty()) push(role, parts);
                auto it = block.find("hint");
                if (it == block.end()) continue;
                bj::array hint_parts;
                if (it->value().is_string()) {
                    hint_parts.push_back(text_part(it->value().get_string()));
                } else {
                    for (const auto& item : items_of(it->value())) {
                        if (!item.media)
                            hint_parts.push_back(text_part(item.text));
                        else if (auto p = data_part(*item.media))
                            hint_parts.push_back(std::move(*p));
                    }
                }
                if (!hint_parts.empty()) push("user", hint_parts);
            } else if (type == "data") {
                if (auto m = media_source_of(block))
                    if (auto p = data_part(*m)) parts.push_back(std::move(*p));
            } else if (type == "tool_call") {
                auto input = str_at(block, "input");
                const auto id = str_at(block, "id");
                bj::object part{{"functionCall", bj::object{{"id", id},
                                                            {"name", str_at(block, "name")},
                                                            {"args", tool_input_object(input.empty() ? "{}" : input)}}}};
                if (is_thought_signature(id)) part["thoughtSignature"] = id;
                parts.push_back(std::move(part));
            } else if (type == "tool_result") {
                if (!parts.empty()) push(role, parts);
                auto it = block.find("output");
                auto result =
                    tool_result_text(it == block.end() ? bj::value("") : it->value(), policy_);
                bj::array response{
                    bj::object{{"functionResponse",
                                bj::object{{"id", str_at(block, "id")},
                                           {"name", str_at(block, "name")},
                                           {"response", bj::object{{"output", result.text}}}}}}};
                push("user", response);
                bj::array promoted;
                for (const auto& item : result.promoted) {
                    if (!item.media)
                        promoted.push_back(text_part(item.text));
                    else if (auto p = data_part(*item.media))
                        promoted.push_back(std::move(*p));
                }
                if (!promoted.empty()) push("user", promoted);
            }
        }
        if (!parts.empty()) push(role, parts);
    }

    const ChatRequest& request_;
    MediaPolicy policy_;
    MediaResolver resolver_;
    bj::array out_;
};

struct Knobs {
    std::optional<std::int64_t> max_tokens, thinking_budget;
    std::optional<double> temperature, top_p;
    bool thinking = false;
};

Knobs read_parameters(const bj::object& parameters) {
    ParameterReader r(parameters);
    Knobs k;
    k.max_tokens = r.positive_int("max_tokens");
    k.thinking = r.flag("thinking_enable", false);
    k.thinking_budget = r.positive_int("thinking_budget");
    k.temperature = r.number("temperature", 0, true, 2, true);
    k.top_p = r.number("top_p", 0, false, 1, true);
    return k;
}

}  // namespace

bj::array format_contents(const ChatRequest& request, const FormatOptions& options) {
    return Formatter(request, options).run();
}

void validate_parameters(const bj::object& parameters) { read_parameters(parameters); }

RequestBody format_body(const ChatRequest& request, const std::string& model,
                        const bj::object& parameters, const FormatOptions& options) {
    (void)model;  // the model is part of the URL
    const Knobs k = read_parameters(parameters);
    check_tool_choice(request);

    bj::object config;
    if (k.max_tokens) config["maxOutputTokens"] = *k.max_tokens;
    if (k.temperature) config["temperature"] = *k.temperature;
    if (k.top_p) config["topP"] = *k.top_p;
    // Always sent: with thinking off the budget is 0 (Trap 11).
    config["thinkingConfig"] =
        k.thinking ? bj::object{{"includeThoughts", true},
                                {"thinkingBudget", k.thinking_budget ? *k.thinking_budget : 1024}}
                   : bj::object{{"includeThoughts", false}, {"thinkingBudget", 0}};
    for (const auto& kv : options.extra_config) config[kv.key()] = kv.value();

    bj::object body;
    ToolsText tools_json;
    body["contents"] = format_contents(request, options);
    body["generationConfig"] = std::move(config);
    if (!request.tools.empty()) {
        tools_json = gemini_tools_json(request.tools);
        if (request.tool_choice) {
            const auto& c = *request.tool_choice;
            bj::object calling;
            if (c == "auto")
                calling["mode"] = "AUTO";
            else if (c == "none")
                calling["mode"] = "NONE";
            else if (c == "required")
                calling["mode"] = "ANY";
            else
                calling = {{"mode", "ANY"}, {"allowedFunctionNames", bj::array{c}}};
            body["toolConfig"] = bj::object{{"functionCallingConfig", std::move(calling)}};
        }
    }
    return RequestBody{std::move(body), std::move(tools_json)};
}

bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options) {
    return format_body(request, model, parameters, options).to_object();
}

}  // namespace agentd::model::gemini
