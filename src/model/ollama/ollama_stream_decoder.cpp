#include "common/json_access.hpp"
#include "model/ollama/ollama_stream_decoder.hpp"

#include "common/json.hpp"
#include "model/history.hpp"
#include "model/provider_error.hpp"

namespace agentd::model::ollama {

using json::int_at;


std::vector<ModelChunk> OllamaStreamDecoder::feed(std::string_view line) {
    std::vector<ModelChunk> out;
    bj::object event = parse_event_or_throw(line, "Ollama");
    throw_if_error_payload(event);
    ModelChunk chunk;
    if (auto m = event.find("message"); m != event.end() && m->value().is_object()) {
        const auto& msg = m->value().get_object();
        builder_.add_thinking(str_at(msg, "thinking"), chunk);
        builder_.add_text(str_at(msg, "content"), chunk);
        if (auto calls = msg.find("tool_calls"); calls != msg.end() && calls->value().is_array()) {
            std::size_t index = 0;
            for (const auto& cv : calls->value().get_array()) {
                const bj::object* fn = nullptr;
                if (cv.is_object())
                    if (auto f = cv.get_object().find("function");
                        f != cv.get_object().end() && f->value().is_object())
                        fn = &f->value().get_object();
                std::string name(fn ? str_at(*fn, "name") : std::string_view{});
                bj::value args = nullptr;
                if (fn)
                    if (auto a = fn->find("arguments"); a != fn->end()) args = a->value();
                builder_.add_tool_call(std::to_string(index) + "_" + name, name,
                                       json::write(args, json::Style::kPython), chunk);
                ++index;
            }
        }
    }
    Usage usage;
    usage.input_tokens = int_at(event, "prompt_eval_count");
    usage.output_tokens = int_at(event, "eval_count");
    builder_.set_usage(usage);
    if (auto d = event.find("done");
        d != event.end() && d->value().is_bool() && d->value().get_bool())
        finished_ = true;
    surface(chunk, out);
    return out;
}

}  // namespace agentd::model::ollama
