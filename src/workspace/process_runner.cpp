#include "workspace/process_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>

extern char** environ;

namespace agentd::workspace {

namespace asio = boost::asio;

namespace {

using Strand = asio::strand<asio::any_io_executor>;

/// Owns one file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

/// The text Python puts in an OSError: "[Errno 2] No such file or directory: 'x'".
std::string os_error_text(int err, const std::string& subject) {
    return "[Errno " + std::to_string(err) + "] " + std::strerror(err) + ": '" + subject + "'";
}

bool make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return true;
}

struct Spawned {
    pid_t pid = -1;
    UniqueFd stdout_read, stderr_read, stdin_write, pidfd;
};

/// Starts the child in a new session with only fds 0–2 open. Returns nullopt and
/// sets `error` when it could not start.
std::optional<Spawned> spawn_child(const ProcessSpec& spec, std::string& error) {
    if (spec.argv.empty() || spec.argv.front().empty()) {
        error = os_error_text(ENOENT, spec.argv.empty() ? std::string() : spec.argv.front());
        return std::nullopt;
    }
    if (spec.cwd) {
        struct stat st {};
        if (::stat(spec.cwd->c_str(), &st) != 0) {
            error = os_error_text(errno, spec.cwd->string());
            return std::nullopt;
        }
        if (!S_ISDIR(st.st_mode)) {
            error = os_error_text(ENOTDIR, spec.cwd->string());
            return std::nullopt;
        }
    }
    Spawned out;
    UniqueFd stdin_read, stdout_write, stderr_write;
    if (!make_pipe(out.stdout_read, stdout_write) || !make_pipe(out.stderr_read, stderr_write)) {
        error = os_error_text(errno, "pipe");
        return std::nullopt;
    }
    if (spec.stdin_data) {
        if (!make_pipe(stdin_read, out.stdin_write)) {
            error = os_error_text(errno, "pipe");
            return std::nullopt;
        }
    } else {
        stdin_read.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (stdin_read.get() < 0) {
            error = os_error_text(errno, "/dev/null");
            return std::nullopt;
        }
    }

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, stdin_read.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, stdout_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, stderr_write.get(), 2);
    // Descriptors the server opened without O_CLOEXEC (sockets, databases) must not leak.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (spec.cwd) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd->c_str());
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);  // the server ignores SIGPIPE; children must not

    std::vector<char*> argv;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    int rc = ::posix_spawnp(&out.pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        error = os_error_text(rc, spec.argv.front());
        return std::nullopt;
    }
    // A pidfd lets the reactor tell us about the exit without SIGCHLD or a
    // blocking waitpid; without one (kernel < 5.3) the exit is polled.
    out.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, out.pid, 0)));
    return out;
}

/// One running child. All members are touched only on `strand_`.
class ChildRun : public std::enable_shared_from_this<ChildRun> {
public:
    ChildRun(Strand strand, ProcessSpec spec, Spawned spawned)
        : strand_(strand),
          spec_(std::move(spec)),
          pid_(spawned.pid),
          out_(strand, spawned.stdout_read.release()),
          err_(strand, spawned.stderr_read.release()),
          wake_(strand),
          deadline_(strand),
          kill_timer_(strand),
          orphan_timer_(strand),
          abandon_timer_(strand),
          poll_timer_(strand) {
        if (spawned.stdin_write.get() >= 0) stdin_.emplace(strand, spawned.stdin_write.release());
        if (spawned.pidfd.get() >= 0) pidfd_.emplace(strand, spawned.pidfd.release());
    }

    static asio::awaitable<ExecResult> wait(std::shared_ptr<ChildRun> self) {
        self->start();
        while (!self->finished()) {
            self->advance();
            if (self->finished()) break;
            self->wake_.expires_at(asio::steady_timer::time_point::max());
            co_await self->wake_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        co_return self->finish();
    }

private:
    struct Stream {
        Stream(Strand strand, int descriptor) : fd(strand, descriptor) {}
        asio::posix::stream_descriptor fd;
        std::array<char, 64 * 1024> buffer{};
        std::string data;
        bool eof = false;
    };

    void start() {
        read(out_);
        read(err_);
        if (stdin_) {
            auto self = shared_from_this();
            asio::async_write(*stdin_, asio::buffer(*spec_.stdin_data),
                              [self](const boost::system::error_code&, std::size_t) {
                                  boost::system::error_code ignored;
                                  self->stdin_->close(ignored);  // EOF for the child (or it left early)
                              });
        }
        watch_exit();
        std::weak_ptr<ChildRun> weak = shared_from_this();
        cancel_registration_ = Cancellation::on_cancel(spec_.cancel, [weak, strand = strand_] {
            asio::post(strand, [weak] {
                if (auto self = weak.lock()) {
                    self->interrupted_ = true;
                    self->notify();
                }
            });
        });
        after(deadline_, spec_.timeout, [](ChildRun& run) { run.timed_out_ = true; });
    }

    void notify() { wake_.cancel(); }

    /// Runs `fn` on the strand after `delay`, unless the timer is cancelled first.
    template <typename Fn>
    void after(asio::steady_timer& timer, std::chrono::milliseconds delay, Fn fn) {
        timer.expires_after(delay);
        timer.async_wait([self = shared_from_this(), fn](const boost::system::error_code& ec) {
            if (ec || self->done_) return;
            fn(*self);
            self->notify();
        });
    }

    void read(Stream& s) {
        s.fd.async_read_some(asio::buffer(s.buffer),
                             [self = shared_from_this(), &s](const boost::system::error_code& ec, std::size_t n) {
                                 if (n > 0) {
                                     std::size_t room = self->spec_.output_limit - std::min(self->spec_.output_limit, s.data.size());
                                     s.data.append(s.buffer.data(), std::min(n, room));
                                     if (n > room) self->truncated_ = true;
                                 }
                                 if (ec || self->done_) {
                                     s.eof = true;
                                     self->notify();
                                     return;
                                 }
                                 self->read(s);
                             });
    }

    void watch_exit() {
        if (pidfd_) {
            pidfd_->async_wait(asio::posix::descriptor_base::wait_read,
                               [self = shared_from_this()](const boost::system::error_code& ec) {
                                   if (ec == asio::error::operation_aborted) return;
                                   self->exited_ = true;
                                   self->notify();
                               });
            return;
        }
        after(poll_timer_, std::chrono::milliseconds(10), [](ChildRun& run) {
            siginfo_t info{};
            // WNOWAIT leaves a zombie: its pid, and so the group id, cannot be reused
            // until we have killed the group.
            if (::waitid(P_PID, run.pid_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == run.pid_) {
                run.exited_ = true;
            } else {
                run.watch_exit();
            }
        });
    }

    void kill_group(int sig) { ::kill(-pid_, sig); }

    bool outputs_closed() const { return out_.eof && err_.eof; }
    bool finished() const { return exited_ && (outputs_closed() || abandoned_); }

    /// Moves the kill sequence forward after any event.
    void advance() {
        if ((timed_out_ || interrupted_) && !killing_) {
            killing_ = true;
            kill_group(SIGTERM);
            after(kill_timer_, spec_.kill_grace, [](ChildRun& run) {
                run.kill_group(SIGKILL);
                run.after(run.abandon_timer_, std::chrono::milliseconds(500), [](ChildRun& r) { r.abandoned_ = true; });
            });
        }
        if (exited_ && !outputs_closed() && !killing_ && !orphan_armed_) {
            // The command is done but something it started still holds a pipe.
            orphan_armed_ = true;
            after(orphan_timer_, spec_.orphan_grace, [](ChildRun& run) {
                run.kill_group(SIGKILL);
                // A process that left the group (setsid) can keep the pipe forever.
                run.after(run.abandon_timer_, run.spec_.orphan_grace, [](ChildRun& r) { r.abandoned_ = true; });
            });
        }
    }

    ExecResult finish() {
        done_ = true;
        // The leader is still an unreaped zombie, so the group id is still ours.
        kill_group(SIGKILL);
        cancel_registration_.reset();
        for (auto* t : {&wake_, &deadline_, &kill_timer_, &orphan_timer_, &abandon_timer_, &poll_timer_}) t->cancel();
        boost::system::error_code ignored;
        out_.fd.close(ignored);
        err_.fd.close(ignored);
        if (stdin_) stdin_->close(ignored);
        if (pidfd_) pidfd_->close(ignored);

        ExecResult result;
        int status = 0;
        pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
        if (reaped == pid_ && WIFEXITED(status)) {
            result.exit_code = WEXITSTATUS(status);
        } else if (reaped == pid_ && WIFSIGNALED(status)) {
            result.exit_code = -WTERMSIG(status);
        } else {
            result.exit_code = -1;
        }
        result.truncated = truncated_;
        if (timed_out_ && !interrupted_) {
            result.exit_code = -1;
            result.timed_out = true;
            result.stderr_bytes = "timed out";
            return result;
        }
        result.stdout_bytes = std::move(out_.data);
        result.stderr_bytes = std::move(err_.data);
        if (interrupted_) {
            result.exit_code = -1;
            result.interrupted = true;
        }
        return result;
    }

    Strand strand_;
    ProcessSpec spec_;
    pid_t pid_;
    Stream out_;
    Stream err_;
    std::optional<asio::posix::stream_descriptor> stdin_;
    std::optional<asio::posix::stream_descriptor> pidfd_;
    asio::steady_timer wake_;  ///< cancelled to wake wait() after any event
    asio::steady_timer deadline_;
    asio::steady_timer kill_timer_;
    asio::steady_timer orphan_timer_;
    asio::steady_timer abandon_timer_;
    asio::steady_timer poll_timer_;
    Cancellation::Registration cancel_registration_;
    bool exited_ = false;
    bool timed_out_ = false;
    bool interrupted_ = false;
    bool killing_ = false;
    bool orphan_armed_ = false;
    bool abandoned_ = false;
    bool truncated_ = false;
    bool done_ = false;
};

}  // namespace

ProcessSpec process_spec_for(ExecRequest& request) {
    ProcessSpec spec;
    spec.timeout = request.timeout;
    spec.output_limit = request.output_limit;
    spec.stdin_data = std::move(request.stdin_data);
    spec.cancel = std::move(request.cancel);
    return spec;
}

std::vector<std::string> server_environment(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> env;
    std::map<std::string, bool> seen;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        std::string key = entry.substr(0, eq);
        auto it = extra.find(key);
        if (it != extra.end()) {
            env.push_back(key + "=" + it->second);
            seen[key] = true;
        } else {
            env.push_back(std::move(entry));
        }
    }
    for (const auto& [key, value] : extra) {
        if (!seen.count(key)) env.push_back(key + "=" + value);
    }
    return env;
}

asio::awaitable<ExecResult> run_process(ProcessSpec spec) {
    static std::once_flag sigpipe_once;
    std::call_once(sigpipe_once, [] { ::signal(SIGPIPE, SIG_IGN); });

    std::string error;
    auto spawned = spawn_child(spec, error);
    if (!spawned) {
        ExecResult failed;
        failed.exit_code = 127;
        failed.stderr_bytes = std::move(error);
        co_return failed;
    }
    auto executor = co_await asio::this_coro::executor;
    Strand strand = asio::make_strand(executor);
    auto run = std::make_shared<ChildRun>(strand, std::move(spec), std::move(*spawned));
    auto waiting = asio::co_spawn(strand, ChildRun::wait(run), asio::use_awaitable);
    ExecResult result = co_await std::move(waiting);
    co_return result;
}

}  // namespace agentd::workspace
