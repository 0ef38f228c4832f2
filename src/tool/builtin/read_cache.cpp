#include "tool/builtin/read_cache.hpp"

#include <sys/stat.h>

namespace agentd::tool {

namespace {

// The cache list, created (or repaired) when missing.
bj::array& cache_list(bj::object& tool_context) {
    bj::value& v = tool_context["read_file_cache"];
    if (!v.is_array()) v = bj::array{};
    return v.get_array();
}

double number_or(const bj::object& o, std::string_view key, double fallback) {
    auto it = o.find(key);
    if (it == o.end()) return fallback;
    if (it->value().is_double()) return it->value().get_double();
    if (it->value().is_int64()) return static_cast<double>(it->value().get_int64());
    if (it->value().is_uint64()) return static_cast<double>(it->value().get_uint64());
    return fallback;
}

bool entry_is_for(const bj::value& entry, std::string_view file_path) {
    if (!entry.is_object()) return false;
    auto it = entry.get_object().find("file_path");
    return it != entry.get_object().end() && it->value().is_string() && it->value().get_string() == file_path;
}

double entry_kib(const bj::value& entry) {
    return entry.is_object() ? number_or(entry.get_object(), "bytes", 0.0) : 0.0;
}

}  // namespace

std::optional<double> file_mtime(const std::filesystem::path& host_path) {
    struct stat st {};
    if (::stat(host_path.c_str(), &st) != 0) return std::nullopt;
    // CPython: st_mtime = sec + nsec * 1e-9, computed in double.
    return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

const bj::array* read_cache_get(bj::object& tool_context, std::string_view file_path,
                                std::optional<double> current_mtime) {
    bj::array& list = cache_list(tool_context);
    for (std::size_t idx = 0; idx < list.size(); ++idx) {
        if (!entry_is_for(list[idx], file_path)) continue;
        const bool fresh = current_mtime && list[idx].is_object() &&
                           list[idx].get_object().contains("updated_at") &&
                           number_or(list[idx].get_object(), "updated_at", 0.0) == *current_mtime;
        bj::value entry = std::move(list[idx]);
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(idx));
        if (!fresh) return nullptr;
        list.push_back(std::move(entry));
        bj::object& kept = list.back().get_object();
        bj::value& lines = kept["lines"];
        if (!lines.is_array()) lines = bj::array{};
        return &lines.get_array();
    }
    return nullptr;
}

void read_cache_put(bj::object& tool_context, std::string_view file_path, const std::vector<std::string>& lines,
                    std::optional<double> mtime) {
    if (!mtime) return;
    const double max_files = number_or(tool_context, "max_cache_files", 100);
    const double max_kib = number_or(tool_context, "max_cache_bytes", 25000);
    std::size_t total_bytes = 0;
    bj::array line_values;
    line_values.reserve(lines.size());
    for (const auto& line : lines) {
        total_bytes += line.size();
        line_values.emplace_back(line);
    }
    const double new_kib = static_cast<double>(total_bytes) / 1024;

    bj::array& list = cache_list(tool_context);
    for (std::size_t idx = list.size(); idx-- > 0;) {
        if (entry_is_for(list[idx], file_path)) list.erase(list.begin() + static_cast<std::ptrdiff_t>(idx));
    }
    while (!list.empty() && static_cast<double>(list.size()) >= max_files) list.erase(list.begin());
    double current = 0;
    for (const auto& e : list) current += entry_kib(e);
    while (!list.empty() && current + new_kib > max_kib) {
        current -= entry_kib(list.front());
        list.erase(list.begin());
    }
    bj::object entry;
    entry["lines"] = std::move(line_values);
    entry["updated_at"] = *mtime;
    entry["bytes"] = new_kib;
    entry["file_path"] = file_path;
    list.push_back(std::move(entry));
}

}  // namespace agentd::tool
