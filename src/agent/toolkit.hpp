#pragma once
// Tools the agent can call, and the registry the loop consults.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cancellation.hpp"
#include "domain/session.hpp"
#include "model/chat_model.hpp"

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
};

class Tool {
public:
    virtual ~Tool() = default;
    virtual const model::ToolSchema& schema() const = 0;
    /// Safe to run at the same time as other concurrency-safe calls.
    virtual bool concurrency_safe() const { return false; }
    /// Runs with already parsed `input`; `emit` streams output as it is produced.
    virtual boost::asio::awaitable<ToolOutcome> run(const bj::object& input, ToolContext& ctx,
                                                    const std::function<void(const ToolChunk&)>& emit) = 0;
};

class Toolkit {
public:
    void add(std::shared_ptr<Tool> tool) { tools_[tool->schema().name] = std::move(tool); }
    Tool* find(const std::string& name) const {
        auto it = tools_.find(name);
        return it == tools_.end() ? nullptr : it->second.get();
    }
    std::vector<model::ToolSchema> schemas() const {
        std::vector<model::ToolSchema> out;
        for (const auto& [name, t] : tools_) out.push_back(t->schema());
        return out;
    }
    bool empty() const { return tools_.empty(); }

private:
    std::map<std::string, std::shared_ptr<Tool>> tools_;
};

}  // namespace agentd::agent
