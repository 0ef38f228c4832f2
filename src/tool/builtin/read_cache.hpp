#pragma once
// The read-file cache in a session's tool_context (spec/tools-workspace.md
// §4.10): an LRU list, oldest first, of {lines, updated_at, bytes, file_path}.
// Read fills it; Write and Edit only consult it to refuse working on a file the
// agent has not read since it last changed.
//
// Agentd decision (Traps 1): the mtime is taken from the workspace's host path
// (the file the tools actually read), not from the agent-visible path on the
// server's filesystem, so the cache works in sandboxes too. The comparison stays
// float-exact and the key stays the exact path string the agent passed.
//
// These functions only touch JSON; the caller stats the file (a blocking call,
// done off the io thread) and passes the result in. All calls for one session
// must run on the executor that owns its state.
#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tool {

namespace bj = boost::json;

/// The mtime as Python's os.path.getmtime returns it (seconds as a double), or
/// nullopt when the file cannot be stat'ed. Follows symlinks. Blocking.
std::optional<double> file_mtime(const std::filesystem::path& host_path);

/// get_cache: the cached lines of `file_path` when the entry's updated_at equals
/// `current_mtime` (the entry then becomes the most recent); a stale entry, or
/// one whose file is gone (nullopt), is removed. Returns nullptr on a miss. The
/// pointer stays valid until the tool_context is next modified.
const bj::array* read_cache_get(bj::object& tool_context, std::string_view file_path,
                                std::optional<double> current_mtime);

/// cache_file: stores `lines` (with their line endings) for `file_path` with
/// `mtime`, evicting the oldest entries past max_cache_files, then past
/// max_cache_bytes (KiB of UTF-8). Nothing is cached when `mtime` is nullopt.
void read_cache_put(bj::object& tool_context, std::string_view file_path, const std::vector<std::string>& lines,
                    std::optional<double> mtime);

}  // namespace agentd::tool
