#pragma once
// The git summary of GET /workspace/status (spec api-extended §1.3.11): two git
// commands run through the workspace, and the parsers of their output.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "workspace/workspace.hpp"

namespace agentd::service {

/// Git state of one directory. Counts are per file; a partially staged file
/// counts on both the staged and the unstaged side.
struct GitStatus {
    std::optional<std::string> branch;  ///< null when HEAD is detached
    std::optional<std::string> head;    ///< full commit id; null on an unborn branch
    std::optional<std::int64_t> ahead;  ///< null without an upstream
    std::optional<std::int64_t> behind;
    std::int64_t insertions = 0;
    std::int64_t deletions = 0;
    std::int64_t staged = 0;
    std::int64_t unstaged = 0;
    std::int64_t untracked = 0;
    std::int64_t conflicted = 0;

    bool operator==(const GitStatus&) const = default;
};

/// GitStatus JSON, fields in the reference's order.
boost::json::object to_json(const GitStatus& status);

/// Parses `git status --porcelain=v2 --branch -z` output. Line counts stay 0.
/// Unknown or cut-off records are skipped: a status missing one odd entry is
/// still worth showing.
GitStatus parse_porcelain_v2(std::string_view output);

/// Insertions and deletions from `git diff --shortstat`; 0 for what is absent.
std::pair<std::int64_t, std::int64_t> parse_shortstat(std::string_view output);

/// Runs both git commands in `cwd` (agent-visible) with 5 s each. Null when
/// the first fails in any way or names neither branch nor commit; a failing
/// diff keeps the summary with zero line counts. Never throws.
boost::asio::awaitable<std::optional<GitStatus>> read_git_status(
    std::shared_ptr<workspace::Workspace> workspace, std::string cwd);

/// `bytes` as UTF-8, every invalid sequence replaced by U+FFFD (Python's
/// errors="replace"): git output and file names are bytes, JSON is text.
std::string lossy_utf8(std::string_view bytes);

}  // namespace agentd::service
