#include "model/history.hpp"

#include <filesystem>
#include <iterator>
#include <random>

namespace agentd::model {


std::vector<const bj::object*> history_of(const ChatRequest& request, bj::object& system_storage) {
    std::vector<const bj::object*> out;
    if (!request.system_prompt.empty()) {
        system_storage = bj::object{
            {"name", "system"},
            {"role", "system"},
            {"content", bj::array{bj::object{{"type", "text"}, {"text", request.system_prompt}}}},
        };
        out.push_back(&system_storage);
    }
    for (const auto& m : request.messages)
        if (m.is_object()) out.push_back(&m.get_object());
    if (request.context)
        for (const auto& m : *request.context)
            if (m.is_object()) out.push_back(&m.get_object());
    return out;
}

bj::array content_blocks_of(const bj::object& msg) {
    auto it = msg.find("content");
    if (it == msg.end()) return {};
    if (it->value().is_array()) return it->value().get_array();
    if (it->value().is_string())
        return bj::array{bj::object{{"type", "text"}, {"text", it->value().get_string()}}};
    return {};
}

std::optional<MediaSource> media_source_of(const bj::object& block) {
    auto it = block.find("source");
    if (it == block.end() || !it->value().is_object()) return std::nullopt;
    const auto& src = it->value().get_object();
    MediaSource m;
    m.media_type = std::string(str_at(src, "media_type"));
    auto type = str_at(src, "type");
    if (type == "url") {
        m.is_url = true;
        m.value = std::string(str_at(src, "url"));
    } else if (type == "base64") {
        m.value = std::string(str_at(src, "data"));
    } else {
        return std::nullopt;
    }
    m.name = std::string(str_at(block, "name"));
    return m;
}

std::vector<ContentItem> items_of(const bj::value& v) {
    std::vector<ContentItem> out;
    if (v.is_string()) {
        out.push_back({std::string(v.get_string()), std::nullopt});
        return out;
    }
    if (!v.is_array()) return out;
    for (const auto& item : v.get_array()) {
        if (!item.is_object()) continue;
        const auto& b = item.get_object();
        auto type = str_at(b, "type");
        if (type == "text") {
            out.push_back({std::string(str_at(b, "text")), std::nullopt});
        } else if (type == "data") {
            if (auto m = media_source_of(b)) out.push_back({"", std::move(m)});
        }
    }
    return out;
}

ToolResultText tool_result_text(const bj::value& output, const MediaPolicy& policy, bool promote) {
    ToolResultText result;
    if (output.is_string()) {
        result.text = std::string(output.get_string());
        return result;
    }
    std::vector<std::string> lines;
    std::vector<ContentItem> shown;
    for (auto& item : items_of(output)) {
        if (!item.media) {
            lines.push_back(std::move(item.text));
            continue;
        }
        const auto& m = *item.media;
        std::string main(m.main_type());
        if (promote && policy.accepts(m.media_type)) {
            std::string id = short_uuid();
            lines.push_back("<system-reminder>A(n) " + main +
                            " file is returned and will be presented to you with the identifier [" +
                            id + "].</system-reminder>");
            shown.push_back({"- " + id + " (" + main + " file): ", std::nullopt});
            shown.push_back(std::move(item));
        } else if (m.is_url) {
            lines.push_back("<system-reminder>A(n) " + main +
                            " file is returned and can be accessed at the URL: " + m.value +
                            ".</system-reminder>");
        } else {
            lines.push_back("<system-reminder>A(n) " + main + " file (" + m.media_type +
                            ") is returned but cannot be shown to you.</system-reminder>");
        }
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i) result.text += '\n';
        result.text += lines[i];
    }
    if (!shown.empty()) {
        result.promoted.push_back(
            {"<system-reminder>The multimodal data and their identifiers are listed as follows:",
             std::nullopt});
        for (auto& s : shown) result.promoted.push_back(std::move(s));
        result.promoted.push_back({"</system-reminder>", std::nullopt});
    }
    return result;
}

void merge_promoted(std::vector<ContentItem>& into, std::vector<ContentItem> more) {
    if (more.empty()) return;
    if (into.empty()) {
        into = std::move(more);
        return;
    }
    // Both hold intro, items…, closing: keep `into`'s intro and closing and
    // splice `more`'s items in before that closing.
    into.insert(into.end() - 1, std::make_move_iterator(more.begin() + 1),
                std::make_move_iterator(more.end() - 1));
}

std::optional<std::string> inline_base64(const MediaSource& m, const MediaResolver& resolver) {
    if (!m.is_url) return m.value;
    if (!resolver) return std::nullopt;
    return resolver(m.value);
}

std::string media_note(const MediaSource& m) {
    std::string main(m.main_type());
    if (m.is_url) return "[" + main + " file, URL: " + m.value + "]";
    return "[" + main + " file, type: " + m.media_type + "]";
}

bool is_file_url(std::string_view url) { return url.substr(0, 7) == "file://"; }

std::string short_uuid() {
    static constexpr char kAlphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<int> pick(0, 56);
    std::string out(22, ' ');
    for (auto& c : out) c = kAlphabet[pick(rng)];
    return out;
}

std::string joined_text(const std::vector<ContentItem>& items, std::string_view sep) {
    std::string out;
    bool first = true;
    for (const auto& i : items) {
        if (i.media) continue;
        if (!first) out += sep;
        out += i.text;
        first = false;
    }
    return out;
}

std::optional<std::string> confined_file_path(std::string_view url, std::string_view root) {
    constexpr std::string_view kScheme = "file://";
    if (root.empty() || url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
    namespace fs = std::filesystem;
    fs::path base = fs::path(std::string(root)).lexically_normal();
    fs::path p = fs::path(std::string(url.substr(kScheme.size())));
    if (p.is_relative()) p = base / p;
    p = p.lexically_normal();
    auto rel = p.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") return std::nullopt;
    return p.string();
}

}  // namespace agentd::model
