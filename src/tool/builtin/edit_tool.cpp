#include "tool/builtin/edit_tool.hpp"

#include <sys/stat.h>

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
    props["file_path"] = {{"type", "string"}, {"description", "Absolute path of the file to edit."}};
    props["old_string"] = {{"type", "string"},
                           {"description", "The exact text to replace, including whitespace and indentation."}};
    props["new_string"] = {{"type", "string"}, {"description", "The text that replaces old_string."}};
    props["replace_all"] = {{"type", "boolean"},
                            {"description",
                             "Replace every occurrence when true. When false (the default) old_string must occur "
                             "exactly once."},
                            {"default", false}};
    return model::ToolSchema{
        "Edit",
        "Replaces exact text in a file.\n"
        "\n"
        "Usage:\n"
        "- Read the file with the Read tool first; editing a file that was not read fails.\n"
        "- Read prints each line as a line number, a tab, then the content. Match the content after the tab "
        "exactly, indentation included, and never put any part of the number prefix in old_string or "
        "new_string.\n"
        "- Prefer editing existing files over creating new ones.\n"
        "- Do not add emojis unless the user asks for them.\n"
        "- The edit fails when old_string occurs more than once, unless replace_all is set.",
        bj::object{{"type", "object"},
                   {"properties", std::move(props)},
                   {"required", bj::array{"file_path", "old_string", "new_string"}}}};
}

/// One schema for every run's tool: copies share its parameters and their
/// rendered forms (model/shared_schema.hpp).
const model::ToolSchema& shared_schema() {
    static const model::ToolSchema kSchema = make_schema();
    return kSchema;
}

struct Target {
    std::string error;
    bool exists = false;
    std::optional<double> mtime;
    std::filesystem::path host;
};

Target inspect(const workspace::Workspace& ws, const std::string& file_path) {
    Target t;
    const auto resolved = ws.resolve(file_path);
    if (!resolved) {
        t.error = "Error: " + resolved.error->message;
        return t;
    }
    t.host = *resolved.host;
    struct stat st {};
    t.exists = ::stat(t.host.c_str(), &st) == 0;
    if (t.exists) t.mtime = file_mtime(t.host);
    return t;
}

struct Written {
    std::string error;
    std::string diff;
};

Written write_and_diff(const Target& target, const std::string& file_path, const std::string& before,
                       const std::string& after) {
    Written w;
    std::string error;
    if (!write_host_file(target.host, after, error)) {
        w.error = "Error writing file: " + error;
        return w;
    }
    w.diff = unified_diff(split_lines_keepends(before), split_lines_keepends(after), "a/" + file_path,
                          "b/" + file_path);
    return w;
}

}  // namespace

EditTool::EditTool(std::shared_ptr<workspace::Workspace> workspace)
    : workspace_(std::move(workspace)), schema_(shared_schema()) {}

permission::Decision EditTool::check_permissions(const bj::object& input, const permission::Context& ctx) const {
    return file_edit_permissions(input, ctx, *workspace_);
}

bool EditTool::match_rule(const std::string& rule_content, const bj::object& input) const {
    return file_path_rule_matches(rule_content, input);
}

std::vector<permission::Rule> EditTool::suggestions(const bj::object& input) const {
    return file_path_suggestions(schema_.name, input);
}

boost::asio::awaitable<agent::ToolOutcome> EditTool::run(const bj::object& input, agent::ToolContext& ctx,
                                                         const std::function<void(const agent::ToolChunk&)>& emit) {
    if (auto unexpected = unexpected_argument(schema(), input)) co_return error_outcome(std::move(*unexpected), emit);
    auto file_path = string_arg(input, "file_path");
    auto old_string = string_arg(input, "old_string");
    auto new_string = string_arg(input, "new_string");
    if (!file_path || !old_string || !new_string)
        co_return error_outcome(input_error("Edit", "'file_path', 'old_string' and 'new_string' are required strings"),
                                emit);
    bool ok = true;
    const bool replace_all = bool_arg(input, "replace_all", false, ok);
    if (!ok) co_return error_outcome(input_error("Edit", "'replace_all' must be a boolean"), emit);
    if (file_path->empty() || file_path->front() != '/')
        co_return error_outcome("Error: file_path must be an absolute path, got: " + *file_path, emit);

    const workspace::Workspace& ws = *workspace_;
    auto inspect_job = [&] { return inspect(ws, *file_path); };
    Target target = co_await on_file_tool_pool(inspect_job);
    if (!target.error.empty()) co_return error_outcome(std::move(target.error), emit);
    if (!target.exists) co_return error_outcome("Error: File not found: " + *file_path, emit);
    if (*old_string == *new_string)
        co_return error_outcome("Error: old_string and new_string are identical. No changes to make.", emit);

    // The text edited is the cached (newline-normalised) content, not a fresh read.
    const bj::array* lines = read_cache_get(ctx.state.tool_context, *file_path, target.mtime);
    if (!lines) co_return error_outcome("Error: To edit a file, you must first read it using the Read tool.", emit);
    std::string content;
    for (const auto& line : *lines) {
        if (line.is_string()) content.append(line.get_string());
    }

    const std::size_t occurrences = python_count(content, *old_string);
    if (occurrences == 0) co_return error_outcome("Error: old_string not found in " + *file_path, emit);
    if (occurrences > 1 && !replace_all) {
        co_return error_outcome("Error: old_string appears " + std::to_string(occurrences) + " times in " + *file_path +
                                    ". Set replace_all=true to replace all occurrences, or make old_string more "
                                    "specific.",
                                emit);
    }
    const std::string updated = python_replace(content, *old_string, *new_string, replace_all ? -1 : 1);

    auto write_job = [&] { return write_and_diff(target, *file_path, content, updated); };
    Written written = co_await on_file_tool_pool(write_job);
    if (!written.error.empty()) co_return error_outcome(std::move(written.error), emit);

    const std::string replaced = replace_all ? "all " + std::to_string(occurrences) + " occurrences" : "1 occurrence";
    bj::object metadata{{"diff", std::move(written.diff)},
                        {"file_path", *file_path},
                        {"occurrences", replace_all ? occurrences : std::size_t{1}}};
    co_return text_outcome("success", "Successfully replaced " + replaced + " in " + *file_path, emit,
                           std::move(metadata));
}

}  // namespace agentd::tool
