#pragma once
// Files compiled into the binary from assets/ and migrations/ (see cmake/embed_assets.cmake).
#include <optional>
#include <string_view>
#include <vector>

namespace agentd::assets {

struct Asset {
    std::string_view path;  ///< relative to the repository root, e.g. "assets/catalog/chat_models.json"
    std::string_view data;
};

/// Every embedded file, sorted by path.
const std::vector<Asset>& all();

/// The content of one embedded file, or nullopt when it was not embedded.
inline std::optional<std::string_view> find(std::string_view path) {
    for (const auto& a : all())
        if (a.path == path) return a.data;
    return std::nullopt;
}

}  // namespace agentd::assets
