#include "tool/builtin/grep_tool.hpp"

#include <cctype>

#include "domain/message.hpp"
#include "permission/tool_rules.hpp"
#include "tool/builtin/file_tool_pool.hpp"
#include "tool/builtin/file_tool_support.hpp"
#include "tool/builtin/grep_search.hpp"
#include "workspace/workspace.hpp"

namespace agentd::tool {

namespace {

constexpr std::int64_t kDefaultHeadLimit = 250;

std::string search_path(const bj::object& input, const std::string& workdir) {
    auto path = string_arg(input, "path");
    return path && !path->empty() ? *path : workdir;
}

bj::object int_prop(std::string_view description) {
    return bj::object{{"type", "integer"}, {"description", description}};
}

struct GrepRun {
    std::string error;  // the tool's error text
    GrepSearchResult search;
};

GrepRun grep_job(const workspace::Workspace& ws, const GrepOptions& options, const std::string& path,
                 const std::function<bool()>& stop) {
    GrepRun r;
    const auto resolved = ws.resolve(path, /*allow_relative=*/true);
    if (!resolved) {
        r.error = "Error: " + resolved.error->message;
        return r;
    }
    std::string root = ws.host_dir().lexically_normal().string();
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    r.search = grep_search(options, root, resolved.host->string(), path, stop);
    return r;
}

}  // namespace

std::vector<std::string> split_grep_globs(std::string_view glob) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < glob.size()) {
        while (i < glob.size() && std::isspace(static_cast<unsigned char>(glob[i]))) ++i;
        std::size_t j = i;
        while (j < glob.size() && !std::isspace(static_cast<unsigned char>(glob[j]))) ++j;
        if (j == i) break;
        const std::string_view token = glob.substr(i, j - i);
        if (token.find('{') != std::string_view::npos && token.find('}') != std::string_view::npos) {
            out.emplace_back(token);
        } else {
            std::size_t a = 0;
            while (a <= token.size()) {
                std::size_t b = token.find(',', a);
                if (b == std::string_view::npos) b = token.size();
                if (b > a) out.emplace_back(token.substr(a, b - a));
                a = b + 1;
            }
        }
        i = j;
    }
    return out;
}

GrepTool::GrepTool(std::shared_ptr<workspace::Workspace> workspace) : workspace_(std::move(workspace)) {}

const model::ToolSchema& GrepTool::schema() const {
    static const model::ToolSchema kSchema = [] {
        bj::object props;
        props["pattern"] = {{"type", "string"}, {"description", "The regular expression to search file contents for."}};
        props["path"] = {{"type", "string"},
                         {"description", "File or directory to search. Defaults to the workspace directory."}};
        props["output_mode"] = {
            {"type", "string"},
            {"enum", bj::array{"content", "files_with_matches", "count"}},
            {"description",
             "'content' prints matching lines (with -A/-B/-C context, -n line numbers, head_limit), "
             "'files_with_matches' prints file paths (head_limit applies), 'count' prints match counts per file "
             "(head_limit applies). Default: 'files_with_matches'."},
            {"default", "files_with_matches"}};
        props["glob"] = {{"type", "string"}, {"description", "Glob that files must match (e.g. '*.js', '*.{ts,tsx}')."}};
        props["type"] = {{"type", "string"},
                         {"description", "File type to search (like rg --type), e.g. js, py, rust, go, java."}};
        props["-A"] = int_prop("Lines of context after each match. Content mode only.");
        props["-B"] = int_prop("Lines of context before each match. Content mode only.");
        props["-C"] = int_prop("Same as context.");
        props["context"] = int_prop("Lines of context before and after each match. Content mode only.");
        props["n"] = {{"type", "boolean"},
                      {"description", "Print line numbers. Content mode only. Default: true."},
                      {"default", true}};
        props["i"] = {{"type", "boolean"}, {"description", "Ignore case."}, {"default", false}};
        props["case_insensitive"] = {{"type", "boolean"}, {"description", "Ignore case (same as i)."}, {"default", false}};
        props["multiline"] = {{"type", "boolean"},
                              {"description",
                               "Multiline mode: '.' also matches newlines and a match may span lines. Default: false."},
                              {"default", false}};
        props["head_limit"] = {{"type", "integer"},
                               {"description",
                                "Show at most this many lines/entries. 250 when not given; 0 means no limit."},
                               {"minimum", 0}};
        props["offset"] = {{"type", "integer"},
                           {"description", "Skip this many lines/entries before applying head_limit. Default: 0."},
                           {"default", 0},
                           {"minimum", 0}};
        return model::ToolSchema{
            "Grep",
            "Searches file contents with regular expressions (ripgrep semantics).\n"
            "\n"
            "  Usage:\n"
            "- Use Grep for every content search; do not run `grep` or `rg` through Bash. Grep respects the "
            "workspace's permissions and ignore files.\n"
            "- Full regular expression syntax (e.g. \"log.*Error\", \"function\\\\s+\\\\w+\").\n"
            "- Narrow the files with glob (e.g. \"*.js\", \"**/*.tsx\") or type (e.g. \"js\", \"py\", \"rust\").\n"
            "- output_mode: \"content\" prints matching lines, \"files_with_matches\" (the default) prints only "
            "paths, \"count\" prints match counts per file.\n"
            "- Context: context or -A/-B/-C give lines after/before/around matches.\n"
            "- Case-insensitive search: set i to true.\n"
            "- Patterns that span lines: set multiline to true.\n"
            "- head_limit caps the number of results.",
            bj::object{{"type", "object"}, {"properties", std::move(props)}, {"required", bj::array{"pattern"}}}};
    }();
    return kSchema;
}

permission::Decision GrepTool::check_permissions(const bj::object&, const permission::Context&) const {
    auto d = permission::Decision::passthrough();
    d.message = "Grep search is read-only.";
    return d;
}

bool GrepTool::match_rule(const std::string& rule_content, const bj::object& input) const {
    return permission::path_glob_matches(rule_content, search_path(input, workspace_->workdir()));
}

std::vector<permission::Rule> GrepTool::suggestions(const bj::object& input) const {
    const std::string dir = search_path(input, workspace_->workdir());
    std::string absolute = (std::filesystem::path(workspace_->workdir()) / dir).lexically_normal().string();
    while (!absolute.empty() && absolute.back() == '/') absolute.pop_back();
    return {permission::Rule{"Grep", absolute + "/**", permission::Behavior::kAllow, "suggested"}};
}

boost::asio::awaitable<agent::ToolOutcome> GrepTool::run(const bj::object& input, agent::ToolContext& ctx,
                                                         const std::function<void(const agent::ToolChunk&)>& emit) {
    auto pattern = string_arg(input, "pattern");
    if (!pattern) co_return error_outcome(input_error("Grep", "'pattern' is a required string"), emit);
    bool ok = true;
    const auto head_limit = int_arg(input, "head_limit", ok);
    const std::int64_t offset = int_arg(input, "offset", ok).value_or(0);
    const auto after = int_arg(input, "-A", ok);
    const auto before = int_arg(input, "-B", ok);
    const auto c_flag = int_arg(input, "-C", ok);
    const auto context = int_arg(input, "context", ok);
    const bool line_numbers = bool_arg(input, "n", true, ok);
    const bool ignore_case = bool_arg(input, "i", false, ok) || bool_arg(input, "case_insensitive", false, ok);
    const bool multiline = bool_arg(input, "multiline", false, ok);
    const std::string mode = string_arg(input, "output_mode").value_or("files_with_matches");
    if (!ok) co_return error_outcome(input_error("Grep", "integer and boolean arguments must have their types"), emit);
    if (mode != "content" && mode != "files_with_matches" && mode != "count")
        co_return error_outcome(
            input_error("Grep", "'" + mode + "' is not one of ['content', 'files_with_matches', 'count']"), emit);
    if (head_limit && *head_limit < 0) co_return error_outcome("Error: head_limit must be non-negative.", emit);
    if (offset < 0) co_return error_outcome("Error: offset must be non-negative.", emit);

    GrepOptions options;
    options.pattern = *pattern;
    options.mode = mode == "content"  ? GrepOptions::Mode::kContent
                   : mode == "count" ? GrepOptions::Mode::kCount
                                     : GrepOptions::Mode::kFilesWithMatches;
    options.line_numbers = line_numbers && options.mode == GrepOptions::Mode::kContent;
    options.case_insensitive = ignore_case;
    options.multiline = multiline;
    if (options.mode == GrepOptions::Mode::kContent) {
        std::optional<std::int64_t> b = before, a = after;
        if (context || c_flag) a = b = context ? context : c_flag;
        for (const auto& v : {a, b}) {
            if (v && *v < 0)
                co_return error_outcome("ripgrep error (code 2): invalid context line count: " + std::to_string(*v), emit);
        }
        options.before = static_cast<std::size_t>(b.value_or(0));
        options.after = static_cast<std::size_t>(a.value_or(0));
    }
    if (auto glob = string_arg(input, "glob")) options.globs = split_grep_globs(*glob);
    options.type = string_arg(input, "type");
    const std::int64_t limit = head_limit.value_or(kDefaultHeadLimit);
    if (limit != 0) options.line_cap = static_cast<std::size_t>(offset + limit);

    const std::string path = search_path(input, workspace_->workdir());
    const workspace::Workspace& ws = *workspace_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const Cancellation* cancel = ctx.cancel.get();
    const std::function<bool()> stop = [cancel, deadline] {
        return (cancel && cancel->requested()) || std::chrono::steady_clock::now() > deadline;
    };
    auto job = [&] { return grep_job(ws, options, path, stop); };
    GrepRun r = co_await on_file_tool_pool(job);
    if (!r.error.empty()) co_return error_outcome(std::move(r.error), emit);
    if (r.search.stopped) {
        if (cancel && cancel->requested()) co_return text_outcome("interrupted", std::string(domain::kInterruptedToolText), emit);
        co_return error_outcome(
            "Ripgrep search timed out after 30 seconds. Try searching a more specific path or pattern.", emit);
    }
    if (!r.search.error.empty()) co_return error_outcome("ripgrep error (code 2): " + r.search.error, emit);
    const auto& lines = r.search.lines;
    if (lines.empty()) co_return text_outcome("success", "No matches found for pattern: " + *pattern, emit);

    const auto first = std::min(lines.size(), static_cast<std::size_t>(offset));
    std::size_t last = lines.size();
    std::string suffix;
    if (limit != 0) {
        last = std::min(lines.size(), first + static_cast<std::size_t>(limit));
        if (lines.size() - first > static_cast<std::size_t>(limit)) {
            suffix = "\n\n[Showing results with pagination = limit: " + std::to_string(limit);
            if (offset) suffix += ", offset: " + std::to_string(offset);
            suffix += "]";
        }
    }
    std::string text;
    for (std::size_t k = first; k < last; ++k) {
        if (k > first) text.push_back('\n');
        text += lines[k];
    }
    co_return text_outcome("success", text + suffix, emit);
}

}  // namespace agentd::tool
