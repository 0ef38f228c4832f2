#pragma once
// Sessions: the record, its small state, configs, and the derived status.
//
// The conversation (state.context) is not part of the row: it lives in its own
// append-only table and is attached only when a caller asks for it.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/validation.hpp"

namespace agentd::domain {

namespace bj = boost::json;

/// AgentState without `context` (see SessionRecord::context).
struct SessionState {
    std::string session_id;
    bj::value summary = "";
    bj::object reply_context;
    bj::object permission_context;
    bj::object tool_context;
    bj::object tasks_context;
    bj::object middle_context;

    /// A never-run state: random session_id and reply_id, permission mode "default".
    static SessionState fresh();
};

struct SessionRecord {
    std::string id;
    std::string user_id;
    std::string agent_id;
    std::string source = "user";  ///< user | schedule | channel
    std::optional<std::string> source_schedule_id;
    std::optional<std::string> source_chat_id;
    std::optional<std::string> source_channel_id;
    std::optional<std::string> team_id;
    std::int64_t created_us = 0;
    std::int64_t updated_us = 0;
    bj::object config;  ///< SessionConfig, canonical
    SessionState state;
    std::optional<bj::array> context;  ///< state.context, when loaded
    /// Status the context's tail implies (idle / awaiting_permission /
    /// awaiting_external_result), kept beside the row so lists need not read context.
    std::string tail_status = "idle";
};

/// SessionRecord JSON. `context` comes from record.context (or [] when not loaded).
bj::object to_json(const SessionRecord& r);

/// The list view's trimmed record: context [], summary "", fresh tool_context.
bj::object trimmed_json(const SessionRecord& r);

/// Default ToolContext JSON.
bj::object default_tool_context();

/// The active non-basic tool groups, `tool_context.activated_groups`, in their
/// stored order (non-string entries are skipped; absent → none).
std::vector<std::string> activated_groups(const SessionState& state);
/// After a context compaction: drops every read-file cache entry whose file no
/// `Read` call among `kept` messages names. The model no longer holds what the
/// summary replaced, so Write and Edit want those files read again.
void keep_read_cache_of_kept_reads(SessionState& state, const bj::array& kept);

/// Replaces `tool_context.activated_groups`.
void set_activated_groups(SessionState& state, const std::vector<std::string>& groups);

/// Status implied by the last context message (spec api-core §7.7 step 3).
std::string derive_tail_status(const bj::array& context);

/// Parses an optional ChatModelConfig / TTSModelConfig (null allowed).
std::optional<bj::value> parse_model_config(const bj::value& v, const bj::array& loc,
                                            validation::Issues& issues);
/// Parses an optional SessionKnowledgeConfig (null allowed).
std::optional<bj::value> parse_knowledge_config(const bj::value& v, const bj::array& loc,
                                                validation::Issues& issues);

/// The permission modes, in the reference's enum order.
inline constexpr std::string_view kPermissionModes[] = {"default", "accept_edits", "explore",
                                                        "bypass", "dont_ask"};

}  // namespace agentd::domain
