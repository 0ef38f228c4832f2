#include "workspace/workspace.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>

namespace agentd::workspace {

namespace {

// Whether `p` (lexically normal, absolute) is `root` or below it.
bool is_within(const fs::path& p, const fs::path& root) {
    auto rit = root.begin();
    auto pit = p.begin();
    for (; rit != root.end(); ++rit, ++pit) {
        if (rit->empty()) continue;  // trailing separator of root
        if (pit == p.end() || *pit != *rit) return false;
    }
    return true;
}

}  // namespace

std::string Workspace::instructions() const {
    const std::string& w = workdir_;
    return "<workspace>Your workspace is a " + std::string(kind()) + " directory at " + w +
           ". Your tools work in it, and it outlives this session:\n\n```\n" + w +
           "\n├── data/        # media taken out of your context (images, audio, ...); managed by the system\n"
           "└── sessions/    # per session: compressed context and cut-off tool results; managed by the system\n```\n\n"
           "When a notice says part of your context was offloaded, the file it names holds it: read it there "
           "when you need it.\n\n"
           "Keep the workspace orderly, since you will come back to it:\n"
           "- Give each task or project its own folder at the top level, named by its creation date and a short "
           "description (e.g. `20250102_report-builder`), with a README.md saying what it is, when it was started "
           "and what was decided.\n"
           "- Other sessions may work here at the same time and nothing locks files: keep work apart (a git "
           "worktree per session, names that say which session made what) rather than editing the same files.\n"
           "- Delete only what you made in this session; prefer archiving, and ask before any destructive "
           "cleanup.\n"
           "- Put throwaway files in `scratch/` (made when first needed, never committed, not cleaned for you), "
           "not in project folders or /tmp, and remove them when done.\n"
           "- Track projects with git, with a .gitignore written before the first commit; never put secrets in "
           "files or commits.\n"
           "- Give each Python project its own environment (`uv venv`, then `uv pip install ...`); never install "
           "into a shared one.</workspace>";
}

ResolvedPath Workspace::resolve(std::string_view visible_path, bool allow_relative) const {
    ResolvedPath out;
    if (visible_path.empty() || visible_path.find('\0') != std::string_view::npos) {
        out.error = PathError{PathError::Kind::kInvalid, "Invalid path: " + std::string(visible_path)};
        return out;
    }
    fs::path visible(std::string{visible_path});
    if (!visible.is_absolute()) {
        if (!allow_relative) {
            out.error = PathError{PathError::Kind::kNotAbsolute, "Path must be absolute: " + std::string(visible_path)};
            return out;
        }
        visible = fs::path(workdir_) / visible;
    }
    visible = visible.lexically_normal();
    const fs::path root(workdir_);
    if (!is_within(visible, root)) {
        out.error = PathError{PathError::Kind::kOutside, "Path is outside the workspace: " + std::string(visible_path)};
        return out;
    }

    // Walk the host path one component at a time, following symlinks by hand so
    // that a link anywhere (dangling ones included) is checked before it is used.
    const fs::path relative = visible.lexically_relative(root);
    std::vector<fs::path> pending;
    for (const auto& part : relative) {
        if (!part.empty() && part != ".") pending.push_back(part);
    }
    std::reverse(pending.begin(), pending.end());  // used as a stack
    fs::path current = host_dir_;
    bool missing = false;  // once a component is missing, the rest is lexical
    int links_followed = 0;
    while (!pending.empty()) {
        fs::path part = std::move(pending.back());
        pending.pop_back();
        if (part == ".") continue;
        if (part == "..") {
            if (current == host_dir_) {
                out.error = PathError{PathError::Kind::kOutside, "Path is outside the workspace: " + std::string(visible_path)};
                return out;
            }
            current = current.parent_path();
            continue;
        }
        fs::path next = current / part;
        if (!missing) {
            struct stat st {};
            if (::lstat(next.c_str(), &st) != 0) {
                missing = true;
            } else if (S_ISLNK(st.st_mode)) {
                if (++links_followed > 40) {
                    out.error = PathError{PathError::Kind::kInvalid, "Too many levels of symbolic links: " + std::string(visible_path)};
                    return out;
                }
                std::error_code ec;
                fs::path target = fs::read_symlink(next, ec);
                if (ec) {
                    out.error = PathError{PathError::Kind::kInvalid, "Cannot read link: " + std::string(visible_path)};
                    return out;
                }
                // An absolute target is a host path: it must itself lie in the workspace.
                if (target.is_absolute()) {
                    fs::path normal = target.lexically_normal();
                    if (!is_within(normal, host_dir_)) {
                        out.error = PathError{PathError::Kind::kOutside, "Path is outside the workspace: " + std::string(visible_path)};
                        return out;
                    }
                    current = host_dir_;
                    target = normal.lexically_relative(host_dir_);
                }
                std::vector<fs::path> parts;
                for (const auto& p : target) {
                    if (!p.empty()) parts.push_back(p);
                }
                for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(*it);
                continue;
            }
        }
        current = std::move(next);
    }
    if (!is_within(current.lexically_normal(), host_dir_)) {
        out.error = PathError{PathError::Kind::kOutside, "Path is outside the workspace: " + std::string(visible_path)};
        return out;
    }
    out.host = current.lexically_normal();
    return out;
}

std::string Workspace::visible(const fs::path& host_path) const {
    const fs::path relative = host_path.lexically_normal().lexically_relative(host_dir_);
    if (relative.empty() || relative == ".") return workdir_;
    return (fs::path(workdir_) / relative).lexically_normal().string();
}

}  // namespace agentd::workspace
