#pragma once
// Rebuilding the persisted reply message from its event stream (data-model §6.5,
// runtime §3.7.2): the message-log copy of a reply, as clients also rebuild it.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::domain {

namespace bj = boost::json;

/// The empty assistant message a REPLY_START opens: id = reply_id, name = the
/// event's name, content [], created_at = now.
bj::object start_reply(const bj::object& reply_start_event);

/// Applies one event to `msg` (Msg.append_event). Events whose reply_id differs
/// from the message id (or that have none, like CUSTOM) are ignored, and so are
/// deltas and ends whose block is not in the message. New blocks get fresh
/// created_at stamps (and text blocks inside tool output fresh ids), as in the
/// reference.
void append_event(bj::object& msg, const bj::object& event);

/// Base64 of the bytes of `a` followed by the bytes of `b` (each standard
/// base64, independently padded). nullopt when either is not valid base64.
std::optional<std::string> concat_base64(std::string_view a, std::string_view b);

}  // namespace agentd::domain
