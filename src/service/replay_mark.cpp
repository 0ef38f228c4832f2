#include "service/replay_mark.hpp"

#include <algorithm>
#include <thread>

namespace agentd::service {

namespace {

constexpr const char* kField = "mark";
constexpr const char* kStoring = "storing";
constexpr std::chrono::milliseconds kReaderMarkTtl{10'000};

std::string reader_key(const std::string& session_id) { return bus::session_replay_key(session_id) + ":read"; }
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
    // The new mark first: a reader never sees the old one without the flag.
    bus.hash_set(bus::session_replay_key(session_id), kField, mark.encode());
    bus.hash_delete(bus::session_replay_key(session_id), kStoring);
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

void mark_step_storing(bus::MessageBus& bus, const std::string& session_id) {
    bus.hash_set(bus::session_replay_key(session_id), kStoring, "1");
}

// The mark and the flag, read before and after `read`: equal and without the
// flag, no step was being stored or got stored meanwhile, so what `read` saw is
// exactly what the mark says (a step sets the flag before it stores, and
// clears it only after writing its mark).
void read_with_replay_mark(bus::MessageBus& bus, const std::string& session_id, const std::function<void()>& read) {
    const std::string key = bus::session_replay_key(session_id);
    for (int attempt = 0;; ++attempt) {
        const auto before = bus.hash_get_all(key);
        read();
        if (before.empty()) break;  // no run holds the session: nothing to keep
        const bool storing =
            std::any_of(before.begin(), before.end(), [](const auto& f) { return f.first == kStoring; });
        if (!storing && bus.hash_get_all(key) == before) {
            for (const auto& [field, value] : before)
                if (field == kField) bus.hash_set(reader_key(session_id), kField, value, kReaderMarkTtl);
            return;
        }
        // A step is being stored (a millisecond or so): read again after it, a
        // few times at most; then the stream falls back to the run's own mark.
        if (attempt == 20) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    bus.hash_delete(reader_key(session_id));
}

std::optional<ReplayMark> take_reader_mark(bus::MessageBus& bus, const std::string& session_id) {
    const std::string key = reader_key(session_id);
    auto text = bus.hash_get(key, kField);
    if (!text) return std::nullopt;
    bus.hash_delete(key);
    return ReplayMark::decode(*text);
}

void drop_replay_marks(bus::MessageBus& bus, const std::string& session_id) {
    bus.hash_delete(bus::session_replay_key(session_id));
    bus.hash_delete(reader_key(session_id));
}

}  // namespace agentd::service
