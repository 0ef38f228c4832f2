#pragma once
// Incremental parsers for streamed response bodies: Server-Sent Events
// (OpenAI, Anthropic, Gemini) and newline-delimited JSON (Ollama).
#include <functional>
#include <string>
#include <string_view>

namespace agentd::net {

struct SseEvent {
    std::string event;  ///< "event:" field, empty when absent
    std::string data;   ///< "data:" lines joined with '\n'
    std::string id;
};

/// Feed bytes in any split; complete events come out in order (per the WHATWG
/// event-stream grammar: \n, \r\n or \r line ends, comment lines, BOM).
class SseParser {
public:
    void feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event);
    /// Emits a last event not terminated by a blank line (end of stream).
    void finish(const std::function<void(const SseEvent&)>& on_event);

private:
    void line(std::string_view l, const std::function<void(const SseEvent&)>& on_event);
    std::string buffer_;
    SseEvent current_;
    bool has_data_ = false;
    bool seen_bom_check_ = false;
    bool pending_cr_ = false;
};

/// Newline-delimited JSON: one callback per non-empty line.
class NdjsonParser {
public:
    void feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line);
    void finish(const std::function<void(std::string_view)>& on_line);

private:
    std::string buffer_;
};

}  // namespace agentd::net
