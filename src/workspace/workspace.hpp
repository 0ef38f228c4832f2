#pragma once
// A workspace: the directory an agent's tools work in, and the way commands run
// there (spec/tools-workspace.md §3, §6).
//
// Files live on the host under host_dir() for every backend; what differs is how
// commands run (directly, or inside a bubblewrap sandbox) and which path the
// agent sees for the same directory (the host path, or /workspace). File tools
// therefore do their I/O on host paths obtained from resolve(), which confines
// every path to the workspace, so the read cache and Grep work the same in a
// sandbox.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cancellation.hpp"

namespace agentd::workspace {

namespace fs = std::filesystem;

struct ExecRequest {
    std::vector<std::string> argv;            ///< run without a shell
    std::optional<std::string> cwd;           ///< agent-visible directory; default: the workdir
    std::chrono::milliseconds timeout{120000};
    std::size_t output_limit = 4 << 20;       ///< bytes kept per stream; the rest is drained and dropped
    std::optional<std::string> stdin_data;    ///< written to the child's stdin, then closed
    std::map<std::string, std::string> env;   ///< extra variables
    CancellationPtr cancel;
};

struct ExecResult {
    int exit_code = 0;           ///< 127 when the program could not start; -1 on timeout
    std::string stdout_bytes;
    std::string stderr_bytes;    ///< exactly "timed out" on timeout (the reference's convention)
    bool timed_out = false;
    bool interrupted = false;    ///< the cancellation fired; the process group was killed
    bool truncated = false;      ///< a stream went past output_limit
};

/// Why a path was refused or could not be resolved.
struct PathError {
    enum class Kind { kNotAbsolute, kOutside, kInvalid } kind;
    std::string message;
};

/// The result of resolve(): a host path under host_dir(), or the reason it is refused.
struct ResolvedPath {
    std::optional<fs::path> host;
    std::optional<PathError> error;
    explicit operator bool() const { return host.has_value(); }
};

class Workspace {
public:
    virtual ~Workspace() = default;

    const std::string& id() const { return id_; }
    /// "local" or "bwrap".
    virtual std::string_view kind() const = 0;
    /// The workdir as the agent sees it (absolute, no trailing slash).
    const std::string& workdir() const { return workdir_; }
    /// The same directory on the host.
    const fs::path& host_dir() const { return host_dir_; }
    /// The home directory a command run here sees, what a shell expands `~` to:
    /// permission checks resolve `~` against it. The workdir, unless the backend
    /// runs commands with another home.
    virtual std::string home() const { return workdir_; }

    /// The workspace's part of the system prompt: where it is, its layout (the
    /// system-managed data/ and sessions/ folders of context_files.hpp) and how
    /// to keep it tidy. The default speaks of a workspace on this host; a
    /// sandbox says what its own differs in.
    virtual std::string instructions() const;

    /// Maps an agent-visible path to the host. Relative paths are taken against the
    /// workdir when `allow_relative`, else refused. `..`, and symlinks anywhere in
    /// the existing part of the path, that lead outside the workdir are refused; a
    /// missing tail is allowed (for writes).
    ResolvedPath resolve(std::string_view visible_path, bool allow_relative = false) const;
    /// The agent-visible form of a host path under host_dir().
    std::string visible(const fs::path& host_path) const;

    /// Runs a program in the workspace; never throws for a failing program.
    virtual boost::asio::awaitable<ExecResult> exec(ExecRequest request) = 0;

protected:
    Workspace(std::string id, std::string workdir, fs::path host_dir)
        : id_(std::move(id)), workdir_(std::move(workdir)), host_dir_(std::move(host_dir)) {}

private:
    std::string id_;
    std::string workdir_;
    fs::path host_dir_;
};

/// Hands out one live workspace per workspace id, built on first use.
class WorkspaceManager {
public:
    virtual ~WorkspaceManager() = default;
    virtual std::string_view kind() const = 0;
    /// The workspace `workspace_id` of this user. Thread-safe; concurrent first
    /// uses build it once. Throws std::runtime_error when it cannot be created.
    virtual std::shared_ptr<Workspace> get(const std::string& user_id, const std::string& agent_id,
                                           const std::string& workspace_id) = 0;
    /// Removes what workspace `workspace_id` of this user keeps for a deleted
    /// session (its sessions/<session_id> folder), without building the
    /// workspace. Best effort, blocking; never throws.
    virtual void purge_session(const std::string& user_id, const std::string& workspace_id,
                               const std::string& session_id) = 0;
};

}  // namespace agentd::workspace
