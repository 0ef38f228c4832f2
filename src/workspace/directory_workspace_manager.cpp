#include "workspace/directory_workspace_manager.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/blake2b.hpp"
#include "workspace/context_files.hpp"
#include "workspace/local/local_workspace.hpp"

namespace agentd::workspace {

namespace {

std::string hashed(const std::string& id) { return blake2b_hex(id, 16); }

/// Creates `dir` (its parent must exist) or accepts an existing real directory,
/// and makes it private to the server's user.
void private_dir(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throw std::runtime_error("cannot create " + dir.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw std::runtime_error(dir.string() + " is not a directory");
    }
    if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
        throw std::runtime_error("cannot chmod " + dir.string() + ": " + std::strerror(errno));
    }
}

}  // namespace

std::optional<WorkspaceKind> parse_workspace_kind(std::string_view text) {
    if (text == "local") return WorkspaceKind::kLocal;
    if (text == "bwrap") return WorkspaceKind::kBwrap;
    return std::nullopt;
}

DirectoryWorkspaceManager::DirectoryWorkspaceManager(fs::path data_dir, WorkspaceKind kind, bool network)
    : root_(fs::absolute(data_dir) / "workspaces"), kind_(kind) {
    bwrap_.network = network;
    if (kind_ == WorkspaceKind::kBwrap) probe_bwrap(bwrap_);
}

std::string_view DirectoryWorkspaceManager::kind() const {
    return kind_ == WorkspaceKind::kLocal ? "local" : "bwrap";
}

fs::path DirectoryWorkspaceManager::directory_of(const std::string& user_id, const std::string& workspace_id) const {
    return root_ / hashed(user_id) / hashed(workspace_id);
}

void DirectoryWorkspaceManager::purge_session(const std::string& user_id, const std::string& workspace_id,
                                              const std::string& session_id) {
    ContextFiles::purge_session(directory_of(user_id, workspace_id), session_id);
}

std::shared_ptr<Workspace> DirectoryWorkspaceManager::get(const std::string& user_id, const std::string&,
                                                          const std::string& workspace_id) {
    std::lock_guard lock(mutex_);
    auto key = std::make_pair(user_id, workspace_id);
    if (auto it = cache_.find(key); it != cache_.end()) {
        recency_.splice(recency_.begin(), recency_, it->second.recency);
        return it->second.workspace;
    }

    std::error_code ec;
    fs::create_directories(root_.parent_path(), ec);
    private_dir(root_);
    const fs::path dir = directory_of(user_id, workspace_id);
    private_dir(dir.parent_path());
    private_dir(dir);

    std::shared_ptr<Workspace> ws;
    if (kind_ == WorkspaceKind::kLocal) {
        ws = std::make_shared<LocalWorkspace>(workspace_id, dir);
    } else {
        // /tmp of the sandbox: fresh for every build, outside every workspace
        // directory (hex names never start with a dot).
        const fs::path tmp_root = root_ / ".tmp";
        private_dir(tmp_root);
        const fs::path tmp = tmp_root / (hashed(user_id) + "-" + hashed(workspace_id));
        fs::remove_all(tmp, ec);
        private_dir(tmp);
        ws = std::make_shared<BwrapWorkspace>(workspace_id, dir, tmp, bwrap_);
    }
    recency_.push_front(key);
    cache_.emplace(std::move(key), Entry{ws, recency_.begin()});
    evict_unused_locked();
    return ws;
}

void DirectoryWorkspaceManager::evict_unused_locked() {
    // Least recently used first; a workspace a run still holds is never dropped,
    // so two objects never share one directory (and a bwrap /tmp).
    for (auto it = recency_.end(); cache_.size() > kMaxCached && it != recency_.begin();) {
        --it;
        auto entry = cache_.find(*it);
        if (entry->second.workspace.use_count() > 1) continue;
        cache_.erase(entry);
        it = recency_.erase(it);
    }
}

std::size_t DirectoryWorkspaceManager::cached() const {
    std::lock_guard lock(mutex_);
    return cache_.size();
}

}  // namespace agentd::workspace
