#pragma once
// Shared by the tool round-trip benchmarks: a workspace manager over a fresh
// temporary data folder, and a loop timing one tool call per iteration the way
// a run makes it (Tool::run on an io_context).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "agent/toolkit.hpp"
#include "domain/session.hpp"
#include "workspace/directory_workspace_manager.hpp"

namespace agentd::bench {

/// Workspaces of one backend under a temporary folder, removed at the end.
/// `manager` is null when the backend cannot run here (the benchmark is skipped).
class BenchWorkspaces {
public:
    BenchWorkspaces(benchmark::State& state, workspace::WorkspaceKind kind) {
        std::string pattern = "/tmp/agentd-bench-XXXXXX";
        data_ = ::mkdtemp(pattern.data());
        try {
            manager = std::make_unique<workspace::DirectoryWorkspaceManager>(data_, kind);
        } catch (const std::exception& e) {
            state.SkipWithError(e.what());
        }
    }
    ~BenchWorkspaces() {
        manager.reset();
        std::error_code ec;
        std::filesystem::remove_all(data_, ec);
    }
    std::unique_ptr<workspace::DirectoryWorkspaceManager> manager;

private:
    std::filesystem::path data_;
};

/// One call of `tool` with `input` per iteration; a call that does not succeed
/// stops the benchmark with an error.
inline void time_tool_calls(benchmark::State& state, agent::Tool& tool, const boost::json::object& input) {
    domain::SessionState session;
    agent::ToolContext ctx{"s", session, nullptr};
    const std::function<void(const agent::ToolChunk&)> emit = [](const agent::ToolChunk&) {};
    boost::asio::io_context io;
    for (auto _ : state) {
        auto future = boost::asio::co_spawn(io, tool.run(input, ctx, emit), boost::asio::use_future);
        io.restart();
        io.run();
        const auto outcome = future.get();
        if (outcome.state != "success") {
            state.SkipWithError((tool.schema().name + " call failed").c_str());
            break;
        }
    }
}

}  // namespace agentd::bench
