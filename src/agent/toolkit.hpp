#pragma once
// Tools the agent can call, and the registry the loop consults.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
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

/// The tools of one run, in registration order (the order the model sees their
/// schemas); a tool registered under an existing name replaces it in place.
class Toolkit {
public:
    void add(std::shared_ptr<Tool> tool) {
        for (auto& t : tools_) {
            if (t->schema().name == tool->schema().name) {
                t = std::move(tool);
                return;
            }
        }
        tools_.push_back(std::move(tool));
    }
    Tool* find(const std::string& name) const {
        for (const auto& t : tools_)
            if (t->schema().name == name) return t.get();
        return nullptr;
    }
    std::vector<model::ToolSchema> schemas() const {
        std::vector<model::ToolSchema> out;
        out.reserve(tools_.size());
        for (const auto& t : tools_) out.push_back(t->schema());
        return out;
    }
    bool empty() const { return tools_.empty(); }

private:
    std::vector<std::shared_ptr<Tool>> tools_;
};

}  // namespace agentd::agent
