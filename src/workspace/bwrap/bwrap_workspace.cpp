#include "workspace/bwrap/bwrap_workspace.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <stdexcept>

#include "workspace/process_runner.hpp"

namespace agentd::workspace {

namespace {

constexpr std::string_view kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The only parts of /etc a sandbox sees: name resolution, users, TLS roots,
// alternatives symlinks, and the loader cache (the reference binds all but the last two).
constexpr const char* kEtcFiles[] = {"/etc/resolv.conf", "/etc/hosts",       "/etc/nsswitch.conf",
                                     "/etc/passwd",      "/etc/group",       "/etc/alternatives",
                                     "/etc/ssl",         "/etc/pki",         "/etc/ca-certificates",
                                     "/etc/ld.so.cache", "/etc/localtime"};
constexpr const char* kRootDirs[] = {"/bin", "/sbin", "/lib", "/lib64"};

std::vector<std::string> system_mounts() {
    std::vector<std::string> out{"--ro-bind", "/usr", "/usr", "--dir", "/etc"};
    for (const char* path : kEtcFiles) {
        if (::access(path, F_OK) == 0) out.insert(out.end(), {"--ro-bind", path, path});
    }
    for (const char* path : kRootDirs) {
        struct stat st {};
        if (::lstat(path, &st) != 0) continue;
        if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            auto target = fs::read_symlink(path, ec);
            if (!ec) out.insert(out.end(), {"--symlink", target.string(), path});
        } else if (S_ISDIR(st.st_mode)) {
            out.insert(out.end(), {"--ro-bind", path, path});
        }
    }
    return out;
}

bool is_within(const fs::path& p, const fs::path& root) {
    auto rel = p.lexically_relative(root);
    return !rel.empty() && *rel.begin() != "..";
}

/// A real directory (not a symlink), by its canonical path.
fs::path checked_dir(const fs::path& dir, const char* what) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw std::runtime_error(std::string("bwrap workspace: the ") + what + " " + dir.string() +
                                 " is not a directory");
    }
    return fs::canonical(dir);
}

ExecResult refused(std::string message) {
    ExecResult r;
    r.exit_code = 127;
    r.stderr_bytes = std::move(message);
    return r;
}

std::vector<std::string> isolation_options(const BwrapConfig& config) {
    std::vector<std::string> out{"--die-with-parent", "--new-session", "--unshare-all"};
    if (config.network) out.push_back("--share-net");
    // A root server's sandbox would otherwise keep every capability inside its namespaces.
    if (::geteuid() == 0) out.insert(out.end(), {"--cap-drop", "ALL"});
    return out;
}

}  // namespace

BwrapWorkspace::BwrapWorkspace(std::string id, const fs::path& host_dir, const fs::path& host_tmp_dir,
                               BwrapConfig config)
    : Workspace(std::move(id), std::string(kWorkdir), checked_dir(host_dir, "workspace directory")),
      host_tmp_dir_(checked_dir(host_tmp_dir, "temporary directory")),
      config_(std::move(config)),
      system_mounts_(system_mounts()) {
    if (host_tmp_dir_ == this->host_dir() || is_within(host_tmp_dir_, this->host_dir()) ||
        is_within(this->host_dir(), host_tmp_dir_)) {
        throw std::runtime_error("bwrap workspace: the workspace and temporary directories overlap");
    }
    struct stat st {};
    ::lstat(this->host_dir().c_str(), &st);
    workdir_identity_ = {st.st_dev, st.st_ino};
    ::lstat(host_tmp_dir_.c_str(), &st);
    tmp_identity_ = {st.st_dev, st.st_ino};
}

std::string BwrapWorkspace::instructions() const {
    const std::string w(kWorkdir);
    return "<workspace>\nYou work in a Linux sandbox made with Bubblewrap: every command and file tool runs inside it, "
           "in " + w + ".\n\nLayout:\n\n```\n" + w +
           "/\n|-- data/       # media taken out of your context\n"
           "`-- sessions/   # per session: compressed context and cut-off tool results\n```\n</workspace>";
}

BwrapWorkspace::~BwrapWorkspace() {
    std::error_code ec;
    fs::remove_all(host_tmp_dir_, ec);
}

bool BwrapWorkspace::directories_intact() const {
    auto same = [](const fs::path& p, const Identity& id) {
        struct stat st {};
        return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == id.dev && st.st_ino == id.ino;
    };
    return same(host_dir(), workdir_identity_) && same(host_tmp_dir_, tmp_identity_);
}

std::vector<std::string> BwrapWorkspace::command_line(const std::vector<std::string>& argv, const std::string& cwd,
                                                      const std::map<std::string, std::string>& env) const {
    std::vector<std::string> out{config_.bwrap};
    auto isolation = isolation_options(config_);
    out.insert(out.end(), isolation.begin(), isolation.end());
    out.insert(out.end(), {"--proc", "/proc", "--dev", "/dev", "--bind", host_dir().string(), std::string(kWorkdir),
                           "--bind", host_tmp_dir_.string(), std::string(kTmpDir), "--tmpfs", "/run", "--dir",
                           "/var", "--tmpfs", "/var/tmp"});
    out.insert(out.end(), system_mounts_.begin(), system_mounts_.end());

    // The sandbox's own variables win over the caller's.
    std::map<std::string, std::string> merged = env;
    merged["HOME"] = std::string(kWorkdir);
    merged["TMPDIR"] = std::string(kTmpDir);
    merged["PATH"] = std::string(kPath);
    merged["LANG"] = "C.UTF-8";
    merged["LC_ALL"] = "C.UTF-8";
    merged["PYTHONUNBUFFERED"] = "1";
    merged["PWD"] = cwd;
    out.push_back("--clearenv");
    for (const auto& [key, value] : merged) out.insert(out.end(), {"--setenv", key, value});
    out.insert(out.end(), {"--chdir", cwd, "--"});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

boost::asio::awaitable<ExecResult> BwrapWorkspace::exec(ExecRequest request) {
    std::string cwd = workdir();
    if (request.cwd) {
        auto resolved = resolve(*request.cwd, /*allow_relative=*/true);
        if (!resolved) co_return refused(resolved.error->message);
        cwd = visible(*resolved.host);
    }
    if (!directories_intact()) co_return refused("The workspace directory was replaced; refusing to run.");
    if (request.argv.empty()) co_return refused("[Errno 2] No such file or directory: ''");

    ProcessSpec spec = process_spec_for(request);
    spec.argv = command_line(request.argv, cwd, request.env);
    spec.cwd = host_dir();
    spec.env = server_environment({});  // bwrap itself; the sandbox starts from --clearenv
    auto running = run_process(std::move(spec));
    ExecResult result = co_await std::move(running);
    // bwrap reports a program it could not start as its own failure (exit 1);
    // the backend contract calls that exit 127.
    if (result.exit_code == 1 && result.stderr_bytes.rfind("bwrap: execvp ", 0) == 0) result.exit_code = 127;
    co_return result;
}

void probe_bwrap(const BwrapConfig& config) {
    ProcessSpec spec;
    spec.argv = {config.bwrap};
    auto isolation = isolation_options(config);
    spec.argv.insert(spec.argv.end(), isolation.begin(), isolation.end());
    spec.argv.insert(spec.argv.end(), {"--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "true"});
    spec.env = server_environment({});
    spec.timeout = std::chrono::seconds(5);
    spec.output_limit = 64 * 1024;

    // Called at start-up, off the I/O threads: a private loop is fine here.
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, run_process(std::move(spec)), boost::asio::use_future);
    io.run();
    ExecResult result = future.get();
    if (result.exit_code == 0) return;
    std::string why = result.timed_out ? "it did not finish within 5 s" : result.stderr_bytes;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw std::runtime_error("bubblewrap cannot create a sandbox on this host (" + config.bwrap +
                             " exited with " + std::to_string(result.exit_code) + ": " + why +
                             "); install bubblewrap and allow unprivileged user namespaces, or use the "
                             "local workspace backend");
}

}  // namespace agentd::workspace
