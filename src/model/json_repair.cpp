#include "model/json_repair.hpp"

#include <cctype>
#include <string>
#include <vector>

namespace agentd::model {

namespace {

std::optional<boost::json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

/// Where the parser stands inside an open object.
enum class Slot { kKey, kColon, kValue, kComma };

void trim_right(std::string& s) {
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.pop_back();
}

std::string complete(std::string_view text) {
    std::string out;
    struct Frame {
        char close;
        Slot slot;
    };
    std::vector<Frame> stack;
    bool in_string = false, escaped = false;
    std::size_t string_start = 0;  // position of the opening quote in `out`
    for (char c : text) {
        if (in_string) {
            out.push_back(c);
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
                if (!stack.empty() && stack.back().close == '}')
                    stack.back().slot =
                        stack.back().slot == Slot::kKey ? Slot::kColon : Slot::kComma;
            }
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                string_start = out.size();
                break;
            case '{':
                stack.push_back({'}', Slot::kKey});
                break;
            case '[':
                stack.push_back({']', Slot::kValue});
                break;
            case '}':
            case ']':
                if (!stack.empty()) stack.pop_back();
                if (!stack.empty() && stack.back().close == '}') stack.back().slot = Slot::kComma;
                break;
            case ':':
                if (!stack.empty() && stack.back().close == '}') stack.back().slot = Slot::kValue;
                break;
            case ',':
                if (!stack.empty() && stack.back().close == '}') stack.back().slot = Slot::kKey;
                break;
            default:
                if (!stack.empty() && stack.back().close == '}' &&
                    stack.back().slot == Slot::kValue && c != ' ' && c != '\n' && c != '\r' &&
                    c != '\t')
                    stack.back().slot = Slot::kComma;
                break;
        }
        out.push_back(c);
    }
    if (in_string) {
        if (escaped) out.pop_back();
        // A dangling \uXXX escape cannot be closed; cut it off.
        auto bs = out.rfind("\\u");
        if (bs != std::string::npos && bs > string_start && out.size() - bs < 6) out.resize(bs);
        out.push_back('"');
        if (!stack.empty() && stack.back().close == '}')
            stack.back().slot = stack.back().slot == Slot::kKey ? Slot::kColon : Slot::kComma;
    }
    trim_right(out);
    // A partial literal or number at the very end.
    std::size_t tail = out.size();
    while (tail > 0 && (std::isalnum(static_cast<unsigned char>(out[tail - 1])) ||
                        out[tail - 1] == '.' || out[tail - 1] == '-' || out[tail - 1] == '+'))
        --tail;
    if (tail < out.size()) {
        std::string word = out.substr(tail);
        bool replaced = false;
        for (std::string_view lit : {"true", "false", "null"}) {
            if (lit.substr(0, word.size()) == word) {
                out.replace(tail, std::string::npos, lit);
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            while (!out.empty() && (out.back() == '.' || out.back() == '-' || out.back() == '+' ||
                                    out.back() == 'e' || out.back() == 'E'))
                out.pop_back();
        }
    }
    trim_right(out);
    while (!stack.empty()) {
        auto frame = stack.back();
        stack.pop_back();
        if (frame.close == '}') {
            switch (frame.slot) {
                case Slot::kColon:
                    out += ":null";
                    break;
                case Slot::kValue:
                    if (!out.empty() && out.back() == ':') out += "null";
                    break;
                default:
                    break;
            }
        }
        trim_right(out);
        if (!out.empty() && out.back() == ',') out.pop_back();
        out.push_back(frame.close);
        if (!stack.empty() && stack.back().close == '}') stack.back().slot = Slot::kComma;
    }
    return out;
}

}  // namespace

std::optional<boost::json::object> parse_object_with_repair(std::string_view text) {
    if (auto o = parse_object(text)) return o;
    return parse_object(complete(text));
}

boost::json::object tool_input_object(std::string_view raw_input) {
    if (raw_input.empty()) return {};
    if (auto o = parse_object_with_repair(raw_input)) return std::move(*o);
    return {};
}

}  // namespace agentd::model
