#pragma once
// The seam through which the agent runs a tool call that may outlive its reply
// (spec/runtime.md §9.1). The service decides when a call moves to the
// background and where its result goes later; the agent only sees an outcome.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "agent/toolkit.hpp"

namespace agentd::agent {

struct ToolCallRef {
    std::string id;
    std::string name;
};

class ToolOffloader {
public:
    virtual ~ToolOffloader() = default;
    /// Runs `tool` on `input`. When the call ends in time, `emit` sees its
    /// chunks and its outcome is returned. Otherwise the call goes on in the
    /// background, `emit` sees a placeholder chunk, and the placeholder outcome is
    /// returned; the real result reaches the session's inbox later.
    ///
    /// Until the offload, cancelling `ctx.cancel` (the reply's interrupt)
    /// cancels the tool. After it, only the background task's own cancellation
    /// does (ToolStop, session deletion, shutdown).
    virtual boost::asio::awaitable<ToolOutcome> run(std::shared_ptr<Tool> tool, const bj::object& input,
                                                    const ToolCallRef& call, ToolContext& ctx,
                                                    const std::function<void(const ToolChunk&)>& emit) = 0;
};

}  // namespace agentd::agent
