// Round trip of one Read tool call on a 10-page PDF, on the local and the bwrap
// backend: reading the file, `pdfinfo` for the page count and `pdftotext` for
// the pages, each a child process run through the workspace (docs/performance.md,
// "Tools"). Linked into agentd_tools_bench beside the Bash round trip.
#include <fstream>

#include "tool/builtin/pdf_test_support.hpp"
#include "tool/builtin/read_tool.hpp"
#include "tool_bench_support.hpp"

namespace {

using agentd::workspace::WorkspaceKind;

void read_pdf(benchmark::State& state, WorkspaceKind kind, const char* pages) {
    agentd::bench::BenchWorkspaces workspaces(state, kind);
    if (!workspaces.manager) return;
    auto ws = workspaces.manager->get("bench", "agent", "ws");
    std::ofstream(ws->host_dir() / "doc.pdf", std::ios::binary) << agentd::tool::testing::numbered_pdf(10);
    agentd::tool::ReadTool tool(ws);
    boost::json::object input{{"file_path", ws->workdir() + "/doc.pdf"}};
    if (pages) input["pages"] = pages;
    agentd::bench::time_tool_calls(state, tool, input);
}

void BM_ReadPdf10PagesLocal(benchmark::State& state) { read_pdf(state, WorkspaceKind::kLocal, nullptr); }
void BM_ReadPdf10PagesBwrap(benchmark::State& state) { read_pdf(state, WorkspaceKind::kBwrap, nullptr); }
void BM_ReadPdfPage3Local(benchmark::State& state) { read_pdf(state, WorkspaceKind::kLocal, "3"); }

BENCHMARK(BM_ReadPdf10PagesLocal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadPdf10PagesBwrap)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadPdfPage3Local)->Unit(benchmark::kMillisecond);

}  // namespace
