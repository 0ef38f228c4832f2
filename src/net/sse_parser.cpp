#include "net/sse_parser.hpp"

namespace agentd::net {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

/// Ollama ends lines with '\n'; tolerate "\r\n" and skip blank lines.
void emit_ndjson_line(std::string_view l, const std::function<void(std::string_view)>& on_line) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") != std::string_view::npos) on_line(l);
}

}  // namespace

// Lines are cut straight out of `bytes` when they lie wholly inside one feed; only a
// line split across feeds is copied into buffer_. buffer_ never holds a line end, so
// new bytes are the only ones that need scanning.
void SseParser::feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event) {
    std::string bom_held;  // the bytes held back while a BOM might still be arriving
    if (!seen_bom_check_) {
        // The BOM may itself arrive split; hold bytes in buffer_ until it is decided.
        buffer_.append(bytes);
        if (buffer_.size() < kBom.size() && kBom.starts_with(buffer_)) return;
        seen_bom_check_ = true;
        bom_held.swap(buffer_);
        if (std::string_view(bom_held).starts_with(kBom)) bom_held.erase(0, kBom.size());
        bytes = bom_held;
    }

    std::size_t i = 0;
    if (pending_cr_ && !bytes.empty()) {
        // The previous feed ended in '\r', already taken as a line end: a '\n' right
        // after it belongs to the same "\r\n".
        pending_cr_ = false;
        if (bytes[0] == '\n') i = 1;
    }
    while (i < bytes.size()) {
        auto end = bytes.find_first_of("\r\n", i);
        if (end == std::string_view::npos) {
            buffer_.append(bytes.substr(i));
            return;
        }
        std::string_view l;
        if (buffer_.empty()) {
            l = bytes.substr(i, end - i);
        } else {
            buffer_.append(bytes.substr(i, end - i));
            l = buffer_;
        }
        if (bytes[end] == '\r') {
            if (end + 1 == bytes.size())
                pending_cr_ = true;
            else if (bytes[end + 1] == '\n')
                ++end;
        }
        i = end + 1;
        line(l, on_event);
        buffer_.clear();
    }
}

void SseParser::finish(const std::function<void(const SseEvent&)>& on_event) {
    if (!seen_bom_check_) {
        // Fewer than three bytes ever arrived, all of them a BOM prefix: nothing to parse.
        seen_bom_check_ = true;
        buffer_.clear();
    }
    if (!buffer_.empty()) {
        std::string last;
        last.swap(buffer_);
        line(last, on_event);
    }
    line({}, on_event);  // dispatch what the missing blank line would have
    pending_cr_ = false;
}

void SseParser::line(std::string_view l, const std::function<void(const SseEvent&)>& on_event) {
    if (l.empty()) {
        if (has_data_) on_event(current_);
        // Per the spec the last event id persists across events; type and data do not.
        current_.event.clear();
        current_.data.clear();
        has_data_ = false;
        return;
    }
    if (l.front() == ':') return;  // comment
    std::string_view field = l;
    std::string_view value;
    if (auto colon = l.find(':'); colon != std::string_view::npos) {
        field = l.substr(0, colon);
        value = l.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (has_data_) current_.data.push_back('\n');
        current_.data.append(value);
        has_data_ = true;
    } else if (field == "event") {
        current_.event.assign(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) current_.id.assign(value);
    }
    // "retry" and unknown fields are ignored: reconnection is the caller's business.
}

void NdjsonParser::feed(std::string_view bytes,
                        const std::function<void(std::string_view)>& on_line) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        auto end = bytes.find('\n', i);
        if (end == std::string_view::npos) {
            buffer_.append(bytes.substr(i));
            return;
        }
        if (buffer_.empty()) {
            emit_ndjson_line(bytes.substr(i, end - i), on_line);
        } else {
            buffer_.append(bytes.substr(i, end - i));
            emit_ndjson_line(buffer_, on_line);
            buffer_.clear();
        }
        i = end + 1;
    }
}

void NdjsonParser::finish(const std::function<void(std::string_view)>& on_line) {
    if (buffer_.empty()) return;
    std::string last;
    last.swap(buffer_);
    emit_ndjson_line(last, on_line);
}

}  // namespace agentd::net
