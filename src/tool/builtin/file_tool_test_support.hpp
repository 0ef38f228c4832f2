#pragma once
// Test scaffolding for the file tools: a workspace over a fresh temporary
// directory, and a synchronous way to run a tool.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/toolkit.hpp"
#include "domain/session.hpp"
#include "workspace/process_runner.hpp"
#include "workspace/workspace.hpp"

namespace agentd::tool::testing {

namespace fs = std::filesystem;
namespace bj = boost::json;

/// A workspace whose files live in a new temporary directory (removed on
/// destruction); the agent sees it as `workdir` ("/workspace" like the sandbox
/// backend, or the host path like the local one when empty).
class TempWorkspace final : public workspace::Workspace {
public:
    static std::shared_ptr<TempWorkspace> make(std::string workdir = "/workspace") {
        std::string tmpl = (fs::temp_directory_path() / "agentd-filetools-XXXXXX").string();
        const char* dir = ::mkdtemp(tmpl.data());
        if (!dir) throw std::runtime_error("mkdtemp failed");
        fs::path host = fs::canonical(dir);
        if (workdir.empty()) workdir = host.string();
        return std::shared_ptr<TempWorkspace>(new TempWorkspace(std::move(workdir), host));
    }
    ~TempWorkspace() override {
        std::error_code ec;
        fs::remove_all(host_dir(), ec);
    }
    std::string_view kind() const override { return "test"; }
    /// Runs on the host in the temporary directory, like the local backend.
    boost::asio::awaitable<workspace::ExecResult> exec(workspace::ExecRequest request) override {
        workspace::ProcessSpec spec = workspace::process_spec_for(request);
        spec.argv = std::move(request.argv);
        spec.cwd = host_dir();
        spec.env = workspace::server_environment(request.env);
        auto running = workspace::run_process(std::move(spec));
        workspace::ExecResult result = co_await std::move(running);
        co_return result;
    }

    /// The agent-visible path of `relative`.
    std::string path(const std::string& relative) const { return workdir() + "/" + relative; }
    fs::path host(const std::string& relative) const { return host_dir() / relative; }
    void write(const std::string& relative, const std::string& bytes) const {
        fs::create_directories(host(relative).parent_path());
        std::ofstream(host(relative), std::ios::binary) << bytes;
    }
    std::string read(const std::string& relative) const {
        std::ifstream in(host(relative), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    /// Sets the mtime (seconds since the epoch) of a file.
    void touch(const std::string& relative, long seconds) const {
        struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
        ::utimensat(AT_FDCWD, host(relative).c_str(), times, 0);
    }

private:
    TempWorkspace(std::string workdir, fs::path host) : Workspace("test", std::move(workdir), std::move(host)) {}
};

struct ToolRun {
    agent::ToolOutcome outcome;
    std::string streamed;  ///< the text of the emitted chunks
    std::string text() const { return outcome.output.is_string() ? std::string(outcome.output.get_string()) : ""; }
};

inline boost::asio::awaitable<void> run_into(agent::Tool* tool, const bj::object* input, agent::ToolContext* ctx,
                                             ToolRun* out) {
    const std::function<void(const agent::ToolChunk&)> emit = [out](const agent::ToolChunk& c) { out->streamed += c.text; };
    out->outcome = co_await tool->run(*input, *ctx, emit);
}

/// Runs `tool` to completion on a private io_context.
inline ToolRun run_tool(agent::Tool& tool, const bj::object& input, domain::SessionState& state,
                        CancellationPtr cancel = nullptr) {
    boost::asio::io_context io;
    agent::ToolContext ctx{"session", state, std::move(cancel)};
    ToolRun run;
    std::exception_ptr error;
    boost::asio::co_spawn(io, run_into(&tool, &input, &ctx, &run), [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) std::rethrow_exception(error);
    return run;
}

inline domain::SessionState fresh_state() {
    domain::SessionState s;
    s.tool_context = domain::default_tool_context();
    return s;
}

}  // namespace agentd::tool::testing
