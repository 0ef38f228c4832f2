#include "tool/builtin/glob_tool.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "domain/message.hpp"
#include "permission/tool_rules.hpp"
#include "tool/builtin/directory_listing.hpp"
#include "tool/builtin/file_tool_pool.hpp"
#include "tool/builtin/file_tool_support.hpp"
#include "workspace/workspace.hpp"

namespace agentd::tool {

namespace {

std::size_t utf8_length(unsigned char b) {
    return b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}

class GlobWalk {
public:
    GlobWalk(std::vector<std::string> parts, const std::function<bool()>& stop) : parts_(std::move(parts)), stop_(stop) {}

    void run(const std::string& display, const std::string& host) { match_parts(0, display, host); }

    std::vector<std::pair<std::string, std::string>> found;  // (display path, host path)
    bool stopped = false;

private:
    bool should_stop() {
        if (!stopped && ++visited_ % 256 == 0 && stop_ && stop_()) stopped = true;
        return stopped;
    }

    // Every file below a directory, like os.walk: symlinked directories are
    // listed nowhere and not entered; links to files and dangling links count
    // as files.
    void collect_all(const std::string& display, const std::string& host) {
        std::vector<DirEntry> entries;
        if (should_stop() || !list_directory(host, entries)) return;
        std::vector<const DirEntry*> dirs;
        for (const auto& e : entries) {
            bool is_dir = e.type == DirEntry::Type::kDir;
            if (e.type == DirEntry::Type::kSymlink) {
                struct stat st {};
                if (::stat(join_path(host, e.name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
            }
            if (is_dir) {
                dirs.push_back(&e);
            } else {
                found.emplace_back(join_path(display, e.name), join_path(host, e.name));
            }
        }
        for (const DirEntry* d : dirs) collect_all(join_path(display, d->name), join_path(host, d->name));
    }

    void match_parts(std::size_t index, const std::string& display, const std::string& host) {
        if (index >= parts_.size() || should_stop()) return;
        const std::string& part = parts_[index];
        const bool last = index + 1 == parts_.size();
        std::vector<DirEntry> entries;
        if (part == "**") {
            if (last) {
                collect_all(display, host);
                return;
            }
            match_parts(index + 1, display, host);
            if (!list_directory(host, entries)) return;
            for (const auto& e : entries) {
                if (e.type == DirEntry::Type::kDir)
                    match_parts(index, join_path(display, e.name), join_path(host, e.name));
            }
            return;
        }
        if (!list_directory(host, entries)) return;
        for (const auto& e : entries) {
            if (!glob_segment_matches(part, e.name)) continue;
            if (last) {
                if (e.type == DirEntry::Type::kFile) found.emplace_back(join_path(display, e.name), join_path(host, e.name));
            } else if (e.type == DirEntry::Type::kDir) {
                match_parts(index + 1, join_path(display, e.name), join_path(host, e.name));
            }
        }
    }

    std::vector<std::string> parts_;
    const std::function<bool()>& stop_;
    std::size_t visited_ = 0;
};

double mtime_or_zero(const std::string& host) {
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) return 0.0;
    return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

std::string search_dir(const bj::object& input, const std::string& workdir) {
    auto path = string_arg(input, "path");
    return path && !path->empty() ? *path : workdir;
}

}  // namespace

bool glob_segment_matches(std::string_view segment, std::string_view name) {
    // Iterative wildcard matching with one backtrack point for the last `*`.
    std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
    while (n < name.size()) {
        if (p < segment.size() && segment[p] == '*') {
            star = p++;
            resume = n;
        } else if (p < segment.size() && segment[p] == '?') {
            ++p;
            n += utf8_length(static_cast<unsigned char>(name[n]));
        } else if (p < segment.size() && segment[p] == name[n]) {
            ++p;
            ++n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++resume;
        } else {
            return false;
        }
    }
    while (p < segment.size() && segment[p] == '*') ++p;
    return p == segment.size() && n == name.size();
}

GlobSearch glob_files(const std::string& pattern, const std::string& display_base, const std::string& host_base,
                      const std::function<bool()>& stop) {
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i < pattern.size()) {
        while (i < pattern.size() && (pattern[i] == '/' || pattern[i] == '\\')) ++i;
        std::size_t j = i;
        while (j < pattern.size() && pattern[j] != '/' && pattern[j] != '\\') ++j;
        if (j > i) parts.emplace_back(pattern.substr(i, j - i));
        i = j;
    }
    GlobWalk walk(std::move(parts), stop);
    walk.run(display_base, host_base);
    GlobSearch out;
    out.stopped = walk.stopped;
    if (out.stopped) return out;
    std::vector<std::pair<double, std::size_t>> order;
    order.reserve(walk.found.size());
    for (std::size_t k = 0; k < walk.found.size(); ++k) order.emplace_back(mtime_or_zero(walk.found[k].second), k);
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    out.paths.reserve(order.size());
    for (const auto& [mtime, k] : order) out.paths.push_back(std::move(walk.found[k].first));
    return out;
}

GlobTool::GlobTool(std::shared_ptr<workspace::Workspace> workspace) : workspace_(std::move(workspace)) {}

const model::ToolSchema& GlobTool::schema() const {
    static const model::ToolSchema kSchema{
        "Glob",
        "Finds files by name pattern, quickly, in a codebase of any size.\n"
        "\n"
        "Takes patterns such as \"**/*.js\" or \"src/**/*.ts\" and returns the matching file paths, most "
        "recently modified first.\n"
        "\n"
        "Use it whenever you need to find files by name or extension.",
        bj::object{{"type", "object"},
                   {"properties",
                    bj::object{{"pattern", bj::object{{"type", "string"},
                                                      {"description",
                                                       "The glob pattern to match (e.g. '**/*.py', 'src/**/*.ts')"}}},
                               {"path", bj::object{{"type", "string"},
                                                   {"description",
                                                    "Directory to search from (defaults to the workspace directory)"}}}}},
                   {"required", bj::array{"pattern"}}}};
    return kSchema;
}

permission::Decision GlobTool::check_permissions(const bj::object&, const permission::Context&) const {
    auto d = permission::Decision::passthrough();
    d.message = "Glob pattern matching is read-only.";
    return d;
}

bool GlobTool::match_rule(const std::string& rule_content, const bj::object& input) const {
    auto path = string_arg(input, "path");
    if (path && !path->empty() && permission::path_glob_matches(rule_content, *path)) return true;
    auto pattern = string_arg(input, "pattern");
    return pattern && !pattern->empty() && permission::path_glob_matches(rule_content, *pattern);
}

std::vector<permission::Rule> GlobTool::suggestions(const bj::object& input) const {
    const std::string dir = search_dir(input, workspace_->workdir());
    std::string absolute = (std::filesystem::path(workspace_->workdir()) / dir).lexically_normal().string();
    while (!absolute.empty() && absolute.back() == '/') absolute.pop_back();
    return {permission::Rule{"Glob", absolute + "/**", permission::Behavior::kAllow, "suggested"}};
}

namespace {

struct GlobRun {
    std::string error;
    GlobSearch search;
};

GlobRun glob_job(const workspace::Workspace& ws, const std::string& pattern, const std::string& base,
                 const std::function<bool()>& stop) {
    GlobRun r;
    const auto resolved = ws.resolve(base, /*allow_relative=*/true);
    if (!resolved) {
        r.error = "Error: " + resolved.error->message;
        return r;
    }
    struct stat st {};
    if (::stat(resolved.host->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        r.error = "Directory not found: " + base;
        return r;
    }
    r.search = glob_files(pattern, base, resolved.host->string(), stop);
    return r;
}

}  // namespace

boost::asio::awaitable<agent::ToolOutcome> GlobTool::run(const bj::object& input, agent::ToolContext& ctx,
                                                         const std::function<void(const agent::ToolChunk&)>& emit) {
    if (auto unexpected = unexpected_argument(schema(), input)) co_return error_outcome(std::move(*unexpected), emit);
    auto pattern = string_arg(input, "pattern");
    if (!pattern) co_return error_outcome(input_error("Glob", "'pattern' is a required string"), emit);
    const std::string base = search_dir(input, workspace_->workdir());
    const workspace::Workspace& ws = *workspace_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const Cancellation* cancel = ctx.cancel.get();
    const std::function<bool()> stop = [cancel, deadline] {
        return (cancel && cancel->requested()) || std::chrono::steady_clock::now() > deadline;
    };
    auto job = [&] { return glob_job(ws, *pattern, base, stop); };
    GlobRun r = co_await on_file_tool_pool(job);
    if (!r.error.empty()) co_return error_outcome(std::move(r.error), emit);
    if (r.search.stopped) {
        if (cancel && cancel->requested())
            co_return text_outcome("interrupted", std::string(domain::kInterruptedToolText), emit);
        co_return error_outcome("Glob helper failed: timed out", emit);
    }
    if (r.search.paths.empty()) co_return text_outcome("success", "No files found matching pattern: " + *pattern, emit);
    std::string text;
    for (const auto& p : r.search.paths) {
        if (!text.empty()) text.push_back('\n');
        text += p;
    }
    co_return text_outcome("success", std::move(text), emit);
}

}  // namespace agentd::tool
