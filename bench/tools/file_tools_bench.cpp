// Times the Grep and Glob tools on a directory, calling them as the agent does
// (through Tool::run on an io_context), for bench/tools/grep_glob_bench.sh.
//
//   file_tools_bench grep <dir> <pattern> [output_mode] [repeat]
//   file_tools_bench glob <dir> <pattern> [repeat]
//
// Prints "<best seconds> <output lines>" on stdout.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "agent/toolkit.hpp"
#include "domain/session.hpp"
#include "tool/builtin/glob_tool.hpp"
#include "tool/builtin/grep_tool.hpp"
#include "workspace/workspace.hpp"

namespace {

namespace bj = boost::json;
using namespace agentd;

// A local-style workspace over an existing directory: visible paths are host paths.
class DirectoryWorkspace final : public workspace::Workspace {
public:
    explicit DirectoryWorkspace(const std::filesystem::path& dir) : Workspace("bench", dir.string(), dir) {}
    std::string_view kind() const override { return "local"; }
    boost::asio::awaitable<workspace::ExecResult> exec(workspace::ExecRequest) override {
        co_return workspace::ExecResult{127, "", "exec is not available in the benchmark", false, false, false};
    }
};

boost::asio::awaitable<void> invoke(agent::Tool* tool, const bj::object* input, agent::ToolContext* ctx,
                                    agent::ToolOutcome* out) {
    const std::function<void(const agent::ToolChunk&)> emit = [](const agent::ToolChunk&) {};
    *out = co_await tool->run(*input, *ctx, emit);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s grep|glob <dir> <pattern> [output_mode] [repeat]\n", argv[0]);
        return 2;
    }
    const std::string which = argv[1];
    const auto dir = std::filesystem::canonical(argv[2]);
    auto ws = std::make_shared<DirectoryWorkspace>(dir);
    std::shared_ptr<agent::Tool> tool;
    bj::object input{{"pattern", argv[3]}};
    int repeat = 3;
    if (which == "grep") {
        tool = std::make_shared<tool::GrepTool>(ws);
        input["output_mode"] = argc > 4 ? argv[4] : "files_with_matches";
        input["head_limit"] = 0;
        if (argc > 5) repeat = std::stoi(argv[5]);
    } else {
        tool = std::make_shared<tool::GlobTool>(ws);
        if (argc > 4) repeat = std::stoi(argv[4]);
    }
    domain::SessionState state;
    state.tool_context = domain::default_tool_context();
    double best = 1e9;
    std::size_t lines = 0;
    for (int i = 0; i < repeat; ++i) {
        boost::asio::io_context io;
        agent::ToolContext ctx{"bench", state, nullptr};
        agent::ToolOutcome out;
        const auto start = std::chrono::steady_clock::now();
        boost::asio::co_spawn(io, invoke(tool.get(), &input, &ctx, &out), boost::asio::detached);
        io.run();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (out.state != "success") {
            std::fprintf(stderr, "%s\n", bj::serialize(out.output).c_str());
            return 1;
        }
        const std::string text(out.output.as_string());
        lines = text.empty() ? 0 : std::count(text.begin(), text.end(), '\n') + 1;
    }
    std::printf("%.3f %zu\n", best, lines);
    return 0;
}
