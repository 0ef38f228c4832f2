// Bash's permission opinion (spec/runtime.md §7.4.1–7.4.6), built on the
// shell parser. Where Agentd is deliberately stricter than the reference, the
// rule is listed in docs/security.md ("Bash permission parser").
#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "permission/bash_analysis.hpp"
#include "permission/shell_parser.hpp"
#include "permission/tool_rules.hpp"

namespace agentd::permission {

namespace {

using Words = std::vector<ShellWord>;

constexpr std::string_view kWhitespace = " \t\n\r\v\f";

constexpr auto kSafeCommands = std::to_array<std::string_view>({
    "echo", "cat", "ls", "pwd", "cd", "true", "false", "printf", "grep", "tee"});

constexpr auto kReadOnlyEntries = std::to_array<std::string_view>({
    "ls", "cat", "head", "tail", "less", "more", "file", "stat", "wc", "grep", "rg", "ag", "ack",
    "find", "tree", "pwd", "which", "whereis", "type", "git status", "git log", "git diff",
    "git show", "git branch", "git tag", "git remote", "git ls-files", "git ls-tree",
    "git cat-file", "git rev-parse", "git rev-list", "git describe", "git shortlog", "git blame",
    "git grep", "git reflog", "git config --get", "git config --list", "docker ps",
    "docker images", "docker inspect", "docker logs", "docker version", "docker info",
    "gh repo view", "gh issue list", "gh pr list", "gh status", "python --version", "python -V",
    "node --version", "node -v", "npm list", "npm ls", "pip list", "pip show"});

/// Suggestions may skip these assignments (§7.4.6).
constexpr auto kSafeEnvVars = std::to_array<std::string_view>({
    "NODE_ENV", "PYTHONUNBUFFERED", "RUST_LOG", "LANG", "TERM", "NO_COLOR", "FORCE_COLOR",
    "DEBUG", "VERBOSE", "CI", "PATH", "HOME", "USER", "SHELL", "EDITOR", "PAGER", "TZ", "LC_ALL",
    "LC_CTYPE", "COLUMNS", "LINES", "CLICOLOR", "CLICOLOR_FORCE"});

/// A read-only command may carry only these assignments: PATH, HOME, SHELL,
/// EDITOR, PAGER (and LD_PRELOAD & co.) can make a listed command run code.
constexpr auto kReadOnlyEnvVars = std::to_array<std::string_view>({
    "NODE_ENV", "PYTHONUNBUFFERED", "RUST_LOG", "LANG", "TERM", "NO_COLOR", "FORCE_COLOR",
    "DEBUG", "VERBOSE", "CI", "TZ", "LC_ALL", "LC_CTYPE", "COLUMNS", "LINES", "CLICOLOR",
    "CLICOLOR_FORCE"});

constexpr auto kDangerousPatterns = std::to_array<std::string_view>({
    "rm -rf", "sudo rm", "dd", "mkfs", "fdisk", "format", "chmod 777", "chmod -R 777",
    "chown -R", "kill -9", "> /dev/"});

constexpr auto kPathCommands = std::to_array<std::string_view>({
    "rm", "mv", "cp", "chmod", "chown", "chgrp", "touch", "ln", "sed", "mkdir", "rmdir"});

constexpr auto kFilesystemCommands = std::to_array<std::string_view>({"mkdir", "touch", "rm", "rmdir",
                                                                 "mv",    "cp",    "sed"});

/// Words that run the next word as the command (looked through for paths).
constexpr auto kCommandWrappers = std::to_array<std::string_view>({
    "sudo", "doas", "command", "exec", "nohup", "time", "nice", "env", "builtin", "xargs"});

constexpr auto kFindMutating = std::to_array<std::string_view>({
    "-delete", "-exec", "-execdir", "-fls", "-fprint", "-fprint0", "-fprintf", "-ok", "-okdir"});

/// find primaries that consume the next word, which is then not a primary.
constexpr auto kFindWithArgument = std::to_array<std::string_view>({
    "-name",   "-iname", "-path",   "-ipath",   "-wholename", "-iwholename", "-regex",
    "-iregex", "-lname", "-ilname", "-newer",   "-anewer",    "-cnewer",     "-perm",
    "-type",   "-xtype", "-user",   "-group",   "-uid",       "-gid",        "-size",
    "-mtime",  "-mmin",  "-atime",  "-amin",    "-ctime",     "-cmin",       "-used",
    "-inum",   "-links", "-samefile", "-maxdepth", "-mindepth", "-regextype", "-fstype",
    "-printf"});

/// Dangerous file names for `sed -i` (§7.4.4); kept in step with file_rules.cpp.
constexpr auto kSedDangerousFiles = std::to_array<std::string_view>({
    ".gitconfig", ".gitmodules", ".bashrc", ".bash_profile", ".zshrc", ".zprofile", ".profile",
    ".ssh/config", ".ssh/authorized_keys", ".netrc", ".npmrc", ".pypirc", ".env", ".envrc",
    ".env.local", ".env.development", ".env.development.local", ".env.test", ".env.test.local",
    ".env.staging", ".env.production", ".env.production.local"});

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view s) {
    return std::find(set.begin(), set.end(), s) != set.end();
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(kWhitespace);
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(kWhitespace);
    return s.substr(b, e - b + 1);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view assignment_name(std::string_view raw) {
    const auto end = raw.find_first_of("+=[");
    return raw.substr(0, end);
}

std::string_view basename_of(std::string_view word) {
    const auto slash = word.rfind('/');
    return slash == std::string_view::npos ? word : word.substr(slash + 1);
}

std::optional<ShellScript> parse(std::string_view command) {
    auto parsed = parse_shell(command);
    return std::move(parsed.script);
}

// --- read-only --------------------------------------------------------------

bool is_flag(std::string_view w) { return w.size() > 1 && w[0] == '-'; }

bool is_mutating_find(const Words& w) {
    for (std::size_t i = 1; i < w.size(); ++i) {
        const std::string& a = w[i].value;
        if (contains(kFindMutating, a)) return true;
        if (contains(kFindWithArgument, a) || starts_with(a, "-newer")) ++i;
    }
    return false;
}

/// Options of `git branch` / `git tag` that take a separate value.
bool takes_value(std::string_view opt) {
    static constexpr auto kValued = std::to_array<std::string_view>({
        "--contains", "--no-contains", "--merged", "--no-merged",
        "--points-at", "--sort",      "--format", "--column"});
    return contains(kValued, opt);
}

/// `git branch` / `git tag` beyond listing: any mutating option, or a
/// positional name outside list mode (which creates a branch or tag).
bool git_ref_command_mutates(const Words& w, std::string_view mutating_short,
                             std::initializer_list<std::string_view> mutating_long,
                             std::string_view list_short,
                             std::initializer_list<std::string_view> list_long) {
    bool list_mode = false;
    bool positional = false;
    for (std::size_t i = 2; i < w.size(); ++i) {
        const std::string& a = w[i].value;
        if (a == "--") {
            positional = positional || i + 1 < w.size();
            break;
        }
        if (starts_with(a, "--")) {
            const std::string_view name = std::string_view(a).substr(0, a.find('='));
            for (auto m : mutating_long)
                if (name == m) return true;
            for (auto l : list_long)
                if (name == l) list_mode = true;
            if (a.find('=') == std::string::npos && takes_value(name) && i + 1 < w.size() &&
                !is_flag(w[i + 1].value)) {
                ++i;
            }
        } else if (is_flag(a)) {
            for (char c : std::string_view(a).substr(1)) {
                if (mutating_short.find(c) != std::string_view::npos) return true;
                if (list_short.find(c) != std::string_view::npos) list_mode = true;
            }
        } else {
            positional = true;
        }
    }
    return positional && !list_mode;
}

std::string_view first_positional(const Words& w, std::size_t from) {
    for (std::size_t i = from; i < w.size(); ++i)
        if (!is_flag(w[i].value)) return w[i].value;
    return {};
}

bool any_arg(const Words& w, std::size_t from, bool (*pred)(std::string_view)) {
    for (std::size_t i = from; i < w.size(); ++i)
        if (pred(w[i].value)) return true;
    return false;
}

/// Arguments that make an otherwise listed read-only command write or execute.
bool has_mutating_arguments(const Words& w) {
    const std::string& cmd = w[0].value;
    if (cmd == "find") return is_mutating_find(w);
    if (cmd == "rg") {
        return any_arg(w, 1, [](std::string_view a) { return a == "--pre" || starts_with(a, "--pre="); });
    }
    if (cmd == "tree") return any_arg(w, 1, [](std::string_view a) { return a == "-o"; });
    if (cmd == "file") {
        return any_arg(w, 1, [](std::string_view a) { return a == "-C" || a == "--compile"; });
    }
    if (cmd != "git" || w.size() < 2) return false;
    const std::string& sub = w[1].value;
    if (sub == "branch") {
        return git_ref_command_mutates(
            w, "dDmMcCfut",
            {"--delete", "--move", "--copy", "--force", "--set-upstream-to", "--set-upstream",
             "--unset-upstream", "--edit-description", "--track", "--no-track", "--create-reflog"},
            "lar",
            {"--list", "--all", "--remotes", "--contains", "--no-contains", "--merged",
             "--no-merged", "--points-at", "--show-current"});
    }
    if (sub == "tag") {
        return git_ref_command_mutates(
            w, "dasufmFe",
            {"--delete", "--annotate", "--sign", "--local-user", "--force", "--message", "--file",
             "--edit", "--create-reflog", "--cleanup", "--trailer"},
            "lnv",
            {"--list", "--contains", "--no-contains", "--points-at", "--merged", "--no-merged",
             "--verify"});
    }
    if (sub == "remote") {
        const auto action = first_positional(w, 2);
        return !(action.empty() || action == "show" || action == "get-url");
    }
    if (sub == "reflog") {
        const auto action = first_positional(w, 2);
        return action == "expire" || action == "delete";
    }
    if (sub == "diff" || sub == "log" || sub == "show") {
        return any_arg(w, 2, [](std::string_view a) {
            return a == "--output" || starts_with(a, "--output=");
        });
    }
    if (sub == "grep") {
        return any_arg(w, 2, [](std::string_view a) {
            return starts_with(a, "--open-files-in-pager") ||
                   (is_flag(a) && !starts_with(a, "--") && a.find('O') != std::string_view::npos);
        });
    }
    return false;
}

bool matches_entry(const Words& w, std::string_view entry) {
    std::size_t i = 0;
    while (!entry.empty()) {
        const auto space = entry.find(' ');
        const std::string_view part = entry.substr(0, space);
        if (i >= w.size() || w[i].value != part) return false;
        ++i;
        entry = space == std::string_view::npos ? std::string_view{} : entry.substr(space + 1);
    }
    return true;
}

bool tee_writes_file(const Words& w) {
    bool options = true;
    for (std::size_t i = 1; i < w.size(); ++i) {
        const std::string& a = w[i].value;
        if (options && a == "--") {
            options = false;
            continue;
        }
        if (options && is_flag(a)) continue;
        if (a != "/dev/null") return true;
    }
    return false;
}

bool simple_command_read_only(const SimpleCommand& c) {
    if (c.words.empty()) return false;
    for (const auto& a : c.assignments)
        if (!contains(kReadOnlyEnvVars, assignment_name(a.raw))) return false;
    const Words& w = c.words;
    if (contains(kSafeCommands, w[0].value)) return w[0].value != "tee" || !tee_writes_file(w);
    for (auto entry : kReadOnlyEntries)
        if (matches_entry(w, entry)) return !has_mutating_arguments(w);
    return false;
}

bool script_read_only(const ShellScript& s) {
    if (s.commands.empty()) return false;
    for (const auto& r : s.redirects)
        if (r.writes_file() && !(r.target.value == "/dev/null" && !r.target.expanded)) return false;
    return std::all_of(s.commands.begin(), s.commands.end(), simple_command_read_only);
}

// --- paths ------------------------------------------------------------------

/// The command a simple command really runs, looking through sudo, env, …
std::size_t command_index(const Words& w) {
    std::size_t i = 0;
    while (i < w.size() && contains(kCommandWrappers, basename_of(w[i].value))) {
        ++i;
        while (i < w.size() && (is_flag(w[i].value) || w[i].value.find('=') != std::string::npos))
            ++i;
    }
    return i;
}

std::string lexical_absolute(std::string_view path, const PathEnvironment& env) {
    std::string p(path);
    if (p == "~" || starts_with(p, "~/")) {
        p = env.home + p.substr(1);
    } else if (p == "$HOME" || starts_with(p, "$HOME/")) {
        p = env.home + p.substr(5);
    }
    if (p.empty() || p[0] != '/') p = (env.cwd.empty() ? std::string("/") : env.cwd) + "/" + p;
    std::string n = std::filesystem::path(p).lexically_normal().string();
    while (n.size() > 1 && n.back() == '/') n.pop_back();
    return n;
}

bool is_critical_removal(std::string_view path, const PathEnvironment& env) {
    if (path == "*" || path == "./*" || path == "/" || ends_with(path, "/*") || ends_with(path, "\\*"))
        return true;
    const std::string abs = lexical_absolute(path, env);
    if (!env.home.empty() && abs == lexical_absolute(env.home, env)) return true;
    if (abs == "/") return true;
    return abs.find('/', 1) == std::string::npos;  // a direct child of the root
}

// --- rule content -----------------------------------------------------------

bool has_unescaped_star(std::string_view p) {
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\') {
            ++i;
        } else if (p[i] == '*') {
            return true;
        }
    }
    return false;
}

/// A wildcard pattern as literal chunks separated by stars.
struct Wildcard {
    std::vector<std::string> chunks;  ///< chunks.size() == stars + 1
    bool trailing_star = false;
};

Wildcard compile_wildcard(std::string_view p) {
    Wildcard w;
    w.chunks.emplace_back();
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size() && (p[i + 1] == '*' || p[i + 1] == '\\')) {
            w.chunks.back() += p[++i];
        } else if (c == '*') {
            w.chunks.emplace_back();
        } else {
            w.chunks.back() += c;
        }
    }
    w.trailing_star = w.chunks.size() > 1 && w.chunks.back().empty() && ends_with(p, "*") &&
                      !ends_with(p, "\\*");
    return w;
}

/// Whole-string match where each star spans any run of characters except a
/// newline (the reference's regex `.`), greedy-free: leftmost fit is enough.
bool wildcard_full_match(const std::vector<std::string>& chunks, std::string_view s) {
    if (chunks.size() == 1) return s == chunks[0];
    if (!starts_with(s, chunks.front())) return false;
    if (s.size() < chunks.front().size() + chunks.back().size() || !ends_with(s, chunks.back()))
        return false;
    std::size_t pos = chunks.front().size();
    const std::size_t tail = s.size() - chunks.back().size();
    for (std::size_t k = 1; k + 1 < chunks.size(); ++k) {
        const auto found = s.substr(0, tail).find(chunks[k], pos);
        if (found == std::string_view::npos) return false;
        if (s.substr(pos, found - pos).find('\n') != std::string_view::npos) return false;
        pos = found + chunks[k].size();
    }
    return s.substr(pos, tail - pos).find('\n') == std::string_view::npos;
}

std::string unescape_rule(std::string_view p) {
    std::string out;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\' && i + 1 < p.size() && (p[i + 1] == '*' || p[i + 1] == '\\')) {
            out += p[++i];
        } else {
            out += p[i];
        }
    }
    return out;
}

// --- sed ----------------------------------------------------------------------

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_line_print(std::string_view e) {
    if (!ends_with(e, "p")) return false;
    e.remove_suffix(1);
    const auto comma = e.find(',');
    if (comma == std::string_view::npos) return all_digits(e);
    return all_digits(e.substr(0, comma)) && all_digits(e.substr(comma + 1));
}

bool has_sed_command(std::string_view e, std::string_view letters, bool needs_argument) {
    for (std::size_t i = 0; i + 1 < e.size(); ++i) {
        if (e[i] != '/' || letters.find(e[i + 1]) == std::string_view::npos) continue;
        const std::string_view rest = e.substr(i + 2);
        if (needs_argument) {
            const auto arg = rest.find_first_not_of(kWhitespace);
            if (!rest.empty() && kWhitespace.find(rest[0]) != std::string_view::npos &&
                arg != std::string_view::npos)
                return true;
        } else if (rest.empty() || kWhitespace.find(rest[0]) != std::string_view::npos) {
            return true;
        }
    }
    return e.size() >= 2 && e[e.size() - 2] == '/' &&
           letters.find(e.back()) != std::string_view::npos;
}

std::optional<std::string> check_sed_expression(std::string_view e, bool quiet) {
    if (has_sed_command(e, "wW", true)) return "sed write operation (w/W) not allowed";
    if (has_sed_command(e, "eE", false)) return "sed execute operation (e/E) not allowed";
    if (e.find_first_of("{}") != std::string_view::npos) return "sed curly braces not allowed";
    if (starts_with(e, "!")) return "sed negation (!) not allowed";
    if (e.find('#') != std::string_view::npos && !starts_with(e, "s#"))
        return "sed comments not allowed";
    if (quiet && is_line_print(e)) return std::nullopt;
    if (starts_with(e, "s/") || starts_with(e, "s|") || starts_with(e, "s#")) {
        const char delim = e[1];
        std::vector<std::string_view> parts;
        std::string_view rest = e.substr(2);
        for (;;) {
            const auto d = rest.find(delim);
            parts.push_back(rest.substr(0, d));
            if (d == std::string_view::npos) break;
            rest = rest.substr(d + 1);
        }
        if (parts.size() == 2) return std::nullopt;
        if (parts.size() > 2 &&
            parts[2].find_first_not_of("gp0123456789") == std::string_view::npos)
            return std::nullopt;
    }
    return "sed expression '" + std::string(e) + "' not in allowlist";
}

std::optional<std::string> check_sed_invocation(const Words& args) {
    std::string flags;
    std::vector<std::string> expressions;
    std::vector<std::string> files;
    bool explicit_expression = false;
    bool options = true;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i].value;
        if (options && a == "--") {
            options = false;
        } else if (options && starts_with(a, "--")) {
            const std::string_view name = std::string_view(a).substr(0, a.find('='));
            if (name == "--in-place") {
                flags += 'i';
            } else if (name == "--quiet" || name == "--silent") {
                flags += 'n';
            } else if (name == "--regexp-extended") {
                flags += 'E';
            } else if (name == "--expression") {
                explicit_expression = true;
                if (a.find('=') != std::string::npos) {
                    expressions.push_back(a.substr(a.find('=') + 1));
                } else if (i + 1 < args.size()) {
                    expressions.push_back(args[++i].value);
                }
            } else {
                return "sed option " + std::string(name) + " not allowed";
            }
        } else if (options && is_flag(a)) {
            for (std::size_t j = 1; j < a.size(); ++j) {
                const char c = a[j];
                if (c == 'e') {
                    explicit_expression = true;
                    if (j + 1 < a.size()) {
                        expressions.push_back(a.substr(j + 1));
                    } else if (i + 1 < args.size()) {
                        expressions.push_back(args[++i].value);
                    }
                    break;
                }
                flags += c;
                if (c == 'i') break;  // GNU: the rest of the word is a backup suffix
            }
        } else if (!explicit_expression && expressions.empty()) {
            expressions.push_back(a);
        } else {
            files.push_back(a);
        }
    }
    if (expressions.empty()) return "sed command missing expression";
    for (char f : flags) {
        if (f != 'n' && f != 'E' && f != 'i') return std::string("sed flag -") + f + " not allowed";
    }
    const bool quiet = flags.find('n') != std::string::npos;
    for (const auto& e : expressions)
        if (auto v = check_sed_expression(e, quiet)) return v;
    if (flags.find('i') != std::string::npos) {
        for (const auto& f : files) {
            const std::string lf = lower(f);
            for (auto d : kSedDangerousFiles)
                if (lf.find(d) != std::string::npos) return "sed -i modifying dangerous file: " + f;
        }
    }
    return std::nullopt;
}

bool is_word_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || u >= 0x80;
}

std::string collapse_whitespace(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = s.find_first_not_of(kWhitespace, i);
        if (b == std::string_view::npos) break;
        auto e = s.find_first_of(kWhitespace, b);
        if (e == std::string_view::npos) e = s.size();
        if (!out.empty()) out += ' ';
        out += s.substr(b, e - b);
        i = e;
    }
    return out;
}

bool contains_word(std::string_view hay, std::string_view word) {
    for (auto p = hay.find(word); p != std::string_view::npos; p = hay.find(word, p + 1)) {
        const bool left = p == 0 || !is_word_char(hay[p - 1]);
        const bool right = p + word.size() == hay.size() || !is_word_char(hay[p + word.size()]);
        if (left && right) return true;
    }
    return false;
}

bool is_harmless_device(std::string_view path) {
    return path == "/dev/null" || path == "/dev/stdout" || path == "/dev/stderr" ||
           path == "/dev/tty";
}

}  // namespace

// --- analysis functions -------------------------------------------------------

std::optional<std::string> bash_injection_risk(std::string_view command) {
    if (trim(command).empty()) return std::nullopt;
    auto parsed = parse_shell(command);
    if (!parsed.ok()) return "Command parsing failed, cannot verify safety (" + parsed.error + ")";
    if (auto risk = parsed.script->first_risk()) {
        return "Command contains " + std::string(to_string(*risk)) +
               " which cannot be statically analyzed";
    }
    return std::nullopt;
}

bool bash_read_only_command(std::string_view command) {
    if (trim(command).empty()) return false;
    auto script = parse(command);
    return script && script_read_only(*script);
}

std::optional<std::string> bash_dangerous_pattern(std::string_view command) {
    const std::string normalized = collapse_whitespace(command);
    for (auto pattern : kDangerousPatterns) {
        const bool word_pattern = pattern.find(' ') == std::string_view::npos && pattern.size() <= 4;
        if (word_pattern ? contains_word(normalized, pattern)
                         : normalized.find(pattern) != std::string::npos) {
            return std::string(pattern);
        }
    }
    if (auto script = parse(command)) {
        for (const auto& r : script->redirects) {
            if (r.writes_file() && starts_with(r.target.value, "/dev/") &&
                !is_harmless_device(r.target.value)) {
                return std::string("> /dev/");
            }
        }
    }
    return std::nullopt;
}

std::optional<std::string> bash_sed_violation(std::string_view command) {
    if (command.find("sed") == std::string_view::npos) return std::nullopt;
    auto script = parse(command);
    if (!script) return "sed command has invalid shell syntax";
    for (const auto& c : script->commands) {
        for (std::size_t i = 0; i < c.words.size(); ++i) {
            const std::string& w = c.words[i].value;
            if (w != "sed" && !ends_with(w, "/sed")) continue;
            const Words args(c.words.begin() + static_cast<std::ptrdiff_t>(i) + 1, c.words.end());
            if (auto v = check_sed_invocation(args)) return v;
            break;
        }
    }
    return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> bash_extract_paths(std::string_view command) {
    std::vector<std::pair<std::string, std::string>> paths;
    auto script = parse(command);
    if (!script) {
        // Fallback for text the parser rejects: whitespace tokens after a
        // file command or a redirection operator.
        const std::string normalized = collapse_whitespace(command);
        std::vector<std::string> tokens;
        for (std::size_t i = 0; i < normalized.size();) {
            auto e = normalized.find(' ', i);
            if (e == std::string::npos) e = normalized.size();
            std::string t = normalized.substr(i, e - i);
            while (!t.empty() && (t.front() == '\'' || t.front() == '"')) t.erase(0, 1);
            while (!t.empty() && (t.back() == '\'' || t.back() == '"')) t.pop_back();
            tokens.push_back(std::move(t));
            i = e + 1;
        }
        std::string current;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const std::string& t = tokens[i];
            if (t == ">" || t == ">>" || t == "2>" || t == "&>" || t == "<") {
                if (i + 1 < tokens.size()) paths.emplace_back("redirect", tokens[++i]);
            } else if (contains(kPathCommands, t)) {
                current = t;
            } else if (!current.empty() && !is_flag(t) && !t.empty()) {
                paths.emplace_back(current, t);
            }
        }
        return paths;
    }
    for (const auto& c : script->commands) {
        const std::size_t at = command_index(c.words);
        if (at >= c.words.size()) continue;
        const std::string name(basename_of(c.words[at].value));
        if (!contains(kPathCommands, name)) continue;
        for (std::size_t i = at + 1; i < c.words.size(); ++i) {
            const std::string& a = c.words[i].value;
            if (!a.empty() && a[0] != '-') paths.emplace_back(name, a);
        }
    }
    for (const auto& r : script->redirects)
        if (r.names_file()) paths.emplace_back("redirect", r.target.value);
    return paths;
}

std::optional<std::string> bash_critical_removal(std::string_view command,
                                                 const PathEnvironment& env) {
    auto script = parse(command);
    if (!script) return std::nullopt;  // unparsable commands never get past step 1
    for (const auto& c : script->commands) {
        const std::size_t at = command_index(c.words);
        if (at >= c.words.size()) continue;
        const std::string_view name = basename_of(c.words[at].value);
        if (name != "rm" && name != "rmdir") continue;
        for (std::size_t i = at + 1; i < c.words.size(); ++i) {
            const std::string& a = c.words[i].value;
            if (a.empty() || a[0] == '-') continue;
            if (is_critical_removal(a, env)) return a;
        }
    }
    return std::nullopt;
}

std::vector<std::string> bash_command_prefixes(std::string_view command, std::size_t max_prefixes) {
    std::vector<std::string> prefixes;
    if (trim(command).empty()) return prefixes;
    auto script = parse(command);
    if (!script) return prefixes;
    std::size_t considered = 0;
    for (const auto& c : script->commands) {
        if (c.in_substitution) continue;
        if (considered++ >= max_prefixes) break;
        const bool safe_env = std::all_of(c.assignments.begin(), c.assignments.end(), [](auto& a) {
            return contains(kSafeEnvVars, assignment_name(a.raw));
        });
        if (!safe_env || c.words.size() < 2) continue;
        const ShellWord& name = c.words[0];
        const ShellWord& sub = c.words[1];
        if (name.quoted || name.expanded || sub.quoted || sub.expanded) continue;
        if (contains(kSafeCommands, lower(name.value))) continue;
        std::string prefix = name.raw + " " + sub.raw;
        if (std::find(prefixes.begin(), prefixes.end(), prefix) == prefixes.end())
            prefixes.push_back(std::move(prefix));
        if (prefixes.size() >= max_prefixes) break;
    }
    return prefixes;
}

// --- tool_rules.hpp -------------------------------------------------------------

bool bash_read_only(std::string_view command) {
    if (trim(command).empty()) return false;
    if (bash_injection_risk(command)) return false;
    return bash_read_only_command(command);
}

bool bash_rule_matches(std::string_view rule_content, std::string_view command) {
    if (rule_content.empty()) return true;
    if (ends_with(rule_content, ":*")) {
        const std::string_view prefix = trim(rule_content.substr(0, rule_content.size() - 2));
        return command == prefix ||
               (starts_with(command, prefix) && command.size() > prefix.size() &&
                command[prefix.size()] == ' ');
    }
    if (!has_unescaped_star(rule_content)) {
        return command.find(unescape_rule(rule_content)) != std::string_view::npos;
    }
    const Wildcard w = compile_wildcard(rule_content);
    if (w.trailing_star) {
        std::vector<std::string> base(w.chunks.begin(), w.chunks.end() - 1);
        while (!base.back().empty() && kWhitespace.find(base.back().back()) != std::string::npos)
            base.back().pop_back();
        if (wildcard_full_match(base, command)) return true;
    }
    return wildcard_full_match(w.chunks, command);
}

std::vector<Rule> bash_suggestions(std::string_view command) {
    std::vector<Rule> rules;
    for (auto& prefix : bash_command_prefixes(command, 5)) {
        Rule r;
        r.tool_name = "Bash";
        r.rule_content = prefix + ":*";
        r.behavior = Behavior::kAllow;
        r.source = "suggested";
        rules.push_back(std::move(r));
    }
    return rules;
}

Decision bash_check_permissions(std::string_view command, const Context& ctx,
                                const PathEnvironment& env) {
    if (trim(command).empty()) {
        Decision d = Decision::passthrough();
        d.message = "Empty command";
        return d;
    }
    auto safety = [](std::string message, std::string reason) {
        Decision d = Decision::safety_ask(std::move(message));
        d.reason = std::move(reason);
        return d;
    };
    if (auto risk = bash_injection_risk(command)) {
        return safety("Permission required: " + *risk,
                      "Safety check: command contains dynamic expansion that cannot be "
                      "statically analyzed");
    }
    if (bash_read_only_command(command)) {
        Decision d = Decision::allow("Permission granted for read-only command");
        d.reason = "Read-only command is allowed";
        return d;
    }
    if (auto pattern = bash_dangerous_pattern(command)) {
        return safety("Permission required: Command contains dangerous pattern: " + *pattern,
                      "Safety check: dangerous command pattern detected");
    }
    if (auto sed = bash_sed_violation(command)) {
        return safety("Permission required: " + *sed, "Safety check: unsafe sed invocation");
    }
    const auto paths = bash_extract_paths(command);
    std::string dangerous;
    for (const auto& [cmd, path] : paths) {
        if (!is_dangerous_path(path)) continue;
        if (!dangerous.empty()) dangerous += ", ";
        dangerous += path;
    }
    if (!dangerous.empty()) {
        return safety("Permission required: Bash command operates on sensitive paths: " + dangerous,
                      "Safety check: dangerous file or directory in bash command");
    }
    if (auto removal = bash_critical_removal(command, env)) {
        return safety("Dangerous removal operation detected: '" + *removal +
                          "'\n\nThis command would remove a critical system directory. This "
                          "requires explicit approval and cannot be auto-allowed by permission "
                          "rules.",
                      "Safety check: dangerous removal of critical system path");
    }
    if (ctx.mode == Mode::kAcceptEdits || ctx.mode == Mode::kDontAsk) {
        auto script = parse(command);
        // Every subcommand must be a plain filesystem command or read-only, so
        // that `mkdir d && curl … | sh` is not waved through on mkdir's merit.
        const bool eligible =
            script && !script->commands.empty() && !script->commands[0].words.empty() &&
            contains(kFilesystemCommands, script->commands[0].words[0].value) &&
            std::all_of(script->commands.begin(), script->commands.end(), [](const auto& c) {
                return simple_command_read_only(c) ||
                       (c.assignments.empty() && !c.words.empty() &&
                        contains(kFilesystemCommands, c.words[0].value));
            });
        if (eligible && !paths.empty() &&
            std::all_of(paths.begin(), paths.end(), [&](const auto& p) {
                return in_working_directory(p.second, ctx, env);
            })) {
            const std::string& base = script->commands[0].words[0].value;
            Decision d = Decision::allow("Permission granted for '" + base +
                                         "' command (filesystem command, all targets in "
                                         "working directory)");
            d.reason = "Filesystem command '" + base +
                       "' is auto-allowed because all target paths are within a working "
                       "directory";
            return d;
        }
    }
    Decision d = Decision::passthrough();
    d.message = "Execute bash command: " + std::string(command);
    return d;
}

}  // namespace agentd::permission
