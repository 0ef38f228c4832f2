#pragma once
// A session's inbox and the run triggers (spec/runtime.md §2.5, §10.1): what a
// producer (a finished background tool, later schedules and teams) hands to a
// session reaches some run, even when no run is going on.
//
// The hand-off invariant: a payload pushed to an inbox is always consumed. A
// run registers as the inbox's consumer when it starts and, before it ends,
// checks the inbox once more under the inbox lock, releasing its registration
// only when the inbox is empty. A producer pushes under the same lock and
// reads the registration: without a consumer, it enqueues a `wake` trigger so
// that the wake-up dispatcher starts a run. Whichever comes first, the payload
// is covered.
//
// Every function here calls the bus synchronously: on the blocking pool, or on
// an io thread only with the in-memory bus.
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bus/message_bus.hpp"

namespace agentd::service::inbox {

namespace bj = boost::json;

std::string inbox_key(const std::string& session_id);
std::string inbox_lock_key(const std::string& session_id);
std::string consumer_key(const std::string& session_id);
/// The shared queue of run triggers, and the channel that nudges dispatchers.
inline const std::string kWakeupQueue = "agentscope:wakeups";
inline const std::string kWakeupSignal = "agentscope:wakeup_signal";

/// Lease of the inbox lock, and of a run's consumer registration (the run
/// lock's: a process that dies mid-run stops suppressing wake-ups with it).
inline constexpr std::chrono::milliseconds kInboxLockTtl{30'000};
inline constexpr std::chrono::milliseconds kConsumerTtl{600'000};
/// Hint blocks one reasoning step takes at most.
inline constexpr std::size_t kDrainBatch = 100;

/// One entry of the trigger queue.
struct Trigger {
    std::string user_id;
    std::string session_id;
    std::string agent_id;
    std::string kind = "wake";  ///< wake | resume | message
    bj::value input;            ///< null for wake; the event or Msg otherwise
};

bj::object to_json(const Trigger& trigger);

/// Queues `trigger` and nudges the dispatchers.
void enqueue_trigger(bus::MessageBus& bus, const Trigger& trigger);

/// Producer side: pushes `payload` (a hint block) and wakes the session when
/// no run consumes its inbox.
void deliver(bus::MessageBus& bus, const std::string& user_id, const std::string& session_id,
             const std::string& agent_id, const bj::object& payload);

/// Consumer side, at a run's start: this run drains the inbox from now on.
void register_consumer(bus::MessageBus& bus, const std::string& session_id);

/// Up to `max` payloads, oldest first (a reasoning step's drain).
std::vector<std::string> take(bus::MessageBus& bus, const std::string& session_id, std::size_t max = kDrainBatch);

/// At a run's end: true when payloads wait (the run stays the consumer and goes
/// round once more); otherwise the registration is dropped and false returned.
bool pending_or_release(bus::MessageBus& bus, const std::string& session_id);
/// The same in one attempt, never waiting: nullopt when the inbox lock is held
/// elsewhere at that moment (then call pending_or_release off the io threads).
std::optional<bool> try_pending_or_release(bus::MessageBus& bus, const std::string& session_id);

/// Drops the registration, leaving the inbox as it is (a parked reply: what
/// waits there is taken when the reply resumes).
void release(bus::MessageBus& bus, const std::string& session_id);

/// After a run that ended abnormally (interrupted, failed): drops the
/// registration and, when payloads wait, wakes the session for them.
void abandon_consumer(bus::MessageBus& bus, const std::string& user_id, const std::string& session_id,
                      const std::string& agent_id);

/// Drops the inbox and its registration (the session was deleted).
void purge(bus::MessageBus& bus, const std::string& session_id);

}  // namespace agentd::service::inbox
