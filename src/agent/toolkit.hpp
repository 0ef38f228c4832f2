#pragma once
// Tools the agent can call, and the registry the loop consults.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cancellation.hpp"
#include "domain/session.hpp"
#include "model/chat_model.hpp"
#include "permission/permission.hpp"

namespace agentd::workspace {
class Workspace;
}

namespace agentd::agent {

namespace bj = boost::json;

/// One piece of a tool's streamed output.
struct ToolChunk {
    std::string text;                       ///< appended text, may be empty
    std::optional<bj::object> data_source;  ///< a data block's source ({type: base64|url, ...})
};

/// A tool's final result.
struct ToolOutcome {
    std::string state = "success";  ///< success | error | interrupted | denied
    bj::value output = "";          ///< string, or array of text/data blocks
    bj::object metadata;
};

/// What a running tool may see and change.
struct ToolContext {
    std::string session_id;
    domain::SessionState& state;  ///< live state (tasks, permissions, tool context)
    CancellationPtr cancel;
    workspace::Workspace* workspace = nullptr;  ///< where file and shell tools work; null in bare tests
};

/// A tool: its schema, how it runs, and its opinion for the permission engine.
/// The permission defaults are those of a plain function tool: not read-only,
/// ask before running, only tool-wide rules match.
class Tool : public permission::PermissionSubject {
public:
    virtual const model::ToolSchema& schema() const = 0;
    /// Safe to run at the same time as other concurrency-safe calls.
    virtual bool concurrency_safe() const { return false; }
    /// Statically read-only (allowed in every mode unless a rule says otherwise).
    virtual bool read_only() const { return false; }
    /// Executed by the client, not the service (REQUIRE_EXTERNAL_EXECUTION).
    virtual bool external() const { return false; }
    /// Reads or changes the live session state (ToolContext::state). Such a tool
    /// always runs inline: a call moved to the background gets a copy of the
    /// state, and what it changed there would be lost (spec/runtime.md §9.1).
    virtual bool uses_session_state() const { return false; }

    const std::string& subject_name() const override { return schema().name; }
    bool check_read_only(const bj::object&) const override { return read_only(); }
    permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
        return permission::Decision::ask();
    }
    bool match_rule(const std::string&, const bj::object&) const override { return false; }
    std::vector<permission::Rule> suggestions(const bj::object&) const override {
        return {permission::Rule{schema().name, std::nullopt, permission::Behavior::kAllow, "suggested"}};
    }
    /// Runs with already parsed `input`; `emit` streams output as it is produced.
    virtual boost::asio::awaitable<ToolOutcome> run(const bj::object& input, ToolContext& ctx,
                                                    const std::function<void(const ToolChunk&)>& emit) = 0;
};

/// A named set of tools the model sees only while the group is active
/// (spec/tools-workspace.md §2.1). The implicit group `basic` is always active.
struct ToolGroup {
    std::string name;
    std::string description;                  ///< when to activate it; required but for basic
    std::optional<std::string> instructions;  ///< returned by reset_tools while the group is active
    std::vector<std::shared_ptr<Tool>> tools;
};

/// What a tool name leads to for the current activation (Toolkit::find).
struct ToolLookup {
    Tool* tool = nullptr;  ///< the tool, when it is available
    std::string error;     ///< otherwise the error result's text (ToolGroupInactiveError / ToolNotFoundError)
};

/// The tools of one run, in groups. `basic` comes first and is always active;
/// the other groups count only while named in the session's
/// `tool_context.activated_groups`, which the agent passes on every call. The
/// meta tool `reset_tools` (tool/builtin/reset_tools.hpp), which switches them,
/// is offered as soon as one non-basic group is registered.
///
/// Within a group a tool registered under an existing name replaces it in place.
/// Across groups a later tool of the same name shadows the earlier one but keeps
/// its position (spec §2.2).
///
/// Built and used by one run (one strand); not shared between threads.
class Toolkit {
public:
    static constexpr std::string_view kBasicGroup = "basic";

    Toolkit();

    /// Registers `tool` in `basic`.
    void add(std::shared_ptr<Tool> tool);
    /// Registers `tool` in the named group; throws std::invalid_argument when
    /// no such group is registered.
    void add(std::shared_ptr<Tool> tool, std::string_view group);
    /// Registers a non-basic group, after the ones registered before. Throws
    /// std::invalid_argument (a wiring mistake, not a client's) for the name
    /// `basic`, a name already registered, or an empty description.
    void add_group(ToolGroup group);
    /// Unregisters every tool of that name, whatever its group.
    void remove(std::string_view tool_name);

    /// The tool `name` if it is available with `activated` groups; otherwise
    /// the error text the model gets (spec §2.3 step 1).
    ToolLookup find(const std::string& name, const std::vector<std::string>& activated) const;
    /// The tool of that name in any group, active or not (what batching looks
    /// at: spec/runtime.md §4.5.1); null when unknown.
    Tool* find_registered(const std::string& name) const;
    /// The registered owner of `tool` (a call moved to the background keeps its
    /// tool alive past the run); null when it is not registered.
    std::shared_ptr<Tool> shared(const Tool* tool) const;
    /// The schemas the model is offered with `activated` groups, in the spec's
    /// order: reset_tools (when a non-basic group exists), then the tools of
    /// basic and of each active group, in registration order.
    std::vector<model::ToolSchema> schemas(const std::vector<std::string>& activated = {}) const;

    /// basic first, then the others in registration order.
    const std::vector<ToolGroup>& groups() const { return groups_; }
    bool empty() const;

private:
    struct Entry {
        Tool* tool;
        const std::string* group;
    };
    /// The name-ordered tool table of spec §2.2 for basic plus `activated`
    /// (every group when `all_groups`).
    std::vector<Entry> available(const std::vector<std::string>& activated, bool all_groups) const;
    ToolGroup* group_named(std::string_view name);

    std::vector<ToolGroup> groups_;
    /// reset_tools for the current groups; replaced (never changed) when a
    /// group is added, so a copied toolkit never sees another's groups.
    std::shared_ptr<Tool> meta_tool_;
};

}  // namespace agentd::agent
