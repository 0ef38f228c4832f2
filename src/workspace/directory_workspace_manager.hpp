#pragma once
// Workspaces as directories under the data directory (spec/tools-workspace.md §7).
//
// Every backend keeps a workspace at
//   <data_dir>/workspaces/<blake2b-128 hex of user_id>/<blake2b-128 hex of workspace_id>
// (mode 0700). Unlike the reference's local manager (`<basedir>/<agent_id>` for
// every user and policy), the directory follows the user and the workspace id
// for both kinds, so per_session / per_agent / per_user isolation holds and two
// users never share files.
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "workspace/bwrap/bwrap_workspace.hpp"
#include "workspace/workspace.hpp"

namespace agentd::workspace {

enum class WorkspaceKind { kLocal, kBwrap };

/// "local" | "bwrap".
std::optional<WorkspaceKind> parse_workspace_kind(std::string_view text);

class DirectoryWorkspaceManager final : public WorkspaceManager {
public:
    /// `network` only matters for bwrap (local commands always have the host's
    /// network). For bwrap the constructor runs the smoke probe and throws
    /// std::runtime_error when sandboxes cannot be created on this host.
    DirectoryWorkspaceManager(fs::path data_dir, WorkspaceKind kind, bool network = false);

    std::string_view kind() const override;

    /// Builds the workspace on first use (creating its directories) and returns
    /// the same object for the same (user_id, workspace_id) while it is in use or
    /// among the most recently used. `agent_id` does not change where the
    /// workspace lives. Thread-safe.
    std::shared_ptr<Workspace> get(const std::string& user_id, const std::string& agent_id,
                                   const std::string& workspace_id) override;

    void purge_session(const std::string& user_id, const std::string& workspace_id,
                       const std::string& session_id) override;

    /// Where a workspace's files live on the host (not created).
    fs::path directory_of(const std::string& user_id, const std::string& workspace_id) const;

    /// Workspace objects kept beyond those in use (the files stay on disk; an
    /// evicted workspace is rebuilt on its next use).
    static constexpr std::size_t kMaxCached = 1024;
    std::size_t cached() const;

private:
    using Key = std::pair<std::string, std::string>;
    struct Entry {
        std::shared_ptr<Workspace> workspace;
        std::list<Key>::iterator recency;
    };
    void evict_unused_locked();

    fs::path root_;  ///< <data_dir>/workspaces
    WorkspaceKind kind_;
    BwrapConfig bwrap_;
    mutable std::mutex mutex_;  ///< guards cache_, recency_ and directory creation
    std::map<Key, Entry> cache_;
    std::list<Key> recency_;  ///< most recently used first
};

}  // namespace agentd::workspace
