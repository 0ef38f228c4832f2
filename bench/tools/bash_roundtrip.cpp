// Round trip of one Bash tool call running `true`, on the local and the bwrap
// backend: spawn, pipes, exit watch, reap, output formatting. The bwrap case
// adds the cost of building a sandbox per call.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>

#include "tool/builtin/bash_tool.hpp"
#include "workspace/directory_workspace_manager.hpp"

namespace {

namespace bj = boost::json;
using agentd::workspace::WorkspaceKind;

void bash_true(benchmark::State& bench, WorkspaceKind kind) {
    std::string pattern = "/tmp/agentd-bench-XXXXXX";
    std::filesystem::path data = ::mkdtemp(pattern.data());
    std::unique_ptr<agentd::workspace::DirectoryWorkspaceManager> manager;
    try {
        manager = std::make_unique<agentd::workspace::DirectoryWorkspaceManager>(data, kind);
    } catch (const std::exception& e) {
        bench.SkipWithError(e.what());
        return;
    }
    {
        agentd::tool::BashTool tool(manager->get("bench", "agent", "ws"));
        agentd::domain::SessionState state;
        agentd::agent::ToolContext ctx{"s", state, nullptr};
        const bj::object input{{"command", "true"}};
        std::function<void(const agentd::agent::ToolChunk&)> emit = [](const agentd::agent::ToolChunk&) {};
        boost::asio::io_context io;
        for (auto _ : bench) {
            auto future = boost::asio::co_spawn(io, tool.run(input, ctx, emit), boost::asio::use_future);
            io.restart();
            io.run();
            auto outcome = future.get();
            if (outcome.state != "success") bench.SkipWithError("Bash call failed");
        }
    }
    manager.reset();
    std::filesystem::remove_all(data);
}

void BM_BashTrueLocal(benchmark::State& bench) { bash_true(bench, WorkspaceKind::kLocal); }
void BM_BashTrueBwrap(benchmark::State& bench) { bash_true(bench, WorkspaceKind::kBwrap); }

BENCHMARK(BM_BashTrueLocal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BashTrueBwrap)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
