#pragma once
// Child processes for workspace backends (spec/tools-workspace.md §3, Traps 4).
//
// Every child runs in a session (and process group) of its own, so a timeout,
// an interrupt or the end of the call can kill everything the command started,
// background jobs included. No process outlives its call: once the direct child
// has exited, the group is killed as soon as both output pipes reach EOF, or
// after `orphan_grace` when a background process still holds them open.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cancellation.hpp"
#include "workspace/workspace.hpp"

namespace agentd::workspace {

struct ProcessSpec {
    std::vector<std::string> argv;          ///< argv[0] is looked up in the server's PATH
    std::optional<std::filesystem::path> cwd;  ///< host directory; nullopt: the server's cwd
    std::vector<std::string> env;           ///< the child's complete environment, "KEY=value"
    std::chrono::milliseconds timeout{120000};
    std::size_t output_limit = 4 << 20;     ///< bytes kept per stream
    std::optional<std::string> stdin_data;  ///< else stdin is /dev/null
    CancellationPtr cancel;
    /// Between SIGTERM and SIGKILL when a timeout or an interrupt ends the call.
    std::chrono::milliseconds kill_grace{1000};
    /// How long output pipes may stay open after the direct child exited.
    std::chrono::milliseconds orphan_grace{200};
};

/// A process spec carrying what every backend passes through unchanged from an
/// exec request: its timeout, output limit, stdin and cancellation (moved out of
/// `request`). The backend sets argv, cwd and env itself.
ProcessSpec process_spec_for(ExecRequest& request);

/// The server's own environment with `extra` laid over it, as "KEY=value" strings.
std::vector<std::string> server_environment(const std::map<std::string, std::string>& extra);

/// Runs `spec` to completion on a strand of the calling coroutine's executor and
/// never blocks an I/O thread. Never throws for a failing program: a spawn
/// failure is exit 127 with the OS error on stderr; a timeout is exit -1 with
/// empty stdout and stderr exactly "timed out"; an interrupt sets `interrupted`
/// (exit -1, the output read so far kept). A child killed by signal N reports -N.
///
/// Ignores SIGPIPE in the server process on first use (a child that exits
/// without reading its stdin must not kill the server); children get default
/// signal dispositions back.
boost::asio::awaitable<ExecResult> run_process(ProcessSpec spec);

}  // namespace agentd::workspace
