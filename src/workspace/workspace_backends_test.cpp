// The exec contract every workspace backend keeps, run once per backend.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "workspace/directory_workspace_manager.hpp"
#include "workspace/workspace_test_support.hpp"

namespace agentd::workspace {
namespace {

using testing::sh;
using testing::TempDir;
using namespace std::chrono_literals;

class WorkspaceBackend : public ::testing::TestWithParam<WorkspaceKind> {
protected:
    void SetUp() override {
        try {
            manager_ = std::make_unique<DirectoryWorkspaceManager>(data_.path(), GetParam());
        } catch (const std::exception& e) {
            GTEST_SKIP() << "backend unavailable here: " << e.what();
        }
        ws_ = manager_->get("alice", "agent-1", "ws-1");
    }

    TempDir data_;
    std::unique_ptr<DirectoryWorkspaceManager> manager_;
    std::shared_ptr<Workspace> ws_;
};

TEST_P(WorkspaceBackend, RunsInTheWorkdirByDefault) {
    auto r = sh(*ws_, "pwd");
    EXPECT_EQ(r.exit_code, 0) << r.stderr_bytes;
    EXPECT_EQ(r.stdout_bytes, ws_->workdir() + "\n");
}

TEST_P(WorkspaceBackend, FilesWrittenByCommandsAreInTheHostDirectory) {
    auto r = sh(*ws_, "mkdir -p sub && printf 'hi' > sub/f.txt");
    ASSERT_EQ(r.exit_code, 0) << r.stderr_bytes;
    std::ifstream in(ws_->host_dir() / "sub" / "f.txt");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "hi");
}

TEST_P(WorkspaceBackend, CwdIsResolvedInsideTheWorkspace) {
    std::filesystem::create_directories(ws_->host_dir() / "a" / "b");
    auto relative = sh(*ws_, "pwd", "a/b");
    EXPECT_EQ(relative.stdout_bytes, ws_->workdir() + "/a/b\n");
    auto absolute = sh(*ws_, "pwd", ws_->workdir() + "/a");
    EXPECT_EQ(absolute.stdout_bytes, ws_->workdir() + "/a\n");
}

TEST_P(WorkspaceBackend, CwdOutsideTheWorkspaceIsRefused) {
    auto r = sh(*ws_, "pwd", "../..");
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(r.stdout_bytes, "");
    EXPECT_EQ(r.stderr_bytes, "Path is outside the workspace: ../..");
    auto etc = sh(*ws_, "pwd", "/etc");
    EXPECT_EQ(etc.exit_code, 127);
}

TEST_P(WorkspaceBackend, ExitCodesAndStreams) {
    auto r = sh(*ws_, "echo out; echo err >&2; exit 4");
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_EQ(r.stdout_bytes, "out\n");
    EXPECT_EQ(r.stderr_bytes, "err\n");
}

TEST_P(WorkspaceBackend, MissingProgramIsExit127) {
    ExecRequest request;
    request.argv = {"/nonexistent/agentd-prog"};
    auto r = testing::exec_sync(*ws_, std::move(request));
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_NE(r.stderr_bytes.find("No such file or directory"), std::string::npos) << r.stderr_bytes;
}

TEST_P(WorkspaceBackend, StdinAndExtraEnvironment) {
    ExecRequest request;
    request.argv = {"/bin/sh", "-c", "cat; echo \" $AGENTD_EXTRA\""};
    request.stdin_data = "piped";
    request.env = {{"AGENTD_EXTRA", "extra"}};
    auto r = testing::exec_sync(*ws_, std::move(request));
    EXPECT_EQ(r.stdout_bytes, "piped extra\n");
}

TEST_P(WorkspaceBackend, TimeoutKillsBackgroundChildren) {
    ExecRequest request;
    request.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30"};
    request.timeout = 300ms;
    auto start = std::chrono::steady_clock::now();
    auto r = testing::exec_sync(*ws_, std::move(request));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.stderr_bytes, "timed out");
}

TEST_P(WorkspaceBackend, BackgroundChildDoesNotHoldTheCall) {
    auto start = std::chrono::steady_clock::now();
    auto r = sh(*ws_, "sleep 100 & echo started");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_bytes, "started\n");
}

TEST_P(WorkspaceBackend, InterruptStopsTheCommand) {
    ExecRequest request;
    request.argv = {"/bin/sh", "-c", "sleep 30"};
    request.cancel = std::make_shared<Cancellation>();
    request.cancel->request();
    auto r = testing::exec_sync(*ws_, std::move(request));
    EXPECT_TRUE(r.interrupted);
}

INSTANTIATE_TEST_SUITE_P(Kinds, WorkspaceBackend, ::testing::Values(WorkspaceKind::kLocal, WorkspaceKind::kBwrap),
                         [](const auto& info) { return info.param == WorkspaceKind::kLocal ? "local" : "bwrap"; });

}  // namespace
}  // namespace agentd::workspace
