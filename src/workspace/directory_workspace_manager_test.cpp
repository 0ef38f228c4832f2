#include "workspace/directory_workspace_manager.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "common/blake2b.hpp"
#include "workspace/workspace_test_support.hpp"

namespace agentd::workspace {
namespace {

using testing::TempDir;

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

TEST(DirectoryWorkspaceManager, ParsesKinds) {
    EXPECT_EQ(parse_workspace_kind("local"), WorkspaceKind::kLocal);
    EXPECT_EQ(parse_workspace_kind("bwrap"), WorkspaceKind::kBwrap);
    EXPECT_EQ(parse_workspace_kind("docker"), std::nullopt);
}

TEST(DirectoryWorkspaceManager, DirectoryIsHashedUserAndWorkspace) {
    TempDir data;
    DirectoryWorkspaceManager manager(data.path(), WorkspaceKind::kLocal);
    EXPECT_EQ(manager.kind(), "local");
    auto expected = data.path() / "workspaces" / blake2b_hex("alice", 16) / blake2b_hex("ws-1", 16);
    EXPECT_EQ(manager.directory_of("alice", "ws-1"), expected);
    EXPECT_EQ(blake2b_hex("alice", 16).size(), 32u);
    auto ws = manager.get("alice", "agent", "ws-1");
    EXPECT_EQ(ws->id(), "ws-1");
    EXPECT_EQ(ws->host_dir(), std::filesystem::canonical(expected));
    EXPECT_EQ(ws->workdir(), std::filesystem::canonical(expected).string());
    EXPECT_EQ(mode_of(expected), 0700u);
    EXPECT_EQ(mode_of(expected.parent_path()), 0700u);
    EXPECT_EQ(mode_of(data.path() / "workspaces"), 0700u);
}

TEST(DirectoryWorkspaceManager, ExistingDirectoryIsMadePrivate) {
    TempDir data;
    DirectoryWorkspaceManager manager(data.path(), WorkspaceKind::kLocal);
    auto dir = manager.directory_of("u", "w");
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0755);
    manager.get("u", "a", "w");
    EXPECT_EQ(mode_of(dir), 0700u);
}

TEST(DirectoryWorkspaceManager, SameIdsGiveTheSameObject) {
    TempDir data;
    DirectoryWorkspaceManager manager(data.path(), WorkspaceKind::kLocal);
    auto a = manager.get("alice", "agent-1", "ws");
    auto b = manager.get("alice", "agent-2", "ws");  // the agent does not choose the directory
    EXPECT_EQ(a.get(), b.get());
    auto c = manager.get("alice", "agent-1", "ws-2");
    EXPECT_NE(a.get(), c.get());
    EXPECT_NE(a->host_dir(), c->host_dir());
}

TEST(DirectoryWorkspaceManager, UnusedWorkspacesBeyondTheCapAreDroppedLeastRecentFirst) {
    TempDir data;
    DirectoryWorkspaceManager manager(data.path(), WorkspaceKind::kLocal);
    auto held = manager.get("u", "a", "held");  // in use all along: never dropped
    std::weak_ptr<Workspace> oldest = manager.get("u", "a", "w0");
    const auto n = DirectoryWorkspaceManager::kMaxCached;
    std::weak_ptr<Workspace> newest;
    for (std::size_t i = 1; i <= n; ++i) newest = manager.get("u", "a", "w" + std::to_string(i));
    EXPECT_EQ(manager.cached(), n);
    EXPECT_TRUE(oldest.expired()) << "the least recently used object is dropped";
    EXPECT_FALSE(newest.expired()) << "recent ones stay cached";
    EXPECT_EQ(manager.get("u", "a", "held"), held);
    // A dropped workspace is rebuilt on the same directory, files intact.
    std::ofstream(manager.directory_of("u", "w0") / "kept.txt") << "x";
    auto again = manager.get("u", "a", "w0");
    EXPECT_EQ(again->host_dir(), manager.directory_of("u", "w0"));
    EXPECT_TRUE(std::filesystem::exists(again->host_dir() / "kept.txt"));
    EXPECT_EQ(manager.cached(), n);
}

TEST(DirectoryWorkspaceManager, DifferentUsersNeverShare) {
    TempDir data;
    DirectoryWorkspaceManager manager(data.path(), WorkspaceKind::kLocal);
    auto alice = manager.get("alice", "agent", "shared-id");
    auto bob = manager.get("bob", "agent", "shared-id");
    EXPECT_NE(alice.get(), bob.get());
    EXPECT_NE(alice->host_dir(), bob->host_dir());
    EXPECT_NE(alice->host_dir().parent_path(), bob->host_dir().parent_path());
}

TEST(DirectoryWorkspaceManager, ConcurrentFirstUseBuildsOnce) {
    TempDir data;
    DirectoryWorkspaceManager manager(data.path(), WorkspaceKind::kLocal);
    std::vector<std::shared_ptr<Workspace>> got(8);
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { got[i] = manager.get("u", "a", "w"); });
    for (auto& t : threads) t.join();
    for (const auto& w : got) EXPECT_EQ(w.get(), got.front().get());
}

TEST(DirectoryWorkspaceManager, BwrapWorkspacesGetAFreshPrivateTmp) {
    TempDir data;
    std::unique_ptr<DirectoryWorkspaceManager> manager;
    try {
        manager = std::make_unique<DirectoryWorkspaceManager>(data.path(), WorkspaceKind::kBwrap);
    } catch (const std::exception& e) {
        GTEST_SKIP() << e.what();
    }
    EXPECT_EQ(manager->kind(), "bwrap");
    auto ws = manager->get("u", "a", "w");
    EXPECT_EQ(ws->kind(), "bwrap");
    EXPECT_EQ(ws->workdir(), "/workspace");
    auto tmp = data.path() / "workspaces" / ".tmp" / (blake2b_hex("u", 16) + "-" + blake2b_hex("w", 16));
    EXPECT_TRUE(std::filesystem::is_directory(tmp));
    EXPECT_EQ(mode_of(tmp), 0700u);
}

}  // namespace
}  // namespace agentd::workspace
