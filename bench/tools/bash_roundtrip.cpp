// Round trip of one Bash tool call running `true`, on the local and the bwrap
// backend: spawn, pipes, exit watch, reap, output formatting. The bwrap case
// adds the cost of building a sandbox per call.
#include "tool/builtin/bash_tool.hpp"
#include "tool_bench_support.hpp"

namespace {

using agentd::workspace::WorkspaceKind;

void bash_true(benchmark::State& state, WorkspaceKind kind) {
    agentd::bench::BenchWorkspaces workspaces(state, kind);
    if (!workspaces.manager) return;
    agentd::tool::BashTool tool(workspaces.manager->get("bench", "agent", "ws"));
    agentd::bench::time_tool_calls(state, tool, {{"command", "true"}});
}

void BM_BashTrueLocal(benchmark::State& state) { bash_true(state, WorkspaceKind::kLocal); }
void BM_BashTrueBwrap(benchmark::State& state) { bash_true(state, WorkspaceKind::kBwrap); }

BENCHMARK(BM_BashTrueLocal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BashTrueBwrap)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
