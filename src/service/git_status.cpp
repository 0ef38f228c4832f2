#include "service/git_status.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <exception>
#include <vector>

namespace agentd::service {

namespace bj = boost::json;

namespace {

// Long enough for a cold index on a big repository, short enough that a wedged
// sandbox does not hold the request.
constexpr std::chrono::milliseconds kGitTimeout{5000};

// --no-optional-locks: a plain `git status` refreshes the index and takes
// .git/index.lock, which the agent's own Bash may hold. -z keeps a path with a
// newline inside one record; untracked directories are collapsed so a stray
// node_modules is one record, not thousands.
const std::vector<std::string> kStatusArgv = {
    "git", "--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z",
    "--untracked-files=normal", "--ignore-submodules=all"};
const std::vector<std::string> kShortstatArgv = {"git", "--no-optional-locks", "diff", "--shortstat",
                                                 "HEAD"};

std::optional<std::int64_t> parse_count(std::string_view digits) {
    if (digits.empty()) return std::nullopt;
    for (char c : digits)
        if (c < '0' || c > '9') return std::nullopt;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

// "+A -B" exactly; anything else leaves ahead/behind unknown.
void parse_ahead_behind(std::string_view value, GitStatus& out) {
    if (value.empty() || value.front() != '+') return;
    auto space = value.find(' ');
    if (space == std::string_view::npos || space + 1 >= value.size() || value[space + 1] != '-') return;
    auto ahead = parse_count(value.substr(1, space - 1));
    auto behind = parse_count(value.substr(space + 2));
    if (!ahead || !behind) return;
    out.ahead = ahead;
    out.behind = behind;
}

// The first "<digits> <word>" count in `text`, 0 when absent.
std::int64_t first_count_before(std::string_view text, std::string_view word) {
    const std::string needle = " " + std::string(word);
    for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) {
        std::size_t begin = at;
        while (begin > 0 && text[begin - 1] >= '0' && text[begin - 1] <= '9') --begin;
        if (begin == at) continue;
        if (auto n = parse_count(text.substr(begin, at - begin))) return *n;
    }
    return 0;
}

}  // namespace

bj::object to_json(const GitStatus& s) {
    auto opt_string = [](const std::optional<std::string>& v) { return v ? bj::value(*v) : bj::value(nullptr); };
    auto opt_int = [](const std::optional<std::int64_t>& v) { return v ? bj::value(*v) : bj::value(nullptr); };
    return bj::object{{"branch", opt_string(s.branch)},
                      {"head", opt_string(s.head)},
                      {"ahead", opt_int(s.ahead)},
                      {"behind", opt_int(s.behind)},
                      {"insertions", s.insertions},
                      {"deletions", s.deletions},
                      {"staged", s.staged},
                      {"unstaged", s.unstaged},
                      {"untracked", s.untracked},
                      {"conflicted", s.conflicted}};
}

GitStatus parse_porcelain_v2(std::string_view output) {
    std::vector<std::string_view> fields;
    for (std::size_t start = 0; start <= output.size();) {
        auto nul = output.find('\0', start);
        if (nul == std::string_view::npos) nul = output.size();
        fields.push_back(output.substr(start, nul - start));
        start = nul + 1;
    }

    GitStatus out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        std::string_view record = fields[i];
        if (record.empty()) continue;
        auto space = record.find(' ');
        std::string_view kind = record.substr(0, space);
        std::string_view rest = space == std::string_view::npos ? std::string_view() : record.substr(space + 1);

        if (kind == "#") {
            auto sep = rest.find(' ');
            std::string_view key = rest.substr(0, sep);
            std::string_view value = sep == std::string_view::npos ? std::string_view() : rest.substr(sep + 1);
            if (key == "branch.oid") {
                out.head = value == "(initial)" ? std::nullopt : std::optional<std::string>(lossy_utf8(value));
            } else if (key == "branch.head") {
                out.branch = value == "(detached)" ? std::nullopt : std::optional<std::string>(lossy_utf8(value));
            } else if (key == "branch.ab") {
                parse_ahead_behind(value, out);
            }
            continue;
        }
        if (kind == "?") {
            ++out.untracked;
            continue;
        }
        if (kind == "u") {  // the XY of an unmerged entry is the conflict pair, not index/worktree
            ++out.conflicted;
            continue;
        }
        if (kind != "1" && kind != "2") continue;
        if (kind == "2") ++i;  // under -z a rename's original path is a field of its own
        std::string_view xy = rest.substr(0, rest.find(' '));
        if (xy.size() != 2) continue;
        if (xy[0] != '.') ++out.staged;
        if (xy[1] != '.') ++out.unstaged;
    }
    return out;
}

std::pair<std::int64_t, std::int64_t> parse_shortstat(std::string_view output) {
    return {first_count_before(output, "insertion"), first_count_before(output, "deletion")};
}

namespace {

workspace::ExecRequest git_request(const std::vector<std::string>& argv, const std::string& cwd) {
    workspace::ExecRequest request;
    request.argv = argv;
    request.cwd = cwd;
    request.timeout = kGitTimeout;
    return request;
}

}  // namespace

boost::asio::awaitable<std::optional<GitStatus>> read_git_status(std::shared_ptr<workspace::Workspace> workspace,
                                                                 std::string cwd) {
    // Every failure reads as "nothing to report": a directory that is not a
    // repository is the ordinary case, and backends report trouble differently.
    std::optional<GitStatus> summary;
    try {
        auto status_run = workspace->exec(git_request(kStatusArgv, cwd));
        workspace::ExecResult status_result = co_await std::move(status_run);
        if (status_result.exit_code != 0 || status_result.timed_out) {
            spdlog::debug("git status exited {} in {}", status_result.exit_code, cwd);
            co_return std::nullopt;
        }
        summary = parse_porcelain_v2(status_result.stdout_bytes);
    } catch (const std::exception& e) {
        spdlog::debug("git status failed in {}: {}", cwd, e.what());
        co_return std::nullopt;
    }
    if (!summary->branch && !summary->head) {  // real git always names one of them
        co_return std::nullopt;
    }
    try {
        auto diff_run = workspace->exec(git_request(kShortstatArgv, cwd));
        workspace::ExecResult diff_result = co_await std::move(diff_run);
        // A failing diff is expected on an unborn branch; the branch is still worth showing.
        if (diff_result.exit_code == 0 && !diff_result.timed_out) {
            auto [insertions, deletions] = parse_shortstat(diff_result.stdout_bytes);
            summary->insertions = insertions;
            summary->deletions = deletions;
        }
    } catch (const std::exception& e) {
        spdlog::debug("git diff failed in {}: {}", cwd, e.what());
    }
    co_return summary;
}

std::string lossy_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    std::size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        // Expected length and the allowed range of the second byte (no overlongs,
        // surrogates or values past U+10FFFF).
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        std::size_t good = 1;  // bytes of a valid prefix seen so far
        if (len != 0) {
            while (good < len && i + good < n) {
                unsigned char b = p[i + good];
                unsigned char min = good == 1 ? lo : 0x80;
                unsigned char max = good == 1 ? hi : 0xBF;
                if (b < min || b > max) break;
                ++good;
            }
        }
        if (len != 0 && good == len) {
            out.append(bytes.substr(i, len));
        } else {
            out += "\xEF\xBF\xBD";  // one replacement per maximal invalid subpart
        }
        i += good;
    }
    return out;
}

}  // namespace agentd::service
