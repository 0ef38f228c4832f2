#include "tool/builtin/write_tool.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

#include "permission/tool_rules.hpp"
#include "tool/builtin/file_tool_pool.hpp"
#include "tool/builtin/file_tool_support.hpp"
#include "tool/builtin/python_text.hpp"
#include "tool/builtin/read_cache.hpp"
#include "tool/builtin/unified_diff.hpp"
#include "workspace/workspace.hpp"

namespace agentd::tool {

namespace {

model::ToolSchema make_schema() {
    bj::object props;
    props["file_path"] = {{"type", "string"},
                          {"description", "Absolute path of the file to write (must be absolute, not relative)"}};
    props["content"] = {{"type", "string"}, {"description", "The complete new content of the file"}};
    return model::ToolSchema{
        "Write",
        "Writes a file in the workspace.\n"
        "\n"
        "Usage:\n"
        "- An existing file at the path is overwritten.\n"
        "- An existing file MUST have been read with the Read tool first; otherwise this tool fails.\n"
        "- Prefer editing existing files; only create new files when the task needs them.\n"
        "- Do not create documentation files (*.md) or READMEs unless the user asks for them.\n"
        "- Do not put emojis in files unless the user asks for them.",
        bj::object{{"type", "object"}, {"properties", std::move(props)}, {"required", bj::array{"file_path", "content"}}}};
}

/// One schema for every run's tool: copies share its parameters and their
/// rendered forms (model/shared_schema.hpp).
const model::ToolSchema& shared_schema() {
    static const model::ToolSchema kSchema = make_schema();
    return kSchema;
}

struct Before {
    std::string error;
    bool existed = false;
    std::optional<double> mtime;
    std::string previous;  // strict UTF-8, or empty
    std::filesystem::path host;
};

Before inspect(const workspace::Workspace& ws, const std::string& file_path) {
    Before b;
    const auto resolved = ws.resolve(file_path);
    if (!resolved) {
        b.error = "Error: " + resolved.error->message;
        return b;
    }
    b.host = *resolved.host;
    struct stat st {};
    b.existed = ::stat(b.host.c_str(), &st) == 0;
    if (!b.existed) return b;
    b.mtime = file_mtime(b.host);
    std::string raw, ignored;
    if (!S_ISDIR(st.st_mode) && read_host_file(b.host, raw, ignored) && is_valid_utf8(raw)) b.previous = std::move(raw);
    return b;
}

struct After {
    std::string error;
    std::string diff;
};

After write_and_diff(const Before& before, const std::string& file_path, const std::string& content) {
    After a;
    std::error_code ec;
    std::filesystem::create_directories(before.host.parent_path(), ec);  // like `mkdir -p`, failures surface below
    std::string error;
    if (!write_host_file(before.host, content, error)) {
        a.error = "Error writing file: " + error;
        return a;
    }
    a.diff = unified_diff(split_lines_keepends(before.previous), split_lines_keepends(content),
                          before.existed ? "a/" + file_path : std::string("/dev/null"), "b/" + file_path);
    return a;
}

}  // namespace

WriteTool::WriteTool(std::shared_ptr<workspace::Workspace> workspace)
    : workspace_(std::move(workspace)), schema_(shared_schema()) {}

permission::Decision WriteTool::check_permissions(const bj::object& input, const permission::Context& ctx) const {
    return file_edit_permissions(input, ctx, *workspace_);
}

bool WriteTool::match_rule(const std::string& rule_content, const bj::object& input) const {
    return file_path_rule_matches(rule_content, input);
}

std::vector<permission::Rule> WriteTool::suggestions(const bj::object& input) const {
    return file_path_suggestions(schema_.name, input);
}

boost::asio::awaitable<agent::ToolOutcome> WriteTool::run(const bj::object& input, agent::ToolContext& ctx,
                                                          const std::function<void(const agent::ToolChunk&)>& emit) {
    if (auto unexpected = unexpected_argument(schema(), input)) co_return error_outcome(std::move(*unexpected), emit);
    auto file_path = string_arg(input, "file_path");
    auto content = string_arg(input, "content");
    if (!file_path || !content)
        co_return error_outcome(input_error("Write", "'file_path' and 'content' are required strings"), emit);
    if (file_path->empty() || file_path->front() != '/')
        co_return error_outcome("Error: file_path must be an absolute path, got: " + *file_path, emit);

    const workspace::Workspace& ws = *workspace_;
    auto inspect_job = [&] { return inspect(ws, *file_path); };
    Before before = co_await on_file_tool_pool(inspect_job);
    if (!before.error.empty()) co_return error_outcome(std::move(before.error), emit);
    if (before.existed && !read_cache_get(ctx.state.tool_context, *file_path, before.mtime)) {
        co_return error_outcome("Error: File " + *file_path +
                                    " exists but has not been read yet. You must read the file first before writing "
                                    "to it.",
                                emit);
    }

    auto write_job = [&] { return write_and_diff(before, *file_path, *content); };
    After after = co_await on_file_tool_pool(write_job);
    if (!after.error.empty()) co_return error_outcome(std::move(after.error), emit);

    const auto lines = std::count(content->begin(), content->end(), '\n') + 1;
    bj::object metadata{{"diff", std::move(after.diff)}, {"file_path", *file_path}, {"occurrences", 1}};
    co_return text_outcome("success",
                           "The file " + *file_path + " has been written successfully (" + std::to_string(lines) +
                               " lines).",
                           emit, std::move(metadata));
}

}  // namespace agentd::tool
