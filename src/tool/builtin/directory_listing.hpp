#pragma once
// One directory's entries, sorted by name, typed without following symlinks:
// the building block of the Glob and Grep walks (deterministic order, no stat
// per entry when the filesystem reports types).
#include <string>
#include <vector>

namespace agentd::tool {

struct DirEntry {
    enum class Type { kFile, kDir, kSymlink, kOther };
    std::string name;
    Type type = Type::kOther;
};

/// Entries of `dir` (a host path) other than `.` and `..`, sorted bytewise by
/// name. Returns false when the directory cannot be read.
bool list_directory(const std::string& dir, std::vector<DirEntry>& out);

/// Joins a directory path and a name the way os.path.join does (no doubled `/`).
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace agentd::tool
