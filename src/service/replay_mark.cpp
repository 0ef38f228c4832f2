#include "service/replay_mark.hpp"

namespace agentd::service {

namespace {

constexpr const char* kField = "mark";
constexpr std::string_view kNone = "-";

std::optional<std::optional<bus::EntryId>> parse_id(std::string_view text) {
    if (text == kNone) return std::optional<bus::EntryId>{};
    auto id = bus::EntryId::parse(text);
    if (!id) return std::nullopt;
    return std::optional<bus::EntryId>{*id};
}

}  // namespace

// "<after>\n<reply start id>\n<reply start payload>", "-" for an absent id. An
// event's JSON has no raw line breaks, and only the first two are separators.
std::string ReplayMark::encode() const {
    std::string out = after ? after->to_string() : std::string(kNone);
    out += '\n';
    out += reply_start ? reply_start->id.to_string() : std::string(kNone);
    out += '\n';
    if (reply_start) out += reply_start->payload;
    return out;
}

std::optional<ReplayMark> ReplayMark::decode(const std::string& text) {
    const auto first = text.find('\n');
    if (first == std::string::npos) return std::nullopt;
    const auto second = text.find('\n', first + 1);
    if (second == std::string::npos) return std::nullopt;
    auto after = parse_id(std::string_view(text).substr(0, first));
    auto start_id = parse_id(std::string_view(text).substr(first + 1, second - first - 1));
    if (!after || !start_id) return std::nullopt;
    ReplayMark mark;
    mark.after = *after;
    if (*start_id) mark.reply_start = bus::LogEntry{**start_id, text.substr(second + 1)};
    return mark;
}

void write_replay_mark(bus::MessageBus& bus, const std::string& session_id, const ReplayMark& mark) {
    bus.hash_set(bus::session_replay_key(session_id), kField, mark.encode());
}

std::optional<ReplayMark> read_replay_mark(bus::MessageBus& bus, const std::string& session_id) {
    // A mark left by a process that died mid-run must not outlive its lock.
    if (!bus.is_locked(bus::session_lock_key(session_id))) return std::nullopt;
    auto text = bus.hash_get(bus::session_replay_key(session_id), kField);
    if (!text) return std::nullopt;
    return ReplayMark::decode(*text);
}

void clear_replay_mark(bus::MessageBus& bus, const std::string& session_id) {
    bus.hash_delete(bus::session_replay_key(session_id));
}

}  // namespace agentd::service
