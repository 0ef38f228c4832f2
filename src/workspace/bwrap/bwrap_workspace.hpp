#pragma once
// The "bwrap" backend (spec/tools-workspace.md §6.9): every command runs in its
// own bubblewrap sandbox that sees the workspace at /workspace, a private /tmp,
// read-only system directories and a handful of /etc files, nothing else of
// the host. Unlike the reference, the sandbox has no network unless the
// operator enables it, and drops every capability when the server runs as root.
#include <sys/types.h>

#include <string>
#include <vector>

#include "workspace/workspace.hpp"

namespace agentd::workspace {

struct BwrapConfig {
    std::string bwrap = "bwrap";  ///< executable, looked up in PATH
    bool network = false;         ///< share the host's network namespace (--share-net)
};

class BwrapWorkspace final : public Workspace {
public:
    static constexpr std::string_view kWorkdir = "/workspace";
    static constexpr std::string_view kTmpDir = "/tmp";

    /// `host_dir` appears at /workspace and `host_tmp_dir` at /tmp; both must be
    /// existing real directories that do not contain each other. The workspace
    /// owns `host_tmp_dir` and removes it when destroyed.
    BwrapWorkspace(std::string id, const fs::path& host_dir, const fs::path& host_tmp_dir, BwrapConfig config = {});
    ~BwrapWorkspace() override;

    std::string_view kind() const override { return "bwrap"; }
    std::string instructions() const override;

    /// Runs `request.argv` inside a fresh sandbox in `request.cwd` (an
    /// agent-visible path inside the workspace, relative ones against
    /// /workspace) or /workspace. The environment is `request.env` overridden
    /// by the sandbox's own (HOME, TMPDIR, PATH, LANG, LC_ALL, PYTHONUNBUFFERED, PWD).
    boost::asio::awaitable<ExecResult> exec(ExecRequest request) override;

    /// The bwrap command line that runs `argv` in the agent-visible `cwd`.
    std::vector<std::string> command_line(const std::vector<std::string>& argv, const std::string& cwd,
                                          const std::map<std::string, std::string>& env) const;

private:
    struct Identity {
        dev_t dev = 0;
        ino_t ino = 0;
    };
    /// Whether both host directories are still the ones we were given (not replaced, not symlinks).
    bool directories_intact() const;

    fs::path host_tmp_dir_;
    BwrapConfig config_;
    Identity workdir_identity_;
    Identity tmp_identity_;
    std::vector<std::string> system_mounts_;  ///< /usr, /etc files, /bin … as bwrap options
};

/// Checks that bwrap can build a sandbox here (`bwrap … -- true` within 5 s);
/// throws std::runtime_error saying why not (missing binary, no user namespaces).
void probe_bwrap(const BwrapConfig& config);

}  // namespace agentd::workspace
