#include "tool/builtin/grep_search.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fcntl.h>
#include <pcre2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "tool/builtin/directory_listing.hpp"
#include "tool/builtin/file_types.hpp"
#include "tool/builtin/gitignore.hpp"
#include "tool/builtin/python_text.hpp"

namespace agentd::tool {

namespace {

constexpr std::size_t kBinaryProbeBytes = 8192;
constexpr std::size_t kBatchFiles = 512;
constexpr const char* kVcsDirectories[] = {".git", ".svn", ".hg", ".bzr", ".jj", ".sl"};

std::string os_error(int err) {
    return std::string(std::strerror(err)) + " (os error " + std::to_string(err) + ")";
}

std::size_t utf8_step(unsigned char b) {
    return b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}

// ---------------------------------------------------------------------------
// The regex.

class Regex {
public:
    ~Regex() {
        if (code_) pcre2_code_free(code_);
    }
    /// Returns an rg-style error text, or "" on success.
    std::string compile(const GrepOptions& o) {
        std::uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_UCP | PCRE2_MULTILINE;
        if (o.multiline) flags |= PCRE2_DOTALL;
        if (o.case_insensitive) flags |= PCRE2_CASELESS;
        pcre2_compile_context* cc = pcre2_compile_context_create(nullptr);
        pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
        int err = 0;
        PCRE2_SIZE offset = 0;
        code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(o.pattern.data()), o.pattern.size(), flags, &err, &offset, cc);
        pcre2_compile_context_free(cc);
        if (!code_) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(err, message, sizeof message);
            const std::size_t column = code_point_count(std::string_view(o.pattern).substr(0, std::min<std::size_t>(offset, o.pattern.size())));
            return "regex parse error:\n    " + o.pattern + "\n    " + std::string(column, ' ') + "^\nerror: " +
                   reinterpret_cast<const char*>(message);
        }
        jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
        return {};
    }
    const pcre2_code* code() const { return code_; }
    bool jit() const { return jit_; }

private:
    pcre2_code* code_ = nullptr;
    bool jit_ = false;
};

// Per-thread matching state.
class Matcher {
public:
    explicit Matcher(const Regex& re) : re_(re) {
        data_ = pcre2_match_data_create_from_pattern(re.code(), nullptr);
        if (re.jit()) {
            stack_ = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
            context_ = pcre2_match_context_create(nullptr);
            pcre2_jit_stack_assign(context_, nullptr, stack_);
        }
    }
    ~Matcher() {
        pcre2_match_data_free(data_);
        if (context_) pcre2_match_context_free(context_);
        if (stack_) pcre2_jit_stack_free(stack_);
    }
    Matcher(const Matcher&) = delete;
    Matcher& operator=(const Matcher&) = delete;

    /// The leftmost match at or after `start`: [s, e).
    bool find(const char* subject, std::size_t length, std::size_t start, std::size_t& s, std::size_t& e) {
        const auto* subj = reinterpret_cast<PCRE2_SPTR>(subject);
        const int rc = re_.jit() ? pcre2_jit_match(re_.code(), subj, length, start, 0, data_, context_)
                                 : pcre2_match(re_.code(), subj, length, start, 0, data_, nullptr);
        if (rc < 0) return false;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data_);
        s = ov[0];
        e = std::max(ov[1], ov[0]);  // \K can put the end before the start
        return true;
    }

private:
    const Regex& re_;
    pcre2_match_data* data_ = nullptr;
    pcre2_match_context* context_ = nullptr;
    pcre2_jit_stack* stack_ = nullptr;
};

// ---------------------------------------------------------------------------
// Ignore files.

struct IgnoreLevel {
    std::string dir;  // host path, no trailing '/'
    bool has_git = false;
    std::optional<IgnoreRules> rgignore, ignore, gitignore, exclude;
    bool any() const { return rgignore || ignore || gitignore || exclude || has_git; }
};

std::optional<IgnoreRules> load_rules(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return IgnoreRules::parse(text);
}

IgnoreLevel load_level(const std::string& dir, const std::vector<DirEntry>* entries) {
    IgnoreLevel level;
    level.dir = dir;
    auto has = [&](std::string_view name) {
        if (!entries) {
            struct stat st {};
            return ::lstat(join_path(dir, std::string(name)).c_str(), &st) == 0;
        }
        return std::any_of(entries->begin(), entries->end(), [&](const DirEntry& e) { return e.name == name; });
    };
    if (has(".rgignore")) level.rgignore = load_rules(join_path(dir, ".rgignore"));
    if (has(".ignore")) level.ignore = load_rules(join_path(dir, ".ignore"));
    if (has(".gitignore")) level.gitignore = load_rules(join_path(dir, ".gitignore"));
    if (has(".git")) {
        level.has_git = true;
        level.exclude = load_rules(join_path(dir, ".git/info/exclude"));
    }
    return level;
}

// ---------------------------------------------------------------------------
// The walk.

struct Candidate {
    std::string host;
    std::string display;
};

class Walker {
public:
    Walker(const IgnoreRules& overrides, const std::vector<PathGlob>& types, std::vector<Candidate>& out,
           std::vector<std::string>& errors, const std::function<bool()>& stop)
        : overrides_(overrides), types_(types), out_(out), errors_(errors), stop_(stop) {}

    /// Loads the ignore files of the directories from `host_root` down to the
    /// parent of `host_dir` (the parents ripgrep consults too).
    void load_parents(const std::string& host_root, const std::string& host_dir) {
        if (host_dir.size() <= host_root.size()) return;
        std::string dir = host_root;
        std::string_view rest = std::string_view(host_dir).substr(host_root.size());
        while (true) {
            IgnoreLevel level = load_level(dir, nullptr);
            if (level.any()) levels_.push_back(std::move(level));
            if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
            const auto slash = rest.find('/');
            if (slash == std::string_view::npos) break;  // the last component is host_dir itself
            dir = join_path(dir, std::string(rest.substr(0, slash)));
            rest.remove_prefix(slash);
        }
    }

    void walk(const std::string& host_dir, const std::string& display_dir, const std::string& rel_dir) {
        if (stopped_ || (++visited_ % 64 == 0 && stop_ && stop_())) {
            stopped_ = true;
            return;
        }
        std::vector<DirEntry> entries;
        if (!list_directory(host_dir, entries)) {
            errors_.push_back(display_dir + ": " + os_error(errno));
            return;
        }
        IgnoreLevel level = load_level(host_dir, &entries);
        const bool pushed = level.any();
        if (pushed) levels_.push_back(std::move(level));
        for (const DirEntry& e : entries) {
            // Symlinks are not followed (rg without -L); sockets, fifos and devices are skipped.
            if (e.type != DirEntry::Type::kFile && e.type != DirEntry::Type::kDir) continue;
            const bool is_dir = e.type == DirEntry::Type::kDir;
            std::string host = join_path(host_dir, e.name);
            std::string rel = rel_dir.empty() ? e.name : rel_dir + "/" + e.name;
            if (skip(host, rel, e.name, is_dir)) continue;
            if (is_dir) {
                walk(host, join_path(display_dir, e.name), rel);
                if (stopped_) break;
            } else {
                out_.push_back(Candidate{std::move(host), join_path(display_dir, e.name)});
            }
        }
        if (pushed) levels_.pop_back();
    }

    bool stopped() const { return stopped_; }

private:
    bool skip(const std::string& host, const std::string& rel, const std::string& name, bool is_dir) const {
        // --glob overrides come first and a match settles it (ripgrep's order).
        if (!overrides_.empty()) {
            const IgnoreMatch m = overrides_.match(rel, is_dir);
            if (m == IgnoreMatch::kIgnore) return false;  // a positive glob: searched whatever else says
            if (m == IgnoreMatch::kWhitelist) return true;  // a `!glob`
            if (overrides_.positive_count() > 0 && !is_dir) return true;
        }
        if (ignored_by_files(host, is_dir)) return true;
        if (!is_dir && !types_.empty()) {
            return std::none_of(types_.begin(), types_.end(), [&](const PathGlob& g) { return g.matches(name); });
        }
        return false;
    }

    // ripgrep's precedence: .rgignore over .ignore over .gitignore over
    // .git/info/exclude; within each kind the deepest directory decides;
    // gitignore files count only inside a repository and not above its root.
    bool ignored_by_files(const std::string& host, bool is_dir) const {
        if (levels_.empty()) return false;
        const bool any_git = std::any_of(levels_.begin(), levels_.end(), [](const IgnoreLevel& l) { return l.has_git; });
        IgnoreMatch custom = IgnoreMatch::kNone, ignore = IgnoreMatch::kNone, git = IgnoreMatch::kNone,
                    exclude = IgnoreMatch::kNone;
        bool saw_git = false;
        for (auto it = levels_.rbegin(); it != levels_.rend(); ++it) {
            const std::string_view rel = std::string_view(host).substr(it->dir.size() + 1);
            if (custom == IgnoreMatch::kNone && it->rgignore) custom = it->rgignore->match(rel, is_dir);
            if (ignore == IgnoreMatch::kNone && it->ignore) ignore = it->ignore->match(rel, is_dir);
            if (any_git && !saw_git) {
                if (git == IgnoreMatch::kNone && it->gitignore) git = it->gitignore->match(rel, is_dir);
                if (exclude == IgnoreMatch::kNone && it->exclude) exclude = it->exclude->match(rel, is_dir);
            }
            saw_git = saw_git || it->has_git;
        }
        for (IgnoreMatch m : {custom, ignore, git, exclude}) {
            if (m != IgnoreMatch::kNone) return m == IgnoreMatch::kIgnore;
        }
        return false;
    }

    const IgnoreRules& overrides_;
    const std::vector<PathGlob>& types_;
    std::vector<Candidate>& out_;
    std::vector<std::string>& errors_;
    const std::function<bool()>& stop_;
    std::vector<IgnoreLevel> levels_;
    std::size_t visited_ = 0;
    bool stopped_ = false;
};

// ---------------------------------------------------------------------------
// Searching one file.

struct FileOutput {
    std::vector<std::vector<std::string>> groups;  // runs of lines; `--` goes between runs
    std::string error;
};

// How the reference turns rg's stdout into lines: invalid UTF-8 dropped,
// trailing CRs stripped, empty lines dropped.
void push_line(std::vector<std::string>& out, std::string line) {
    bool ascii = true;
    for (char c : line) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (!ascii) line = decode_utf8_ignore(line);
    while (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(std::move(line));
}

class FileSearcher {
public:
    FileSearcher(const GrepOptions& o, const Regex& re, bool single_file) : o_(o), matcher_(re), single_(single_file) {}

    FileOutput search(const Candidate& file) {
        FileOutput out;
        if (!read(file.host, out.error)) {
            out.error = file.display + ": " + out.error;
            return out;
        }
        const char* data = buf_.data();
        const std::size_t len = size_;
        const bool binary = std::memchr(data, 0, std::min(len, kBinaryProbeBytes)) != nullptr;
        if (binary && !single_) return out;
        lines_.clear();
        starts_.clear();
        const bool first_only = o_.mode == GrepOptions::Mode::kFilesWithMatches;
        std::size_t count = o_.multiline ? find_multiline(data, len, first_only) : find_lines(data, len, first_only);
        if (count == 0) return out;
        if (o_.mode == GrepOptions::Mode::kFilesWithMatches) {
            out.groups.push_back({});
            push_line(out.groups.back(), file.display);
            return out;
        }
        if (o_.mode == GrepOptions::Mode::kCount) {
            out.groups.push_back({});
            push_line(out.groups.back(), single_ ? std::to_string(count) : file.display + ":" + std::to_string(count));
            return out;
        }
        if (binary) {
            const auto* nul = static_cast<const char*>(std::memchr(data, 0, len));
            out.groups.push_back({});
            push_line(out.groups.back(), "binary file matches (found \"\\0\" byte around offset " +
                                             std::to_string(nul - data) + ")");
            return out;
        }
        format_content(file.display, data, len, out);
        return out;
    }

private:
    bool read(const std::string& path, std::string& error) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
            error = os_error(errno);
            return false;
        }
        struct stat st {};
        std::size_t want = 1 << 16;
        if (::fstat(fd, &st) == 0 && st.st_size > 0) want = static_cast<std::size_t>(st.st_size) + 1;
        if (buf_.size() < want) buf_.resize(want);
        size_ = 0;
        for (;;) {
            if (size_ == buf_.size()) buf_.resize(buf_.size() * 2);
            const ssize_t n = ::read(fd, buf_.data() + size_, buf_.size() - size_);
            if (n < 0) {
                if (errno == EINTR) continue;
                error = os_error(errno);
                ::close(fd);
                return false;
            }
            if (n == 0) break;
            size_ += static_cast<std::size_t>(n);
        }
        ::close(fd);
        return true;
    }

    // Line-oriented search: one regex pass over the whole buffer; a match that
    // runs over a line end is re-checked against its first line alone, since rg
    // never lets a match cross lines.
    std::size_t find_lines(const char* data, std::size_t len, bool first_only) {
        std::size_t count = 0;
        std::size_t pos = 0, s = 0, e = 0;
        while (pos < len) {
            if (!matcher_.find(data, len, pos, s, e) || s >= len) break;
            const void* prev = s ? ::memrchr(data, '\n', s) : nullptr;
            const std::size_t ls = prev ? static_cast<const char*>(prev) - data + 1 : 0;
            const void* next = std::memchr(data + s, '\n', len - s);
            const std::size_t le = next ? static_cast<const char*>(next) - data : len;
            std::size_t s2 = 0, e2 = 0;
            if (e <= le || matcher_.find(data + ls, le - ls, 0, s2, e2)) {
                ++count;
                if (first_only) return count;
                lines_.emplace_back(ls, le);
            }
            pos = le + 1;
        }
        return count;
    }

    void index_lines(const char* data, std::size_t len) {
        if (!starts_.empty()) return;
        starts_.push_back(0);
        for (const char* p = data; (p = static_cast<const char*>(std::memchr(p, '\n', data + len - p)));) {
            ++p;
            if (p < data + len) starts_.push_back(static_cast<std::size_t>(p - data));
        }
    }
    std::size_t line_of(std::size_t offset) const {
        return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin()) - 1;
    }
    std::size_t line_end(const char* data, std::size_t len, std::size_t line) const {
        if (line + 1 < starts_.size()) return starts_[line + 1] - 1;
        const void* nl = std::memchr(data + starts_[line], '\n', len - starts_[line]);
        return nl ? static_cast<const char*>(nl) - data : len;
    }

    // Multiline search: matches over the whole file; every line a match touches
    // is a matching line, and overlapping ranges count once.
    std::size_t find_multiline(const char* data, std::size_t len, bool first_only) {
        std::size_t count = 0;
        std::size_t pos = 0, s = 0, e = 0;
        std::size_t last_range_end = 0;
        bool have_range = false;
        while (pos <= len) {
            if (!matcher_.find(data, len, pos, s, e)) break;
            if (s >= len && (len == 0 || data[len - 1] == '\n')) break;  // past the last line
            if (first_only) return 1;
            index_lines(data, len);
            const std::size_t first = line_of(s);
            const std::size_t last = e > s ? line_of(e - 1) : first;
            if (!have_range || first > last_range_end) ++count;
            have_range = true;
            for (std::size_t l = first; l <= last; ++l) {
                if (lines_.empty() || starts_[l] > lines_.back().first) lines_.emplace_back(starts_[l], line_end(data, len, l));
            }
            last_range_end = std::max(last_range_end, last);
            if (e > s) {
                pos = e;
            } else if (s < len) {
                pos = s + utf8_step(static_cast<unsigned char>(data[s]));
            } else {
                break;
            }
        }
        return count;
    }

    std::string render(const std::string& display, std::size_t line_number, char sep, const char* data,
                       std::size_t len, std::size_t ls, std::size_t le, bool is_match) const {
        std::string out;
        if (!single_) {
            out += display;
            out.push_back(sep);
        }
        if (o_.line_numbers) {
            out += std::to_string(line_number);
            out.push_back(sep);
        }
        const std::size_t width = le - ls + (le < len ? 1 : 0);  // rg counts the terminator
        if (o_.max_columns && width > o_.max_columns) {
            out += is_match ? "[Omitted long matching line]" : "[Omitted long context line]";
        } else {
            out.append(data + ls, le - ls);
        }
        return out;
    }

    void format_content(const std::string& display, const char* data, std::size_t len, FileOutput& out) {
        index_lines(data, len);
        std::vector<std::size_t> matched;
        matched.reserve(lines_.size());
        for (const auto& [ls, le] : lines_) matched.push_back(line_of(ls));
        const std::size_t total = starts_.size();
        std::size_t i = 0;
        while (i < matched.size()) {
            // One group: matches whose context windows touch or overlap.
            std::size_t from = matched[i] >= o_.before ? matched[i] - o_.before : 0;
            std::size_t to = std::min(total - 1, matched[i] + o_.after);
            std::size_t j = i + 1;
            while (j < matched.size() && (matched[j] >= o_.before ? matched[j] - o_.before : 0) <= to + 1) {
                to = std::min(total - 1, matched[j] + o_.after);
                ++j;
            }
            out.groups.push_back({});
            std::size_t k = i;
            for (std::size_t l = from; l <= to; ++l) {
                const bool is_match = k < j && matched[k] == l;
                if (is_match) ++k;
                push_line(out.groups.back(),
                          render(display, l + 1, is_match ? ':' : '-', data, len, starts_[l], line_end(data, len, l), is_match));
            }
            i = j;
        }
    }

    const GrepOptions& o_;
    Matcher matcher_;
    bool single_;
    std::vector<char> buf_;
    std::size_t size_ = 0;
    std::vector<std::pair<std::size_t, std::size_t>> lines_;  // matching lines [start, end)
    std::vector<std::size_t> starts_;                         // line starts, built on demand
};

}  // namespace

GrepSearchResult grep_search(const GrepOptions& options, const std::string& host_root, const std::string& host_path,
                             const std::string& display_path, const std::function<bool()>& stop) {
    GrepSearchResult result;
    Regex regex;
    if (std::string error = regex.compile(options); !error.empty()) {
        result.error = std::move(error);
        return result;
    }
    std::vector<PathGlob> types;
    if (options.type) {
        auto globs = file_type_globs(*options.type);
        if (!globs) {
            result.error = "unrecognized file type: " + *options.type;
            return result;
        }
        for (const auto& g : *globs) {
            PathGlob glob;
            std::string ignored;
            if (glob.compile(g, ignored)) types.push_back(std::move(glob));
        }
    }
    IgnoreRules overrides;
    std::string glob_error;
    for (const char* vcs : kVcsDirectories) overrides.add_line(std::string("!") + vcs, glob_error);
    for (const auto& g : options.globs) {
        if (!overrides.add_line(g, glob_error)) {
            result.error = "error parsing glob '" + g + "': " + glob_error;
            return result;
        }
    }

    struct stat st {};
    if (::stat(host_path.c_str(), &st) != 0) {
        result.error = display_path + ": " + os_error(errno);
        return result;
    }
    std::vector<Candidate> files;
    std::vector<std::string> errors;
    const bool single_file = !S_ISDIR(st.st_mode);
    if (single_file) {
        files.push_back(Candidate{host_path, display_path});
    } else {
        Walker walker(overrides, types, files, errors, stop);
        walker.load_parents(host_root, host_path);
        walker.walk(host_path, display_path, "");
        if (walker.stopped()) {
            result.stopped = true;
            return result;
        }
    }

    const bool separators = options.mode == GrepOptions::Mode::kContent && (options.before > 0 || options.after > 0);
    unsigned threads = options.threads ? options.threads : std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    if (files.size() < 64) threads = 1;
    std::vector<FileOutput> outputs;
    bool first_group = true;
    for (std::size_t batch = 0; batch < files.size(); batch += kBatchFiles) {
        if (stop && stop()) {
            result.stopped = true;
            return result;
        }
        const std::size_t end = std::min(files.size(), batch + kBatchFiles);
        outputs.assign(end - batch, FileOutput{});
        std::atomic<std::size_t> next{batch};
        auto work = [&] {
            FileSearcher searcher(options, regex, single_file);
            for (std::size_t k; (k = next.fetch_add(1)) < end;) outputs[k - batch] = searcher.search(files[k]);
        };
        const unsigned n = std::min<unsigned>(threads, static_cast<unsigned>(end - batch));
        if (n <= 1) {
            work();
        } else {
            std::vector<std::thread> pool;
            for (unsigned t = 0; t < n; ++t) pool.emplace_back(work);
            for (auto& t : pool) t.join();
        }
        for (auto& out : outputs) {
            if (!out.error.empty()) errors.push_back(std::move(out.error));
            for (auto& group : out.groups) {
                if (separators && !first_group) result.lines.emplace_back("--");
                first_group = false;
                for (auto& line : group) result.lines.push_back(std::move(line));
            }
        }
        if (options.line_cap && result.lines.size() > options.line_cap && errors.empty()) break;
    }
    if (!errors.empty()) {
        result.lines.clear();
        for (const auto& e : errors) result.error += (result.error.empty() ? "" : "\n") + e;
    }
    return result;
}

}  // namespace agentd::tool
