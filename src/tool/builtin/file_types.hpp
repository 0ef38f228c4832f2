#pragma once
// Grep's `type` filter: a built-in table of file types (a subset of ripgrep's
// default `--type-list`, with the same names and globs for the common ones).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tool {

/// The file-name globs of type `name`; nullopt for an unknown type.
std::optional<std::vector<std::string>> file_type_globs(std::string_view name);

}  // namespace agentd::tool
