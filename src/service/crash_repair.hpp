#pragma once
// What a run that died mid-step (kill -9, a crash) left open, closed by the
// next run of the session before it does anything else (spec/runtime.md §5.3).
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace agentd::service {

namespace bj = boost::json;

/// The tail message a crashed run left with tool calls open, once repaired.
struct RepairedTail {
    bj::object message;
    std::vector<std::string> closed;  ///< the ids of the calls it closed
};

/// Closes the context's open tool calls: each call without a result gets an
/// interrupted one, so the model never sees a dangling call and an approved
/// call cut mid-run never runs again unasked. A parked reply keeps the calls it
/// legitimately awaits (asking, submitted) and those not reached yet; only its
/// approved calls without a result (`allowed`) are closed. Nothing when the
/// tail needs no repair.
std::optional<RepairedTail> repair_context_tail(bj::array& context);

/// The message-log copy of a reply a crash cut: each tool call without a
/// finished result (none yet, or one the crash left running) is closed the way
/// a live interrupt closes it, by folding the events that interrupt publishes.
/// With `only`, just the calls it names.
void close_cut_tool_calls(bj::object& reply, const std::vector<std::string>* only = nullptr);

}  // namespace agentd::service
