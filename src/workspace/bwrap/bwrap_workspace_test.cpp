// What a bubblewrap sandbox must hide from the agent (spec/tools-workspace.md §6.9).
#include "workspace/bwrap/bwrap_workspace.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fstream>

#include "workspace/context_files.hpp"
#include "workspace/directory_workspace_manager.hpp"
#include "workspace/local/local_workspace.hpp"
#include "workspace/workspace_test_support.hpp"

namespace agentd::workspace {
namespace {

using testing::sh;
using testing::TempDir;

class BwrapSandbox : public ::testing::Test {
protected:
    void SetUp() override {
        try {
            probe_bwrap({});
        } catch (const std::exception& e) {
            GTEST_SKIP() << e.what();
        }
        manager_ = std::make_unique<DirectoryWorkspaceManager>(data_.path(), WorkspaceKind::kBwrap);
        ws_ = manager_->get("alice", "agent", "ws-a");
    }

    TempDir data_;
    std::unique_ptr<DirectoryWorkspaceManager> manager_;
    std::shared_ptr<Workspace> ws_;
};

TEST_F(BwrapSandbox, AgentSeesSlashWorkspace) {
    EXPECT_EQ(ws_->kind(), "bwrap");
    EXPECT_EQ(ws_->workdir(), "/workspace");
    EXPECT_EQ(ws_->host_dir(), manager_->directory_of("alice", "ws-a"));
    auto r = sh(*ws_, "echo \"$HOME $TMPDIR $PWD $LANG\"");
    EXPECT_EQ(r.stdout_bytes, "/workspace /tmp /workspace C.UTF-8\n");
}

TEST_F(BwrapSandbox, CallerCannotOverrideTheSandboxVariables) {
    ExecRequest request;
    request.argv = {"/bin/sh", "-c", "echo \"$HOME $MINE\""};
    request.env = {{"HOME", "/root"}, {"MINE", "kept"}};
    auto r = testing::exec_sync(*ws_, std::move(request));
    EXPECT_EQ(r.stdout_bytes, "/workspace kept\n");
}

TEST_F(BwrapSandbox, ServerEnvironmentDoesNotLeakIn) {
    ::setenv("AGENTD_SECRET_FOR_TEST", "s3cret", 1);
    auto r = sh(*ws_, "echo \"[$AGENTD_SECRET_FOR_TEST]\"");
    EXPECT_EQ(r.stdout_bytes, "[]\n");
}

TEST_F(BwrapSandbox, HostSecretsAndHomeAreInvisible) {
    auto shadow = sh(*ws_, "cat /etc/shadow");
    EXPECT_NE(shadow.exit_code, 0);
    EXPECT_EQ(shadow.stdout_bytes, "");
    const char* home = ::getenv("HOME");
    std::string host_home = home && *home && std::string(home) != "/" ? home : "/root";
    auto listing = sh(*ws_, "ls -A " + host_home);
    EXPECT_NE(listing.exit_code, 0) << listing.stdout_bytes;
    auto etc = sh(*ws_, "ls /etc | tr '\\n' ' '");
    EXPECT_EQ(etc.stdout_bytes.find("shadow"), std::string::npos) << etc.stdout_bytes;
}

TEST_F(BwrapSandbox, OtherWorkspacesAndTheDataDirectoryAreInvisible) {
    auto other = manager_->get("bob", "agent", "ws-b");
    std::ofstream(other->host_dir() / "bob.txt") << "bob's";
    auto r = sh(*ws_, "cat " + (other->host_dir() / "bob.txt").string() + "; ls " + data_.path().string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.stdout_bytes, "");
    auto up = sh(*ws_, "ls -A /workspace/.. | tr '\\n' ' '");
    EXPECT_EQ(up.stdout_bytes.find("agentd-wstest"), std::string::npos);
}

TEST_F(BwrapSandbox, TmpIsPrivateToTheWorkspace) {
    auto other = manager_->get("alice", "agent", "ws-other");
    ASSERT_EQ(sh(*ws_, "echo mine > /tmp/t.txt").exit_code, 0);
    auto r = sh(*other, "cat /tmp/t.txt");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(sh(*ws_, "cat /tmp/t.txt").stdout_bytes, "mine\n");
}

TEST_F(BwrapSandbox, SystemDirectoriesAreReadOnly) {
    auto r = sh(*ws_, "touch /usr/agentd-probe");
    EXPECT_NE(r.exit_code, 0);
}

TEST_F(BwrapSandbox, NoCapabilities) {
    auto r = sh(*ws_, "grep CapEff /proc/self/status");
    EXPECT_EQ(r.stdout_bytes, "CapEff:\t0000000000000000\n");
}

TEST_F(BwrapSandbox, OnlyTheSandboxProcessesAreVisible) {
    auto r = sh(*ws_, "ls /proc | grep -c '^[0-9]'");
    EXPECT_LE(std::stoi(r.stdout_bytes), 4) << "host processes visible";
}

/// Connects to a listener the test opens on the host's loopback.
std::string connect_command(unsigned short port) {
    return "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + "' 2>/dev/null && echo connected";
}

TEST_F(BwrapSandbox, NoNetworkByDefault) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor listener(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    auto port = listener.local_endpoint().port();
    TempDir host;
    LocalWorkspace local("l", host.path());
    ASSERT_EQ(sh(local, connect_command(port)).stdout_bytes, "connected\n") << "the probe itself must work";
    auto r = sh(*ws_, connect_command(port));
    EXPECT_EQ(r.stdout_bytes, "");
}

TEST_F(BwrapSandbox, NetworkWhenEnabled) {
    TempDir data;
    DirectoryWorkspaceManager networked(data.path(), WorkspaceKind::kBwrap, /*network=*/true);
    auto ws = networked.get("alice", "agent", "ws-net");
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor listener(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    auto r = sh(*ws, connect_command(listener.local_endpoint().port()));
    EXPECT_EQ(r.stdout_bytes, "connected\n");
}

TEST_F(BwrapSandbox, ReplacedWorkspaceDirectoryIsRefused) {
    auto ws = manager_->get("carol", "agent", "ws-c");
    auto dir = ws->host_dir();
    std::filesystem::rename(dir, dir.string() + ".old");
    std::filesystem::create_directory(dir);
    auto r = sh(*ws, "true");
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(r.stderr_bytes, "The workspace directory was replaced; refusing to run.");
}

TEST(BwrapWorkspace, OverlappingDirectoriesAreRejected) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "ws" / "tmp");
    EXPECT_THROW(BwrapWorkspace("w", tmp.path() / "ws", tmp.path() / "ws" / "tmp"), std::runtime_error);
    EXPECT_THROW(BwrapWorkspace("w", tmp.path() / "ws", tmp.path() / "ws"), std::runtime_error);
}

TEST(BwrapWorkspace, CommandLineLayout) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "ws");
    std::filesystem::create_directories(tmp.path() / "t");
    BwrapWorkspace ws("w", tmp.path() / "ws", tmp.path() / "t");
    auto argv = ws.command_line({"/bin/sh", "-c", "x"}, "/workspace/sub", {{"A", "1"}});
    auto joined = [&] {
        std::string s;
        for (const auto& a : argv) s += a + " ";
        return s;
    }();
    EXPECT_EQ(argv.front(), "bwrap");
    EXPECT_NE(joined.find(" --unshare-all "), std::string::npos);
    EXPECT_EQ(joined.find("--share-net"), std::string::npos);
    EXPECT_NE(joined.find("--bind " + std::filesystem::canonical(tmp.path() / "ws").string() + " /workspace "),
              std::string::npos);
    EXPECT_NE(joined.find("--bind " + std::filesystem::canonical(tmp.path() / "t").string() + " /tmp "),
              std::string::npos);
    EXPECT_NE(joined.find("--ro-bind /usr /usr "), std::string::npos);
    EXPECT_NE(joined.find("--setenv A 1 "), std::string::npos);
    EXPECT_NE(joined.find("--setenv PWD /workspace/sub "), std::string::npos);
    EXPECT_NE(joined.find("--chdir /workspace/sub -- /bin/sh -c x "), std::string::npos);
    EXPECT_EQ(joined.find("/etc/shadow"), std::string::npos);
}

TEST(BwrapWorkspace, TheInstructionsAndOffloadPathsSpeakOfTheSandboxsFolder) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "ws");
    std::filesystem::create_directories(tmp.path() / "t");
    BwrapWorkspace ws("w", tmp.path() / "ws", tmp.path() / "t");
    const std::string text = ws.instructions();
    EXPECT_NE(text.find("Bubblewrap"), std::string::npos);
    EXPECT_NE(text.find("/workspace/"), std::string::npos);
    EXPECT_EQ(text.find(tmp.path().string()), std::string::npos);  // the host path stays hidden
    // What the agent is told to read is a path inside its sandbox.
    EXPECT_EQ(ContextFiles(ws, "s1").write_tool_result("c1", boost::json::value("rest")),
              "/workspace/sessions/s1/tool_result-c1.txt");
    EXPECT_TRUE(std::filesystem::exists(tmp.path() / "ws" / "sessions" / "s1" / "tool_result-c1.txt"));
}

TEST(BwrapWorkspace, TemporaryDirectoryIsRemovedWithTheWorkspace) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "ws");
    std::filesystem::create_directories(tmp.path() / "t");
    std::ofstream(tmp.path() / "t" / "x") << "x";
    { BwrapWorkspace ws("w", tmp.path() / "ws", tmp.path() / "t"); }
    EXPECT_FALSE(std::filesystem::exists(tmp.path() / "t"));
    EXPECT_TRUE(std::filesystem::exists(tmp.path() / "ws"));
}

TEST(BwrapWorkspace, ProbeFailsClearlyWithoutBwrap) {
    BwrapConfig config;
    config.bwrap = "/nonexistent/bwrap";
    try {
        probe_bwrap(config);
        FAIL() << "probe should throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("bubblewrap cannot create a sandbox on this host"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace agentd::workspace
