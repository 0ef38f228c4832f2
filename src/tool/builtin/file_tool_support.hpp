#pragma once
// Plumbing shared by the built-in file tools: reading arguments, producing a
// text result (streamed as one chunk, as the reference's tools return one
// chunk), and raw file I/O on host paths.
#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/toolkit.hpp"

namespace agentd::tool {

namespace bj = boost::json;

using Emit = std::function<void(const agent::ToolChunk&)>;

/// Emits `text` as one chunk and returns it as the outcome's output.
agent::ToolOutcome text_outcome(std::string_view state, std::string text, const Emit& emit,
                                bj::object metadata = {});
inline agent::ToolOutcome error_outcome(std::string text, const Emit& emit) {
    return text_outcome("error", std::move(text), emit);
}

/// The reference validates arguments before a tool runs; a tool reached with a
/// missing or mistyped argument answers with the same prefix.
std::string input_error(std::string_view tool, std::string_view detail);

/// Python's TypeError for the first argument that is not a property of the
/// tool's schema ("Read.call() got an unexpected keyword argument 'x'"): the
/// reference runs a tool as call(**input), which only Grep's **kwargs absorbs.
std::optional<std::string> unexpected_argument(const model::ToolSchema& schema, const bj::object& input);

/// A string argument; nullopt when absent or not a string.
std::optional<std::string> string_arg(const bj::object& input, std::string_view key);
/// An integer argument (integral doubles accepted); nullopt when absent or null.
/// `ok` is false when present but not an integer.
std::optional<std::int64_t> int_arg(const bj::object& input, std::string_view key, bool& ok);
/// A boolean argument, `fallback` when absent or null; `ok` false when mistyped.
bool bool_arg(const bj::object& input, std::string_view key, bool fallback, bool& ok);

/// Reads a whole file (non-blocking open, so a FIFO reads as empty); the last component must not be a symlink (the
/// path comes from Workspace::resolve, which already followed every link).
/// Returns false with `error` set to a strerror-style text.
bool read_host_file(const std::filesystem::path& path, std::string& out, std::string& error);
/// Creates or truncates and writes the file (mode 0666 & ~umask), refusing a
/// symlink as the last component.
bool write_host_file(const std::filesystem::path& path, std::string_view bytes, std::string& error);

/// Write/Edit permission hooks, shared: the call's `file_path` is what rules and
/// the path checks look at.
permission::Decision file_edit_permissions(const bj::object& input, const permission::Context& ctx,
                                           const workspace::Workspace& workspace);
bool file_path_rule_matches(const std::string& rule_content, const bj::object& input);
std::vector<permission::Rule> file_path_suggestions(const std::string& tool_name, const bj::object& input);

/// `%6d\t` as Python formats f"{n:6d}\t".
std::string line_number_prefix(std::size_t n);

}  // namespace agentd::tool
