#pragma once
// Where a stream opened without a cursor starts its replay.
//
// A client that opens a session (the Web UI does this) first reads
// GET /sessions/{id}/messages, then opens the stream without Last-Event-ID and
// folds what the stream sends into the messages it read. The reference keeps only
// the running reply's events in its log and stores the reply when the run ends,
// so the two never overlap. Agentd stores the reply at every step and keeps the
// log across runs (for resumes by id), so a cursor-less replay of the whole log
// would hand the client events that the messages it read already hold: the UI
// then shows that text twice.
//
// The run therefore records, with every step it stores, the last event that step
// holds: a cursor-less stream replays only what came after it, preceded by the
// running reply's REPLY_START (a client points its folding at the message it
// already has, exactly as it does for a continuation). While no run holds the
// session there is nothing unsaved, and nothing is replayed. A read of the
// newest messages keeps the mark it matched for the stream that follows it, so
// a step stored between the two requests is neither lost nor sent twice.
#include <functional>
#include <optional>
#include <string>

#include "bus/message_bus.hpp"

namespace agentd::service {

struct ReplayMark {
    /// Replay entries after this one; nullopt: every entry of the log.
    std::optional<bus::EntryId> after;
    /// The REPLY_START of the reply still open at `after`, sent first.
    std::optional<bus::LogEntry> reply_start;

    std::string encode() const;
    /// nullopt for a value this version did not write.
    static std::optional<ReplayMark> decode(const std::string& text);
};

/// Records `mark` for the session's running reply. It has no expiry: the run
/// clears it before it lets go of the lock, a reader ignores it while the lock is
/// free (a crashed run's), and deleting the session drops it.
void write_replay_mark(bus::MessageBus& bus, const std::string& session_id, const ReplayMark& mark);
/// Where a cursor-less stream of the session starts: nullopt when no run holds
/// the session (or it has not marked yet), so nothing is replayed.
std::optional<ReplayMark> read_replay_mark(bus::MessageBus& bus, const std::string& session_id);
/// Drops the mark: called while the run still holds the session's lock.
void clear_replay_mark(bus::MessageBus& bus, const std::string& session_id);

/// Said before a step is stored; write_replay_mark ends it. A reader that
/// meets it reads again (see read_with_replay_mark).
void mark_step_storing(bus::MessageBus& bus, const std::string& session_id);

/// Runs `read` (the session's messages) so that it sees exactly the steps of one
/// mark, and keeps that mark for the stream the same client opens next without
/// a cursor (take_reader_mark): the replay then starts where what it read ends,
/// even when a step is stored, or the run ends, between the two requests. `read`
/// may run more than once.
void read_with_replay_mark(bus::MessageBus& bus, const std::string& session_id, const std::function<void()>& read);
/// The mark kept by the last read of the session's messages (at most 10 s old),
/// taken so that no later stream uses it.
std::optional<ReplayMark> take_reader_mark(bus::MessageBus& bus, const std::string& session_id);
/// Drops the run's mark and the one kept for a reader: the session is deleted.
void drop_replay_marks(bus::MessageBus& bus, const std::string& session_id);

}  // namespace agentd::service
