#pragma once
// The session workspace as the HTTP API shows it (spec api-extended §1.3.10–13):
// directory listings, the session's cwd and git state, download tokens and file
// streams.
//
// Every path is confined to the workspace (Agentd decision, ARCHITECTURE §7):
// it goes through Workspace::resolve, and the host file is then opened one
// component at a time with O_NOFOLLOW, so a symlink swapped in after the check
// cannot lead outside either. A refused path answers exactly like a missing one
// (404), so nothing about the host leaks. Paths shown to the client are the
// agent-visible ones (Workspace::workdir / visible).
//
// Threads: resolve, list_directory, status, mint_download_token and open_file
// block (storage, filesystem, waiting for git) and must run on the blocking pool;
// read_status is a coroutine for any executor; file bodies read their chunks on
// the blocking pool.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/session.hpp"
#include "http/stream_body.hpp"
#include "service/download_token.hpp"
#include "service/git_status.hpp"
#include "storage/storage.hpp"
#include "workspace/workspace.hpp"

namespace agentd::service {

struct DirectoryEntry {
    std::string name;
    bool is_dir = false;                       ///< follows symlinks that stay inside the workspace
    std::optional<std::uint64_t> size_bytes;   ///< null for directories and when unknown
    std::optional<double> updated_at;          ///< mtime, seconds since the epoch; null when unknown
};

struct DirectoryListing {
    std::string path;  ///< agent-visible absolute path of the directory
    std::vector<DirectoryEntry> entries;  ///< sorted by name (byte order), for stable output
};

struct WorkspaceStatus {
    std::string workdir;  ///< agent-visible workspace root
    std::string cwd;      ///< the session's cwd resolved against the root
    std::optional<GitStatus> git;
};

/// A file ready to stream. `body` yields its bytes in chunks read on the blocking pool.
struct FileDownload {
    std::shared_ptr<http::StreamBody> body;
    std::uint64_t size = 0;    ///< bytes the body will send (the size when opened)
    std::string basename;      ///< last component of the requested path; "download" if none
    std::string content_type;  ///< from the basename's extension (Python mimetypes), charset on text/*
};

/// A session together with the workspace it is bound to.
struct SessionWorkspace {
    domain::SessionRecord session;
    std::shared_ptr<workspace::Workspace> workspace;
};

boost::json::object to_json(const DirectoryListing& listing);
boost::json::object to_json(const WorkspaceStatus& status);

/// Content-Type for a file name: Python's mimetypes guess (compression suffixes
/// such as .gz leave the type of the inner name, as guess_type does), else
/// application/octet-stream; text/* gains "; charset=utf-8" as Starlette adds it.
std::string guess_content_type(std::string_view basename);

/// `attachment; filename*=UTF-8''<percent-encoded basename>` (urllib.parse.quote).
std::string content_disposition(std::string_view basename);

class WorkspaceService {
public:
    /// `io` runs the git commands of status(); `blocking` reads file chunks.
    /// `download_secret`: the HMAC key (bytes) shared by replicas; a random
    /// per-process one when absent.
    WorkspaceService(storage::Storage& storage, workspace::WorkspaceManager& workspaces,
                     boost::asio::any_io_executor io, boost::asio::any_io_executor blocking,
                     std::optional<std::string> download_secret = std::nullopt);

    /// The session (of `agent_id`) and its workspace. 404 "Session '<id>' not found."
    SessionWorkspace resolve(const std::string& user_id, const std::string& agent_id,
                             const std::string& session_id);

    /// One level of `path` ("" = the root). 404 "Directory not found." when missing
    /// or outside; 400 when it is a file.
    DirectoryListing list_directory(const std::string& user_id, const std::string& agent_id,
                                    const std::string& session_id, const std::string& path);

    /// workdir, cwd and git state. Waits for git (up to 2 × 5 s) on the io executor.
    WorkspaceStatus status(const std::string& user_id, const std::string& agent_id,
                           const std::string& session_id);

    /// A token for `path` (signed verbatim) after checking that the session exists.
    DownloadToken mint_download_token(const std::string& user_id, const std::string& agent_id,
                                      const std::string& session_id, const std::string& path);

    /// The user a token was minted for, for this exact `path`; 401 otherwise.
    std::string verify_download_token(std::string_view token, std::string_view path) const;

    /// Opens `path` for streaming. 404 "File not found." when missing, outside or
    /// not a regular file; 400 when it is a directory.
    FileDownload open_file(const std::string& user_id, const std::string& agent_id,
                           const std::string& session_id, const std::string& path);

    // The same operations on a workspace already resolved (what the above call
    // after resolve; exposed for tests and other callers).
    static DirectoryListing list_directory(const workspace::Workspace& ws, const std::string& path);
    static FileDownload open_file(const workspace::Workspace& ws, const std::string& path,
                                  boost::asio::any_io_executor blocking);
    /// `configured_cwd` is the session's config.cwd (absolute, root-relative, or unset).
    static boost::asio::awaitable<WorkspaceStatus> read_status(std::shared_ptr<workspace::Workspace> ws,
                                                               std::optional<std::string> configured_cwd);

private:
    storage::Storage& storage_;
    workspace::WorkspaceManager& workspaces_;
    boost::asio::any_io_executor io_;
    boost::asio::any_io_executor blocking_;
    const std::string secret_;  // immutable after construction: read from any thread
};

}  // namespace agentd::service
