#pragma once
// The ReAct loop of one reply (spec/runtime.md §4): reasoning steps that stream
// the model and turn its chunks into events, acting steps that run the tools the
// model called, until a final answer, the iteration limit, or an interrupt.
//
// The agent owns no I/O: events go to a ReplySink (the chat service publishes
// them and folds them into the persisted reply), and after every step the sink
// is asked to persist what changed.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/context_budget.hpp"
#include "agent/context_offloader.hpp"
#include "agent/tool_offload.hpp"
#include "agent/toolkit.hpp"
#include "common/cancellation.hpp"
#include "domain/session.hpp"
#include "model/chat_model.hpp"

namespace agentd::agent {

namespace bj = boost::json;

struct AgentProfile {
    std::string name;           ///< display name (AgentData.name)
    std::string system_prompt;  ///< full system prompt
    std::int64_t max_iters = 50;
    /// Extra iterations past max_iters a reply may spend producing its required
    /// structured output (the tool choice is forced during them).
    std::int64_t structured_output_grace_iters = 5;
    std::string interruption_message = "I notice the interruption. How can I help you?";
    std::int64_t tool_result_limit = 50000;  ///< tokens a tool result may keep in context
    std::int64_t max_image_num = 5;          ///< images the context keeps; older ones are replaced (§8.4)
    // Context compaction (spec §8.1).
    std::int64_t context_size = 32768;  ///< the model's context window, in tokens
    double trigger_ratio = 0.8;
    double reserve_ratio = 0.1;
    std::string compression_prompt;
    std::string summary_template;
    bj::object summary_schema;
};

class ReplySink {
public:
    virtual ~ReplySink() = default;
    /// Publishes one event (in order). Must not block.
    virtual void emit(const bj::object& event) = 0;
    /// Persists a step: `changed` are the context messages appended or modified
    /// since the previous checkpoint; the state is read from the agent's session.
    /// With `replace_context`, `changed` is the whole context (after compaction).
    /// They point into the agent's context, which does not change until the
    /// checkpoint returns.
    virtual boost::asio::awaitable<void> checkpoint(std::vector<const bj::object*>& changed,
                                                    bool replace_context) = 0;
    /// Publishes an event that is not part of the reply (CUSTOM state_updated):
    /// live subscribers see it, the persisted reply does not fold it.
    virtual void notify(const bj::object& event) { emit(event); }
    /// Takes what producers left in the session's inbox (hint blocks: background
    /// tool results, notifications), oldest first. Called in every reasoning
    /// step right before the model call, after compaction and the runtime-state
    /// injection (spec/runtime.md §4.4, §10.1).
    virtual boost::asio::awaitable<std::vector<bj::object>> drain_inbox() { co_return std::vector<bj::object>{}; }
};

class ReactAgent {
public:
    ReactAgent(AgentProfile profile, model::ChatModel& model, Toolkit& toolkit, std::string session_id,
               domain::SessionState& state, bj::array& context, ReplySink& sink, CancellationPtr cancel);

    /// A new reply to `inputs` (validated user Msg JSON objects): appends them to
    /// the context, emits REPLY_START ... REPLY_END. Model failures propagate
    /// (ModelError) after the partial reply was checkpointed.
    ///
    /// With `structured_schema` (library use; the HTTP service never asks for
    /// it) the reply must end with an output that follows this JSON schema: it is
    /// kept in reply_context.structured_schema (so a continuation of the parked
    /// reply keeps it), the model is given GenerateStructuredOutput and reminded
    /// to call it, forced to at max_iters, and the reply ends exceed_max_iters
    /// after the grace iterations (spec/runtime.md §4.3, §4.7). The output lands
    /// in reply_context.structured_output and in final_message(). A schema that
    /// is not an object schema throws std::invalid_argument before anything
    /// happens.
    boost::asio::awaitable<void> reply(const bj::array& inputs,
                                       std::optional<bj::object> structured_schema = std::nullopt);

    /// What the start of a reply changes before its first step: a new reply id
    /// in the state's reply_context, the inputs appended to the context, and the
    /// REPLY_START event to emit.
    struct Opening {
        std::string reply_id;
        bj::object reply_start;  ///< the REPLY_START event
    };
    /// Opens a reply to `inputs` on `state` and `context` as reply() would
    /// before its first checkpoint, for a caller that persists this together
    /// with what it stores anyway (the service: with the accepted input, one
    /// step instead of two) and then calls reply_opened().
    static Opening open_reply(domain::SessionState& state, bj::array& context, const bj::array& inputs,
                              const std::string& session_id, const std::string& agent_name,
                              std::optional<bj::object> structured_schema = std::nullopt);
    /// Runs a reply opened with open_reply() on this agent's state and context
    /// (before the agent was made) and already persisted: emits its REPLY_START,
    /// then goes on as reply() does after its first checkpoint.
    boost::asio::awaitable<void> reply_opened(const Opening& opening);

    /// Continues the parked reply of the state's reply_context with a
    /// USER_CONFIRM_RESULT, EXTERNAL_EXECUTION_RESULT or USER_INTERRUPT event
    /// (spec §6, §5.2). The event must have been checked with continuation_error().
    boost::asio::awaitable<void> resume(const bj::object& event);

    /// Closes every unfinished tool call of the current reply as interrupted and
    /// ends it (spec §5.3). Used for interrupts and for crash recovery.
    boost::asio::awaitable<void> close_interrupted();

    /// Whether the context's tail is this agent's reply with calls awaiting the
    /// user (asking) or an external result (submitted).
    bool parked() const;

    /// The workspace tools run in (null: tools that need one fail cleanly).
    void set_workspace(workspace::Workspace* ws) { workspace_ = ws; }
    /// Runs tool calls that may move to the background (null: every call runs
    /// inline). Tools that use the session state or run externally never do.
    void set_offloader(ToolOffloader* offloader) { offloader_ = offloader; }
    /// Keeps what compaction, truncation and the image limit take out of the
    /// context, and names it in their notices (null: it is only dropped).
    void set_context_offloader(ContextOffloader* offloader) { context_offloader_ = offloader; }

    const std::string& reply_id() const { return reply_id_; }

    /// The message the last reply(), resume() or close_interrupted() ended with,
    /// as the reference's reply returns it (not stored in the context): the final
    /// answer; "The required structured output is generated." carrying
    /// `structured_output`; the exceed, waiting or interruption notice. Null
    /// while nothing has ended.
    const std::optional<bj::object>& final_message() const { return final_message_; }

private:
    enum class CallEnd { kFinished, kParked, kInterrupted };
    /// The turn's steps until it ends or parks; `state_before` is the state the
    /// turn's change notice compares with (default: as the loop starts).
    boost::asio::awaitable<void> loop(std::optional<std::string> state_before = std::nullopt);
    /// One model call, after appending `hint` to the reply when given; returns
    /// true when the reply got a final answer (then kept as final_candidate_).
    boost::asio::awaitable<bool> reasoning(std::optional<bj::object> hint, std::optional<std::string> tool_choice);
    /// Ends the reply with EXCEED_MAX_ITERS and REPLY_END exceed_max_iters.
    boost::asio::awaitable<void> exceed_max_iters();
    /// Registers GenerateStructuredOutput for the reply context's schema, or
    /// removes it when the reply requires none (spec/runtime.md §4.2 step 4).
    void equip_structured_output();
    /// An assistant message of this reply for final_message().
    bj::object notice(std::string_view text, bj::value finished_reason, bj::value structured_output = nullptr) const;
    boost::asio::awaitable<void> acting();
    /// Runs the call with this id (looked up afresh: blocks move as the reply grows).
    /// `kept_rules` (concurrent batches only) de-duplicates asks covered by a rule
    /// an earlier call of the batch already suggested (spec §4.5.2 step 3).
    boost::asio::awaitable<CallEnd> run_tool(std::string call_id, std::vector<permission::Rule>* kept_rules);
    /// Runs the calls at the same time on this coroutine's strand; returns when all
    /// ended, whether any parked.
    boost::asio::awaitable<bool> run_concurrently(const std::vector<std::string>& call_ids);
    /// Applies a confirmation or external results to the parked calls.
    void apply_confirmations(const bj::object& event);
    boost::asio::awaitable<void> apply_external_results(const bj::object& event);
    /// A tool output as the context keeps it: cut at the limit, the rest offloaded and named.
    boost::asio::awaitable<bj::value> context_tool_output(const std::string& call_id, const bj::value& output);
    /// An error result for a call that never ran (validation, deny, user denial).
    void error_result(const std::string& id, const std::string& name, std::string_view state, const std::string& text);
    /// Publishes CUSTOM state_updated when tasks or permissions changed since `before`.
    void notify_state_change(const std::string& before);
    std::string state_fingerprint() const;
    /// The assistant message of the current reply at the context's tail (created on demand).
    bj::object& reply_message();
    bool has_reply_message() const;
    /// The structured output this reply must produce, or null when it is free text.
    const bj::object* required_schema() const;
    void maybe_inject_runtime_state();
    /// Compacts the context into the summary when the model input nears its window.
    boost::asio::awaitable<void> maybe_compact();
    /// Replaces the oldest images beyond max_image_num with a reminder (§8.4).
    boost::asio::awaitable<void> limit_images();
    /// Brings the token and image totals of the messages before the tail up to
    /// date (those change only through this agent, so each is counted once).
    void refresh_cost_cache();
    /// The estimated tokens of the tool schemas the next model call carries: the
    /// reference counts them with the context when it decides to compact.
    std::int64_t tool_schema_tokens() const;
    /// The estimated tokens of the compression request's one tool (the summary schema).
    std::int64_t compression_tool_tokens() const;
    /// Message `index` changed in place from `before`: keeps the totals right.
    void recount(std::size_t index, const ContextCost& before);
    /// Reads and writes what the scans above learnt (counts, the last injected
    /// time, whether tasks are known) in state.middle_context, so that the next
    /// run reads only what is new instead of the whole history.
    void load_context_scan();
    void store_context_scan();
    void append_blocks(const bj::array& blocks);
    /// Puts the inbox's hint blocks into the context and announces each (§10.1).
    boost::asio::awaitable<void> take_inbox();
    void mark_dirty() { dirty_ = true; }
    boost::asio::awaitable<void> checkpoint();
    bool cancelled() const { return cancel_ && cancel_->requested(); }
    std::int64_t cur_iter() const;
    void set_cur_iter(std::int64_t v);
    /// Calls of the reply message that have no result yet.
    std::vector<bj::object*> unfinished_calls();

    AgentProfile profile_;
    model::ChatModel& model_;
    Toolkit& toolkit_;
    std::string session_id_;
    domain::SessionState& state_;
    bj::array& context_;
    ReplySink& sink_;
    CancellationPtr cancel_;
    std::string reply_id_;
    std::size_t context_mark_;  ///< context size at the last checkpoint
    bool dirty_ = false;        ///< the tail (reply) message changed since the last checkpoint
    bool context_replaced_ = false;  ///< compaction rewrote the context since the last checkpoint
    std::size_t counted_ = 0;           ///< messages [0, counted_) are in the totals below
    std::int64_t counted_tokens_ = 0;   ///< their estimated tokens
    /// tool_schema_tokens() for the activated groups it was last taken with (the
    /// toolkit does not change during a run; `reset_tools` changes the groups).
    mutable std::optional<std::pair<std::vector<std::string>, std::int64_t>> schema_tokens_;
    std::int64_t counted_images_ = 0;   ///< their images
    std::vector<std::size_t> touched_;       ///< older context messages changed since the last checkpoint
    std::size_t injection_scan_from_ = 0;    ///< first context index the injection scan has not read
    std::optional<std::int64_t> last_injection_us_;  ///< newest runtime-state time seen in context
    bool tasks_known_ = false;  ///< the context shows a task tool call or a tasks reminder
    workspace::Workspace* workspace_ = nullptr;
    ToolOffloader* offloader_ = nullptr;
    ContextOffloader* context_offloader_ = nullptr;
    std::optional<bj::object> final_candidate_;  ///< the last reasoning's final answer, as a message
    std::optional<bj::object> final_message_;
};

/// Why a continuation event cannot apply to this context (spec §4.2 step 2), or
/// nullopt when it can. `agent_name` authors the parked reply.
std::optional<std::string> continuation_error(const bj::array& context, const std::string& agent_name,
                                              const bj::object& event);

/// The key of state.middle_context under which the agent keeps its context
/// scan (see ReactAgent::store_context_scan).
inline constexpr std::string_view kContextScanKey = "agentd_context_scan";

/// The hint text of the runtime-state injection (current time in UTC).
std::string runtime_state_hint(std::int64_t now_us);
/// The injection's hint source, as the reference writes it.
inline constexpr std::string_view kRuntimeStateSource = R"({"label": "System", "sublabel": "Runtime State"})";

/// The reminder text of a reply that still owes its structured output; `forced`
/// once the iteration limit is reached (the tool choice is then forced).
std::string structured_output_hint(bool forced);
/// That reminder's hint source, as the reference writes it.
inline constexpr std::string_view kStructuredOutputSource =
    R"({"label": "System", "sublabel": "Structured Output Requirement"})";

}  // namespace agentd::agent
