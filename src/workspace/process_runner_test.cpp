#include "workspace/process_runner.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <fstream>
#include <thread>

namespace agentd::workspace {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

ExecResult run(ProcessSpec spec) {
    if (spec.env.empty()) spec.env = server_environment({});
    asio::io_context io;
    auto future = asio::co_spawn(io, run_process(std::move(spec)), asio::use_future);
    io.run();
    return future.get();
}

ProcessSpec shell(std::string command, std::chrono::milliseconds timeout = 10s) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", std::move(command)};
    spec.timeout = timeout;
    return spec;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Whether `pid` names a live (not zombie) process.
bool alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) return false;
    auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

pid_t read_pid(const std::string& path) {
    std::ifstream in(path);
    pid_t pid = 0;
    in >> pid;
    return pid;
}

std::string scratch_file(const char* name) {
    return "/tmp/agentd_runner_test_" + std::to_string(::getpid()) + "_" + name;
}

long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0;
}

TEST(ProcessRunner, SeparatesStdoutStderrAndExitCode) {
    auto r = run(shell("echo out; echo err >&2; exit 3"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.stdout_bytes, "out\n");
    EXPECT_EQ(r.stderr_bytes, "err\n");
    EXPECT_FALSE(r.timed_out);
    EXPECT_FALSE(r.interrupted);
    EXPECT_FALSE(r.truncated);
}

TEST(ProcessRunner, SignalledChildReportsMinusSignal) {
    auto r = run(shell("kill -TERM $$"));
    EXPECT_EQ(r.exit_code, -SIGTERM);
}

TEST(ProcessRunner, FeedsStdinThenCloses) {
    auto spec = shell("cat; echo done");
    spec.stdin_data = "hello\nworld";
    auto r = run(std::move(spec));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_bytes, "hello\nworlddone\n");
}

TEST(ProcessRunner, StdinIsDevNullByDefault) {
    auto r = run(shell("cat; echo rc=$?"));
    EXPECT_EQ(r.stdout_bytes, "rc=0\n");
}

TEST(ProcessRunner, ChildThatIgnoresLargeStdinDoesNotHurtTheServer) {
    auto spec = shell("exit 0");
    spec.stdin_data = std::string(4 << 20, 'x');  // more than a pipe holds: the write sees EPIPE
    auto r = run(std::move(spec));
    EXPECT_EQ(r.exit_code, 0);
}

TEST(ProcessRunner, SpawnFailureIsExit127WithTheOsError) {
    ProcessSpec spec;
    spec.argv = {"/nonexistent/agentd-no-such-program"};
    auto r = run(std::move(spec));
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(r.stdout_bytes, "");
    EXPECT_EQ(r.stderr_bytes, "[Errno 2] No such file or directory: '/nonexistent/agentd-no-such-program'");
}

TEST(ProcessRunner, MissingWorkingDirectoryIsExit127) {
    auto spec = shell("pwd");
    spec.cwd = "/nonexistent/agentd-dir";
    auto r = run(std::move(spec));
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(r.stderr_bytes, "[Errno 2] No such file or directory: '/nonexistent/agentd-dir'");
}

TEST(ProcessRunner, RunsInTheGivenDirectoryWithTheGivenEnvironment) {
    auto spec = shell("pwd; echo \"$AGENTD_TEST_VAR\"");
    spec.cwd = "/usr";
    spec.env = server_environment({{"AGENTD_TEST_VAR", "a b"}});
    auto r = run(std::move(spec));
    EXPECT_EQ(r.stdout_bytes, "/usr\na b\n");
}

TEST(ProcessRunner, ServerEnvironmentIsInheritedAndOverlaid) {
    ::setenv("AGENTD_RUNNER_INHERITED", "yes", 1);
    auto env = server_environment({{"AGENTD_RUNNER_INHERITED", "over"}, {"AGENTD_RUNNER_NEW", "1"}});
    EXPECT_NE(std::find(env.begin(), env.end(), "AGENTD_RUNNER_INHERITED=over"), env.end());
    EXPECT_NE(std::find(env.begin(), env.end(), "AGENTD_RUNNER_NEW=1"), env.end());
    EXPECT_EQ(std::find(env.begin(), env.end(), "AGENTD_RUNNER_INHERITED=yes"), env.end());
}

TEST(ProcessRunner, ChildLeadsItsOwnSessionAndInheritsNoOtherDescriptors) {
    int leaked = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
    ASSERT_GE(leaked, 3);
    auto r = run(shell("echo $$; cut -d' ' -f6 /proc/$$/stat; ls /proc/$$/fd | tr '\\n' ' '"));
    ::close(leaked);
    std::istringstream lines(r.stdout_bytes);
    std::string pid, session, fds;
    std::getline(lines, pid);
    std::getline(lines, session);
    std::getline(lines, fds);
    EXPECT_EQ(pid, session);
    EXPECT_EQ(fds, "0 1 2 ");
}

TEST(ProcessRunner, TimeoutKillsTheWholeGroupAndDiscardsOutput) {
    const auto pidfile = scratch_file("timeout");
    auto start = std::chrono::steady_clock::now();
    auto r = run(shell("echo partial; sleep 30 & echo $! > " + pidfile + "; sleep 30", 300ms));
    EXPECT_LT(seconds_since(start), 3.0);
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.stdout_bytes, "");
    EXPECT_EQ(r.stderr_bytes, "timed out");
    pid_t background = read_pid(pidfile);
    ASSERT_GT(background, 0);
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(alive(background));
    ::unlink(pidfile.c_str());
}

TEST(ProcessRunner, TermIgnoringChildIsKilledAfterTheGrace) {
    auto spec = shell("trap '' TERM; sleep 30", 200ms);
    spec.kill_grace = 300ms;
    auto start = std::chrono::steady_clock::now();
    auto r = run(std::move(spec));
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(seconds_since(start), 3.0);
    EXPECT_GE(seconds_since(start), 0.45);
}

TEST(ProcessRunner, BackgroundChildHoldingThePipeDoesNotKeepTheCallWaiting) {
    const auto pidfile = scratch_file("orphan");
    auto start = std::chrono::steady_clock::now();
    auto r = run(shell("sleep 100 & echo $! > " + pidfile + "; echo started", 20s));
    EXPECT_LT(seconds_since(start), 2.0);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.stdout_bytes, "started\n");
    pid_t background = read_pid(pidfile);
    ASSERT_GT(background, 0);
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(alive(background));
    ::unlink(pidfile.c_str());
}

TEST(ProcessRunner, DetachedBackgroundChildIsKilledWhenTheCallEnds) {
    auto start = std::chrono::steady_clock::now();
    auto r = run(shell("sleep 100 >/dev/null 2>&1 & echo $!", 20s));
    EXPECT_LT(seconds_since(start), 2.0);
    pid_t background = std::stoi(r.stdout_bytes);
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(alive(background));
}

TEST(ProcessRunner, ProcessThatLeftTheGroupCannotHoldTheCall) {
    // setsid puts the sleeper out of reach of the group kill; the call must still end.
    auto start = std::chrono::steady_clock::now();
    auto r = run(shell("setsid sleep 3 & echo ok", 20s));
    EXPECT_LT(seconds_since(start), 2.0);
    EXPECT_EQ(r.stdout_bytes, "ok\n");
}

TEST(ProcessRunner, CancellationKillsTheGroup) {
    auto cancel = std::make_shared<Cancellation>();
    auto spec = shell("echo before; sleep 30", 20s);
    spec.cancel = cancel;
    std::thread canceller([cancel] {
        std::this_thread::sleep_for(300ms);
        cancel->request();  // from a foreign thread, as a run's interrupt does
    });
    auto start = std::chrono::steady_clock::now();
    auto r = run(std::move(spec));
    canceller.join();
    EXPECT_LT(seconds_since(start), 3.0);
    EXPECT_TRUE(r.interrupted);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.stdout_bytes, "before\n");
}

TEST(ProcessRunner, AlreadyCancelledStopsAtOnce) {
    auto cancel = std::make_shared<Cancellation>();
    cancel->request();
    auto spec = shell("sleep 30", 20s);
    spec.cancel = cancel;
    auto start = std::chrono::steady_clock::now();
    auto r = run(std::move(spec));
    EXPECT_LT(seconds_since(start), 3.0);
    EXPECT_TRUE(r.interrupted);
}

TEST(ProcessRunner, HugeOutputIsBoundedAndDrained) {
    long before = peak_rss_kib();
    auto spec = shell("yes | head -c 1000000000; echo tail >&2", 120s);
    spec.output_limit = 1 << 20;
    auto start = std::chrono::steady_clock::now();
    auto r = run(std::move(spec));
    EXPECT_LT(seconds_since(start), 60.0);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.stdout_bytes.size(), std::size_t{1} << 20);
    EXPECT_EQ(r.stdout_bytes.substr(0, 4), "y\ny\n");
    EXPECT_EQ(r.stderr_bytes, "tail\n");
    EXPECT_LT(peak_rss_kib() - before, 64 * 1024);
}

TEST(ProcessRunner, ConcurrentRunsOnAThreadPool) {
    asio::io_context io;
    std::vector<std::future<ExecResult>> results;
    for (int i = 0; i < 16; ++i) {
        auto spec = shell("sleep 0.1; echo " + std::to_string(i) + "; echo e" + std::to_string(i) + " >&2");
        spec.env = server_environment({});
        results.push_back(asio::co_spawn(io, run_process(std::move(spec)), asio::use_future));
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&io] { io.run(); });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 16; ++i) {
        auto r = results[i].get();
        EXPECT_EQ(r.stdout_bytes, std::to_string(i) + "\n");
        EXPECT_EQ(r.stderr_bytes, "e" + std::to_string(i) + "\n");
    }
}

TEST(ProcessRunner, ZeroTimeoutTimesOut) {
    auto r = run(shell("echo hi", 0ms));
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.stderr_bytes, "timed out");
}

}  // namespace
}  // namespace agentd::workspace
