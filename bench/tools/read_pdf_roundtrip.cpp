// Round trip of one Read tool call on a 10-page PDF, on the local and the bwrap
// backend: reading the file, `pdfinfo` for the page count and `pdftotext` for
// the pages, each a child process run through the workspace (docs/performance.md,
// "Tools"). Linked into agentd_tools_bench beside the Bash round trip.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <fstream>

#include "tool/builtin/pdf_test_support.hpp"
#include "tool/builtin/read_tool.hpp"
#include "workspace/directory_workspace_manager.hpp"
#include "workspace/workspace.hpp"

namespace {

namespace bj = boost::json;
using agentd::workspace::WorkspaceKind;

void read_pdf(benchmark::State& bench, WorkspaceKind kind, const char* pages) {
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
        auto ws = manager->get("bench", "agent", "ws");
        std::ofstream(ws->host_dir() / "doc.pdf", std::ios::binary) << agentd::tool::testing::numbered_pdf(10);
        agentd::tool::ReadTool tool(ws);
        agentd::domain::SessionState state;
        agentd::agent::ToolContext ctx{"s", state, nullptr};
        bj::object input{{"file_path", ws->workdir() + "/doc.pdf"}};
        if (pages) input["pages"] = pages;
        std::function<void(const agentd::agent::ToolChunk&)> emit = [](const agentd::agent::ToolChunk&) {};
        boost::asio::io_context io;
        for (auto _ : bench) {
            auto future = boost::asio::co_spawn(io, tool.run(input, ctx, emit), boost::asio::use_future);
            io.restart();
            io.run();
            auto outcome = future.get();
            if (outcome.state != "success") bench.SkipWithError("Read call failed");
        }
    }
    manager.reset();
    std::filesystem::remove_all(data);
}

void BM_ReadPdf10PagesLocal(benchmark::State& bench) { read_pdf(bench, WorkspaceKind::kLocal, nullptr); }
void BM_ReadPdf10PagesBwrap(benchmark::State& bench) { read_pdf(bench, WorkspaceKind::kBwrap, nullptr); }
void BM_ReadPdfPage3Local(benchmark::State& bench) { read_pdf(bench, WorkspaceKind::kLocal, "3"); }

BENCHMARK(BM_ReadPdf10PagesLocal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadPdf10PagesBwrap)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadPdfPage3Local)->Unit(benchmark::kMillisecond);

}  // namespace
