#include "workspace/local/local_workspace.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "workspace/workspace_test_support.hpp"

namespace agentd::workspace {
namespace {

using testing::sh;
using testing::TempDir;

TEST(LocalWorkspace, WorkdirIsTheCanonicalHostDirectory) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "real");
    std::filesystem::create_symlink(tmp.path() / "real", tmp.path() / "link");
    LocalWorkspace ws("w1", tmp.path() / "link" / ".");
    EXPECT_EQ(ws.id(), "w1");
    EXPECT_EQ(ws.kind(), "local");
    EXPECT_EQ(ws.workdir(), std::filesystem::canonical(tmp.path() / "real").string());
    EXPECT_EQ(ws.host_dir(), std::filesystem::canonical(tmp.path() / "real"));
}

TEST(LocalWorkspace, MissingDirectoryThrows) {
    EXPECT_THROW(LocalWorkspace("w", "/nonexistent/agentd-ws"), std::filesystem::filesystem_error);
}

TEST(LocalWorkspace, InheritsTheServerEnvironment) {
    TempDir tmp;
    LocalWorkspace ws("w", tmp.path());
    ::setenv("AGENTD_LOCAL_WS_VAR", "from-server", 1);
    auto r = sh(ws, "echo $AGENTD_LOCAL_WS_VAR");
    EXPECT_EQ(r.stdout_bytes, "from-server\n");
}

TEST(LocalWorkspace, HomeIsWhatTheShellExpandsTildeTo) {
    TempDir tmp;
    LocalWorkspace ws("w", tmp.path());
    auto r = sh(ws, "printf %s ~");
    EXPECT_EQ(r.stdout_bytes, ws.home());
    EXPECT_NE(ws.home(), ws.workdir());
}

TEST(LocalWorkspace, CwdThroughASymlinkLeavingTheWorkspaceIsRefused) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "ws");
    std::filesystem::create_directory_symlink("/etc", tmp.path() / "ws" / "escape");
    LocalWorkspace ws("w", tmp.path() / "ws");
    auto r = sh(ws, "pwd", "escape");
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(r.stderr_bytes, "Path is outside the workspace: escape");
}

}  // namespace
}  // namespace agentd::workspace
