#include "service/workspace_service.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <unordered_map>

#include "common/error.hpp"
#include "common/run_on.hpp"

namespace agentd::service {

namespace bj = boost::json;
namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

// Bytes read per chunk of a file body: large enough that the hop to the blocking
// pool is cheap per byte, small enough that a slow client holds little memory.
constexpr std::size_t kChunkBytes = 256 * 1024;

/// Owns a file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

private:
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    int fd_ = -1;
};

// Opens `target` (a lexically normal host path under `root`, as Workspace::resolve
// returns it: every symlink already followed) one component at a time, refusing
// to follow any link. A component swapped for a symlink after resolve() therefore
// fails the open instead of leading outside the workspace.
Fd open_confined(const fs::path& root, const fs::path& target, int flags) {
    const fs::path relative = target.lexically_relative(root);
    std::vector<std::string> parts;
    for (const auto& part : relative) {
        const std::string s = part.string();
        if (s.empty() || s == ".") continue;
        if (s == "..") {
            errno = EACCES;
            return Fd();
        }
        parts.push_back(s);
    }
    if (parts.empty()) return Fd(::open(root.c_str(), flags | O_CLOEXEC));
    Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return Fd();
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        Fd next(::openat(dir.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return Fd();
        dir = std::move(next);
    }
    return Fd(::openat(dir.get(), parts.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
}

double mtime_of(const struct stat& st) {
    // Python's st_mtime: seconds plus nanoseconds * 1e-9, as a double.
    return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

// The host path `path` names inside the workspace ("" is the root), or nullopt
// when it is refused (outside, invalid).
std::optional<fs::path> confined_host_path(const workspace::Workspace& ws, const std::string& path) {
    if (path.empty()) return ws.host_dir();
    auto resolved = ws.resolve(path, /*allow_relative=*/true);
    if (!resolved) return std::nullopt;
    return *resolved.host;
}

// The entry as the listing reports it. A symlink is followed only while it stays
// inside the workspace; one that escapes reads like a broken link (no type, size
// or time), so a listing says nothing about the host.
DirectoryEntry describe_entry(const workspace::Workspace& ws, int dir_fd, const fs::path& dir_host,
                              const char* name) {
    DirectoryEntry entry;
    entry.name = lossy_utf8(name);
    struct stat st {};
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return entry;
    if (S_ISLNK(st.st_mode)) {
        auto resolved = ws.resolve(ws.visible(dir_host / name));
        if (!resolved) return entry;
        Fd target = open_confined(ws.host_dir(), *resolved.host, O_PATH);
        if (!target || ::fstat(target.get(), &st) != 0 || S_ISLNK(st.st_mode)) return entry;
    }
    entry.is_dir = S_ISDIR(st.st_mode);
    if (!entry.is_dir) entry.size_bytes = static_cast<std::uint64_t>(st.st_size);
    entry.updated_at = mtime_of(st);
    return entry;
}

/// A regular file streamed in chunks; each read runs on the blocking pool.
class FileStream final : public http::StreamBody {
public:
    FileStream(Fd fd, std::uint64_t size, asio::any_io_executor blocking)
        : file_(std::make_shared<Fd>(std::move(fd))), size_(size), blocking_(std::move(blocking)) {}

    asio::awaitable<std::optional<std::string>> next() override {
        if (offset_ >= size_) co_return std::nullopt;
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, size_ - offset_));
        auto read = [file = file_, offset = offset_, want] { return read_at(*file, offset, want); };
        std::string chunk = co_await run_on(blocking_, read);
        // A file that shrank (or failed) mid-way ends the body early; nothing
        // better can be said once the headers are out.
        if (chunk.empty()) co_return std::nullopt;
        offset_ += chunk.size();
        co_return chunk;
    }

private:
    static std::string read_at(const Fd& file, std::uint64_t offset, std::size_t want) {
        std::string buffer(want, '\0');
        std::size_t got = 0;
        while (got < want) {
            ssize_t n = ::pread(file.get(), buffer.data() + got, want - got, static_cast<off_t>(offset + got));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) spdlog::warn("workspace file read failed: {}", std::strerror(errno));
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        buffer.resize(got);
        return buffer;
    }

    std::shared_ptr<Fd> file_;
    std::uint64_t size_;
    std::uint64_t offset_ = 0;  // touched only by next(), which the server awaits one at a time
    asio::any_io_executor blocking_;
};

// Python's posixpath.splitext: the suffix from the last dot of the last
// component, unless that component is only leading dots before it.
std::pair<std::string_view, std::string_view> split_ext(std::string_view name) {
    auto slash = name.rfind('/');
    std::size_t start = slash == std::string_view::npos ? 0 : slash + 1;
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot < start) return {name, {}};
    std::size_t first_non_dot = name.find_first_not_of('.', start);
    if (first_non_dot == std::string_view::npos || first_non_dot > dot) return {name, {}};
    return {name.substr(0, dot), name.substr(dot)};
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The part of Python's mimetypes table (and the Debian mime.types it also reads)
// that a workspace is likely to hold.
const std::unordered_map<std::string, std::string>& mime_types() {
    static const std::unordered_map<std::string, std::string> kTypes = {
        {".js", "text/javascript"},
        {".mjs", "text/javascript"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".doc", "application/msword"},
        {".dot", "application/msword"},
        {".bin", "application/octet-stream"},
        {".a", "application/octet-stream"},
        {".o", "application/octet-stream"},
        {".so", "application/octet-stream"},
        {".exe", "application/octet-stream"},
        {".pdf", "application/pdf"},
        {".ps", "application/postscript"},
        {".eps", "application/postscript"},
        {".ai", "application/postscript"},
        {".rtf", "application/rtf"},
        {".xls", "application/vnd.ms-excel"},
        {".ppt", "application/vnd.ms-powerpoint"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
        {".odt", "application/vnd.oasis.opendocument.text"},
        {".ods", "application/vnd.oasis.opendocument.spreadsheet"},
        {".wasm", "application/wasm"},
        {".tar", "application/x-tar"},
        {".sh", "application/x-sh"},
        {".csh", "application/x-csh"},
        {".tex", "application/x-tex"},
        {".latex", "application/x-latex"},
        {".zip", "application/zip"},
        {".7z", "application/x-7z-compressed"},
        {".rar", "application/vnd.rar"},
        {".xml", "text/xml"},
        {".xsl", "application/xml"},
        {".rdf", "application/xml"},
        {".mp3", "audio/mpeg"},
        {".mp2", "audio/mpeg"},
        {".aac", "audio/aac"},
        {".flac", "audio/flac"},
        {".ogg", "audio/ogg"},
        {".opus", "audio/opus"},
        {".wav", "audio/x-wav"},
        {".aif", "audio/x-aiff"},
        {".aiff", "audio/x-aiff"},
        {".bmp", "image/bmp"},
        {".gif", "image/gif"},
        {".ico", "image/vnd.microsoft.icon"},
        {".jpg", "image/jpeg"},
        {".jpe", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".tif", "image/tiff"},
        {".tiff", "image/tiff"},
        {".webp", "image/webp"},
        {".avif", "image/avif"},
        {".heic", "image/heic"},
        {".css", "text/css"},
        {".csv", "text/csv"},
        {".html", "text/html"},
        {".htm", "text/html"},
        {".txt", "text/plain"},
        {".bat", "text/plain"},
        {".c", "text/plain"},
        {".h", "text/plain"},
        {".ksh", "text/plain"},
        {".pl", "text/plain"},
        {".srt", "text/plain"},
        {".md", "text/markdown"},
        {".markdown", "text/markdown"},
        {".py", "text/x-python"},
        {".rtx", "text/richtext"},
        {".tsv", "text/tab-separated-values"},
        {".vtt", "text/vtt"},
        {".ics", "text/calendar"},
        {".mp4", "video/mp4"},
        {".m4v", "video/mp4"},
        {".mpeg", "video/mpeg"},
        {".mpg", "video/mpeg"},
        {".mov", "video/quicktime"},
        {".qt", "video/quicktime"},
        {".webm", "video/webm"},
        {".avi", "video/x-msvideo"},
        {".ts", "video/mp2t"},
    };
    return kTypes;
}

// Compression suffixes: guess_type reports them as the encoding and the type of
// what is inside ("a.tar.gz" is application/x-tar).
bool is_encoding_suffix(std::string_view ext) {
    static const char* kEncodings[] = {".gz", ".z", ".bz2", ".xz", ".br"};
    const std::string l = lower(ext);
    return std::any_of(std::begin(kEncodings), std::end(kEncodings), [&](const char* e) { return l == e; });
}

// Aliases that stand for a compressed tar.
std::optional<std::string_view> suffix_alias(std::string_view ext) {
    const std::string l = lower(ext);
    if (l == ".tgz" || l == ".taz" || l == ".tz") return ".tar.gz";
    if (l == ".tbz2") return ".tar.bz2";
    if (l == ".txz") return ".tar.xz";
    return std::nullopt;
}

// The last component of the requested path after Python's normpath: trailing
// separators and "." / ".." resolved lexically.
std::string requested_basename(const workspace::Workspace& ws, const std::string& path) {
    fs::path joined = fs::path(path);
    if (!joined.is_absolute()) joined = fs::path(ws.workdir()) / joined;
    std::string normal = joined.lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    auto slash = normal.rfind('/');
    std::string base = slash == std::string::npos ? normal : normal.substr(slash + 1);
    return base.empty() ? "download" : base;
}

// Python's posixpath.normpath of an absolute path (for a cwd left unresolved).
std::string normal_visible(const workspace::Workspace& ws, const std::string& path) {
    fs::path joined(path);
    if (!joined.is_absolute()) joined = fs::path(ws.workdir()) / joined;
    std::string normal = joined.lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    return normal;
}

// The workspace routes format the id with repr() (quotes escaped), unlike
// the session routes.
Error session_not_found(const std::string& session_id) {
    return Error::not_found("Session " + py_repr(session_id) + " not found.");
}

}  // namespace

bj::object to_json(const DirectoryListing& listing) {
    bj::array entries;
    entries.reserve(listing.entries.size());
    for (const auto& e : listing.entries) {
        entries.push_back(bj::object{
            {"name", e.name},
            {"is_dir", e.is_dir},
            {"size_bytes", e.size_bytes ? bj::value(*e.size_bytes) : bj::value(nullptr)},
            {"updated_at", e.updated_at ? bj::value(*e.updated_at) : bj::value(nullptr)}});
    }
    return bj::object{{"path", listing.path}, {"entries", std::move(entries)}};
}

bj::object to_json(const WorkspaceStatus& status) {
    return bj::object{{"workdir", status.workdir},
                      {"cwd", status.cwd},
                      {"git", status.git ? bj::value(to_json(*status.git)) : bj::value(nullptr)}};
}

std::string guess_content_type(std::string_view basename) {
    auto [base, ext] = split_ext(basename);
    std::string rebuilt;
    while (auto alias = suffix_alias(ext)) {
        rebuilt = std::string(base) + std::string(*alias);
        std::tie(base, ext) = split_ext(rebuilt);
    }
    if (is_encoding_suffix(ext)) std::tie(base, ext) = split_ext(base);
    const auto& types = mime_types();
    auto it = types.find(std::string(ext));
    if (it == types.end()) it = types.find(lower(ext));
    if (it == types.end() || ext.empty()) return "application/octet-stream";
    if (it->second.rfind("text/", 0) == 0) return it->second + "; charset=utf-8";
    return it->second;
}

std::string content_disposition(std::string_view basename) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out = "attachment; filename*=UTF-8''";
    for (char ch : basename) {
        auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || c == '/') {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

WorkspaceService::WorkspaceService(storage::Storage& storage, workspace::WorkspaceManager& workspaces,
                                   asio::any_io_executor io, asio::any_io_executor blocking,
                                   std::optional<std::string> download_secret)
    : storage_(storage),
      workspaces_(workspaces),
      io_(std::move(io)),
      blocking_(std::move(blocking)),
      secret_(download_secret && !download_secret->empty() ? std::move(*download_secret)
                                                           : random_download_secret()) {}

SessionWorkspace WorkspaceService::resolve(const std::string& user_id, const std::string& agent_id,
                                           const std::string& session_id) {
    auto session = storage_.get_session(user_id, session_id, /*with_context=*/false);
    if (!session || session->agent_id != agent_id) throw session_not_found(session_id);
    std::string workspace_id;
    if (const auto* id = session->config.if_contains("workspace_id"); id && id->is_string())
        workspace_id = std::string(id->get_string());
    auto ws = workspaces_.get(user_id, agent_id, workspace_id);
    return SessionWorkspace{std::move(*session), std::move(ws)};
}

DirectoryListing WorkspaceService::list_directory(const std::string& user_id, const std::string& agent_id,
                                                  const std::string& session_id, const std::string& path) {
    auto resolved = resolve(user_id, agent_id, session_id);
    return list_directory(*resolved.workspace, path);
}

WorkspaceStatus WorkspaceService::status(const std::string& user_id, const std::string& agent_id,
                                         const std::string& session_id) {
    auto resolved = resolve(user_id, agent_id, session_id);
    std::optional<std::string> cwd;
    if (const auto* v = resolved.session.config.if_contains("cwd"); v && v->is_string())
        cwd = std::string(v->get_string());
    // git runs through Workspace::exec, an awaitable: it runs on the io executor
    // while this (blocking-pool) thread waits for the answer.
    auto done = asio::co_spawn(io_, read_status(resolved.workspace, std::move(cwd)), asio::use_future);
    return done.get();
}

DownloadToken WorkspaceService::mint_download_token(const std::string& user_id, const std::string& agent_id,
                                                    const std::string& session_id, const std::string& path) {
    // Resolved only to fail early: the download itself is a browser navigation,
    // where an error would be a raw page the UI cannot show.
    resolve(user_id, agent_id, session_id);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    return sign_download_token(secret_, user_id, path, static_cast<std::int64_t>(now));
}

std::string WorkspaceService::verify_download_token(std::string_view token, std::string_view path) const {
    auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    return service::verify_download_token(secret_, token, path, now);
}

FileDownload WorkspaceService::open_file(const std::string& user_id, const std::string& agent_id,
                                         const std::string& session_id, const std::string& path) {
    auto resolved = resolve(user_id, agent_id, session_id);
    return open_file(*resolved.workspace, path, blocking_);
}

DirectoryListing WorkspaceService::list_directory(const workspace::Workspace& ws, const std::string& path) {
    auto host = confined_host_path(ws, path);
    if (!host) throw Error::not_found("Directory not found.");
    Fd handle = open_confined(ws.host_dir(), *host, O_PATH);
    struct stat st {};
    if (!handle || ::fstat(handle.get(), &st) != 0 || S_ISLNK(st.st_mode))
        throw Error::not_found("Directory not found.");
    if (!S_ISDIR(st.st_mode)) throw Error(ErrorCode::kBadRequest, "Requested path is a file, not a directory.");

    DirectoryListing listing;
    // Where the caller asked to be, as the reference echoes it: normalised, links
    // not resolved (a client browsing into a linked folder stays under its name).
    listing.path = path.empty() ? ws.workdir() : normal_visible(ws, path);
    // An unreadable directory lists as empty, as the reference's scandir does.
    int dir_fd = ::openat(handle.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return listing;
    DIR* dir = ::fdopendir(dir_fd);
    if (!dir) {
        ::close(dir_fd);
        return listing;
    }
    while (const struct dirent* d = ::readdir(dir)) {
        std::string_view name(d->d_name);
        if (name == "." || name == "..") continue;
        listing.entries.push_back(describe_entry(ws, ::dirfd(dir), *host, d->d_name));
    }
    ::closedir(dir);
    std::sort(listing.entries.begin(), listing.entries.end(),
              [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
    return listing;
}

FileDownload WorkspaceService::open_file(const workspace::Workspace& ws, const std::string& path,
                                         asio::any_io_executor blocking) {
    auto host = confined_host_path(ws, path);
    if (!host) throw Error::not_found("File not found.");
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    Fd fd = open_confined(ws.host_dir(), *host, O_RDONLY | O_NONBLOCK);
    struct stat st {};
    if (!fd) {
        // An unreadable directory is still a directory.
        Fd probe = open_confined(ws.host_dir(), *host, O_PATH);
        if (probe && ::fstat(probe.get(), &st) == 0 && S_ISDIR(st.st_mode))
            throw Error(ErrorCode::kBadRequest, "Requested path is a directory, not a file.");
        throw Error::not_found("File not found.");
    }
    if (::fstat(fd.get(), &st) != 0) throw Error::not_found("File not found.");
    if (S_ISDIR(st.st_mode)) throw Error(ErrorCode::kBadRequest, "Requested path is a directory, not a file.");
    // FIFOs, sockets and devices have no bytes to download.
    if (!S_ISREG(st.st_mode)) throw Error::not_found("File not found.");

    FileDownload out;
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.basename = requested_basename(ws, path);
    out.content_type = guess_content_type(out.basename);
    out.body = std::make_shared<FileStream>(std::move(fd), out.size, std::move(blocking));
    return out;
}

asio::awaitable<WorkspaceStatus> WorkspaceService::read_status(std::shared_ptr<workspace::Workspace> ws,
                                                               std::optional<std::string> configured_cwd) {
    WorkspaceStatus out;
    out.workdir = ws->workdir();
    if (!configured_cwd || configured_cwd->empty()) {
        out.cwd = ws->workdir();
    } else {
        out.cwd = normal_visible(*ws, *configured_cwd);  // as configured, links not resolved
        // A cwd outside the workspace is reported as set, but never inspected.
        if (!ws->resolve(*configured_cwd, /*allow_relative=*/true)) co_return out;
    }
    auto git = read_git_status(ws, out.cwd);
    out.git = co_await std::move(git);
    co_return out;
}

}  // namespace agentd::service
