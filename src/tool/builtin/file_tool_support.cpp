#include "tool/builtin/file_tool_support.hpp"

#include "permission/tool_rules.hpp"
#include "workspace/workspace.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace agentd::tool {

agent::ToolOutcome text_outcome(std::string_view state, std::string text, const Emit& emit, bj::object metadata) {
    if (emit) emit(agent::ToolChunk{text, std::nullopt});
    return agent::ToolOutcome{std::string(state), bj::value(std::move(text)), std::move(metadata)};
}

std::string input_error(std::string_view tool, std::string_view detail) {
    return "Input validation failed for tool '" + std::string(tool) + "': " + std::string(detail);
}

std::optional<std::string> unexpected_argument(const model::ToolSchema& schema, const bj::object& input) {
    const bj::value* properties = schema.parameters.object().if_contains("properties");
    for (const auto& field : input) {
        if (properties && properties->is_object() && properties->get_object().contains(field.key())) continue;
        return schema.name + ".call() got an unexpected keyword argument '" + std::string(field.key()) + "'";
    }
    return std::nullopt;
}

std::optional<std::string> string_arg(const bj::object& input, std::string_view key) {
    auto it = input.find(key);
    if (it == input.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().get_string());
}

std::optional<std::int64_t> int_arg(const bj::object& input, std::string_view key, bool& ok) {
    auto it = input.find(key);
    if (it == input.end() || it->value().is_null()) return std::nullopt;
    const bj::value& v = it->value();
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    if (v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double() &&
        std::fabs(v.get_double()) < 9e15)
        return static_cast<std::int64_t>(v.get_double());
    ok = false;
    return std::nullopt;
}

bool bool_arg(const bj::object& input, std::string_view key, bool fallback, bool& ok) {
    auto it = input.find(key);
    if (it == input.end() || it->value().is_null()) return fallback;
    if (it->value().is_bool()) return it->value().get_bool();
    ok = false;
    return fallback;
}

bool read_host_file(const std::filesystem::path& path, std::string& out, std::string& error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        error = std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) out.reserve(static_cast<std::size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            error = std::strerror(errno);
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return true;
}

bool write_host_file(const std::filesystem::path& path, std::string_view bytes, std::string& error) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        error = std::strerror(errno);
        return false;
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            error = std::strerror(errno);
            ::close(fd);
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) {
        error = std::strerror(errno);
        return false;
    }
    return true;
}

std::string line_number_prefix(std::size_t n) {
    std::string digits = std::to_string(n);
    if (digits.size() < 6) digits.insert(0, 6 - digits.size(), ' ');
    digits.push_back('\t');
    return digits;
}

permission::Decision file_edit_permissions(const bj::object& input, const permission::Context& ctx,
                                           const workspace::Workspace& workspace) {
    auto path = string_arg(input, "file_path");
    if (!path || path->empty()) {
        auto d = permission::Decision::passthrough();
        d.message = "No file path provided";
        return d;
    }
    return permission::file_edit_check(*path, ctx, permission::PathEnvironment{workspace.workdir(), workspace.home()});
}

bool file_path_rule_matches(const std::string& rule_content, const bj::object& input) {
    auto path = string_arg(input, "file_path");
    return path && !path->empty() && permission::path_glob_matches(rule_content, *path);
}

std::vector<permission::Rule> file_path_suggestions(const std::string& tool_name, const bj::object& input) {
    auto path = string_arg(input, "file_path");
    if (!path || path->empty()) return {};
    return permission::path_suggestions(tool_name, *path);
}

}  // namespace agentd::tool
