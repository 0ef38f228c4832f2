// Path checks shared by the file tools and Bash (spec/runtime.md §7.3–7.5).
#include <algorithm>
#include <array>
#include <filesystem>
#include <system_error>

#include "permission/tool_rules.hpp"

namespace agentd::permission {

namespace {

namespace fs = std::filesystem;

constexpr auto kDangerousFiles = std::to_array<std::string_view>(
    {".gitconfig", ".gitmodules", ".bashrc", ".bash_profile", ".zshrc", ".zprofile", ".profile",
     ".ssh/config", ".ssh/authorized_keys", ".netrc", ".npmrc", ".pypirc", ".env", ".envrc",
     ".env.local", ".env.development", ".env.development.local", ".env.test", ".env.test.local",
     ".env.staging", ".env.production", ".env.production.local"});

constexpr auto kDangerousDirectories = std::to_array<std::string_view>({".git", ".vscode", ".idea", ".ssh"});

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string strip_trailing_slashes(std::string s) {
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

/// `~` expanded against env.home and made absolute against env.cwd.
std::string absolute_path(std::string_view path, const PathEnvironment& env) {
    std::string p(path);
    if (p == "~" || p.rfind("~/", 0) == 0) p = env.home + p.substr(1);
    if (!p.empty() && p[0] != '/' && !env.cwd.empty()) p = env.cwd + "/" + p;
    return p;
}

/// Symlinks resolved where the path exists; lexically normalised otherwise.
std::string resolved_path(const std::string& abs) {
    std::error_code ec;
    fs::path resolved = fs::weakly_canonical(fs::path(abs), ec);
    if (ec) resolved = fs::path(abs).lexically_normal();
    return strip_trailing_slashes(resolved.lexically_normal().string());
}

bool below(const std::string& path, const std::string& dir) {
    if (dir.empty() || path.empty() || path[0] != '/' || dir[0] != '/') return false;
    if (path == dir || dir == "/") return true;
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           path[dir.size()] == '/';
}

/// One bracket expression of fnmatch at p[i] == '['; returns the index after
/// ']' and whether `c` matched, or nullopt when the bracket is unterminated
/// (it is then a literal '[').
std::optional<std::pair<std::size_t, bool>> match_bracket(std::string_view p, std::size_t i, char c) {
    std::size_t j = i + 1;
    if (j < p.size() && p[j] == '!') ++j;
    if (j < p.size() && p[j] == ']') ++j;
    while (j < p.size() && p[j] != ']') ++j;
    if (j >= p.size()) return std::nullopt;
    std::string_view cls = p.substr(i + 1, j - i - 1);
    bool negate = false;
    if (!cls.empty() && cls[0] == '!') {
        negate = true;
        cls.remove_prefix(1);
    }
    bool hit = false;
    for (std::size_t k = 0; k < cls.size(); ++k) {
        if (k + 2 < cls.size() && cls[k + 1] == '-') {
            if (cls[k] <= c && c <= cls[k + 2]) hit = true;
            k += 2;
        } else if (cls[k] == c) {
            hit = true;
        }
    }
    return std::make_pair(j + 1, hit != negate);
}

}  // namespace

bool path_glob_matches(std::string_view pattern, std::string_view path) {
    // Classic single-backtrack wildcard matching: O(|pattern|·|path|) worst case.
    std::size_t pi = 0, si = 0;
    std::size_t star_p = std::string_view::npos, star_s = 0;
    while (si < path.size()) {
        bool advanced = false;
        if (pi < pattern.size()) {
            const char pc = pattern[pi];
            if (pc == '*') {
                star_p = pi++;
                star_s = si;
                continue;
            }
            if (pc == '?') {
                ++pi;
                ++si;
                advanced = true;
            } else if (pc == '[') {
                if (auto m = match_bracket(pattern, pi, path[si])) {
                    if (m->second) {
                        pi = m->first;
                        ++si;
                        advanced = true;
                    }
                } else if (path[si] == '[') {
                    ++pi;
                    ++si;
                    advanced = true;
                }
            } else if (pc == path[si]) {
                ++pi;
                ++si;
                advanced = true;
            }
        }
        if (advanced) continue;
        if (star_p == std::string_view::npos) return false;
        pi = star_p + 1;
        si = ++star_s;
    }
    while (pi < pattern.size() && pattern[pi] == '*') ++pi;
    return pi == pattern.size();
}

bool is_dangerous_path(std::string_view path) {
    const std::string p = strip_trailing_slashes(lower(path));
    if (p.empty()) return false;
    const auto slash = p.rfind('/');
    const std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
    for (auto f : kDangerousFiles) {
        if (base == f) return true;
        // Entries with a directory part (".ssh/config") match as a path suffix.
        if (f.find('/') != std::string_view::npos &&
            (p == f || (p.size() > f.size() && p.compare(p.size() - f.size(), f.size(), f) == 0 &&
                        p[p.size() - f.size() - 1] == '/'))) {
            return true;
        }
    }
    std::size_t start = 0;
    while (start <= p.size()) {
        auto end = p.find('/', start);
        if (end == std::string::npos) end = p.size();
        const std::string_view segment = std::string_view(p).substr(start, end - start);
        for (auto d : kDangerousDirectories)
            if (segment == d) return true;
        start = end + 1;
    }
    return false;
}

bool in_working_directory(std::string_view path, const Context& ctx, const PathEnvironment& env) {
    if (path.empty()) return false;
    const std::string abs = absolute_path(path, env);
    if (abs.empty() || abs[0] != '/') return false;
    const std::string real = resolved_path(abs);
    for (const auto& dir : ctx.working_directories) {
        const std::string dir_abs = absolute_path(dir, env);
        if (dir_abs.empty() || dir_abs[0] != '/') continue;
        if (below(real, resolved_path(dir_abs))) return true;
    }
    return false;
}

Decision file_edit_check(std::string_view file_path, const Context& ctx, const PathEnvironment& env) {
    if (file_path.empty()) {
        Decision d = Decision::passthrough();
        d.message = "No file path provided";
        return d;
    }
    // The name as written, its absolute form and its symlink target must all be safe.
    const std::string abs = absolute_path(file_path, env);
    const bool dangerous = is_dangerous_path(file_path) || is_dangerous_path(abs) ||
                           (!abs.empty() && abs[0] == '/' && is_dangerous_path(resolved_path(abs)));
    if (dangerous) {
        Decision d = Decision::safety_ask("Permission required: Edit operation on sensitive file " +
                                          std::string(file_path));
        d.reason = "Safety check: dangerous file or directory";
        return d;
    }
    if ((ctx.mode == Mode::kAcceptEdits || ctx.mode == Mode::kDontAsk) &&
        in_working_directory(file_path, ctx, env)) {
        Decision d = Decision::allow("Permission granted for editing " + std::string(file_path) +
                                     " (in working directory)");
        d.reason = "File is in working directory and not a dangerous path";
        return d;
    }
    return Decision::passthrough();
}

std::vector<Rule> path_suggestions(std::string_view tool_name, std::string_view path) {
    if (path.empty()) return {};
    // posixpath.dirname with the trailing separators dropped; no directory → "**".
    const auto cut = path.rfind('/');
    std::string parent = cut == std::string_view::npos ? std::string() : std::string(path.substr(0, cut));
    while (!parent.empty() && (parent.back() == '/' || parent.back() == '\\')) parent.pop_back();
    Rule r;
    r.tool_name = std::string(tool_name);
    r.rule_content = cut == std::string_view::npos ? std::string("**") : parent + "/**";
    r.behavior = Behavior::kAllow;
    r.source = "suggested";
    return {r};
}

}  // namespace agentd::permission
