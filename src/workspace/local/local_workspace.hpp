#pragma once
// The "local" backend (spec/tools-workspace.md §6.7): commands run directly on
// the host, as the server's user and with the server's environment, in the
// workspace directory. It confines file tools through resolve() but cannot
// confine commands; use the bwrap backend where that matters.
#include "workspace/workspace.hpp"

namespace agentd::workspace {

class LocalWorkspace final : public Workspace {
public:
    /// `host_dir` must exist; the workdir the agent sees is its canonical absolute path.
    LocalWorkspace(std::string id, const fs::path& host_dir);

    std::string_view kind() const override { return "local"; }

    /// The server's home, which commands inherit: $HOME, else the user's passwd
    /// entry (as bash expands `~`), else the workdir.
    std::string home() const override;

    /// Runs `request.argv` in `request.cwd` (resolved inside the workspace, relative
    /// paths against the workdir) or the workdir, with the server's environment
    /// plus `request.env`. A refused cwd is exit 127 with the reason on stderr.
    boost::asio::awaitable<ExecResult> exec(ExecRequest request) override;
};

}  // namespace agentd::workspace
