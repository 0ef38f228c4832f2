#include "service/workspace_service.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/json.hpp"
#include "service/workspace_test_support.hpp"

namespace agentd::service {
namespace {

using namespace std::string_literals;
namespace bj = boost::json;
namespace fs = std::filesystem;
using testing::WorkspaceFixture;
using testing::write_file;

/// Runs `f` and returns the agentd::Error it throws (a test failure when none).
template <typename F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an agentd::Error";
    return Error(ErrorCode::kInternal, "<no error>");
}

void set_mtime(const fs::path& p, std::int64_t sec, long nsec) {
    struct timespec times[2] = {{sec, nsec}, {sec, nsec}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
}

std::vector<std::string> names(const DirectoryListing& l) {
    std::vector<std::string> out;
    for (const auto& e : l.entries) out.push_back(e.name);
    return out;
}

const DirectoryEntry& entry(const DirectoryListing& l, const std::string& name) {
    for (const auto& e : l.entries)
        if (e.name == name) return e;
    throw std::runtime_error("no entry " + name);
}

boost::asio::awaitable<void> collect_pieces(http::StreamBody* body, std::vector<std::size_t>* sizes,
                                           std::string* got) {
    for (;;) {
        auto next = body->next();
        auto piece = co_await std::move(next);
        if (!piece) co_return;
        sizes->push_back(piece->size());
        *got += *piece;
    }
}

class WorkspaceServiceTest : public WorkspaceFixture {
protected:
    WorkspaceServiceTest() {
        // Links the agent could plant: inside the workspace, and out of it.
        fs::create_directory_symlink("reports", host_ / "link_to_reports");
        fs::create_symlink(host_ / "notes.txt", host_ / "absolute_link.txt");  // absolute, but inside
        fs::create_directory_symlink(outside_, host_ / "escape");
        fs::create_symlink("../outside/secret.txt", host_ / "leak.txt");
        fs::create_symlink("missing-target", host_ / "dangling");
    }

    DirectoryListing list(const std::string& path) { return WorkspaceService::list_directory(*ws_, path); }
    FileDownload open(const std::string& path) { return WorkspaceService::open_file(*ws_, path, pool_.get_executor()); }
};

// ---- directories ---------------------------------------------------------------------------

TEST_F(WorkspaceServiceTest, ListsTheRootSortedWithAgentVisiblePath) {
    set_mtime(host_ / "notes.txt", 1700000000, 500000000);
    set_mtime(host_ / "subdir", 1717300000, 0);
    auto l = list("");
    EXPECT_EQ(l.path, "/workspace");
    EXPECT_EQ(names(l), (std::vector<std::string>{"absolute_link.txt", "dangling", "escape", "leak.txt",
                                                  "link_to_reports", "notes.txt", "reports", "subdir"}));
    const auto& notes = entry(l, "notes.txt");
    EXPECT_FALSE(notes.is_dir);
    EXPECT_EQ(notes.size_bytes, 11u);
    EXPECT_EQ(notes.updated_at, 1700000000.5);
    const auto& subdir = entry(l, "subdir");
    EXPECT_TRUE(subdir.is_dir);
    EXPECT_FALSE(subdir.size_bytes.has_value());
    EXPECT_EQ(subdir.updated_at, 1717300000.0);
}

TEST_F(WorkspaceServiceTest, SymlinksAreFollowedOnlyInsideTheWorkspace) {
    set_mtime(host_ / "notes.txt", 1700000000, 0);
    auto l = list("");
    EXPECT_TRUE(entry(l, "link_to_reports").is_dir);
    EXPECT_FALSE(entry(l, "link_to_reports").size_bytes.has_value());
    EXPECT_EQ(entry(l, "absolute_link.txt").size_bytes, 11u);
    EXPECT_EQ(entry(l, "absolute_link.txt").updated_at, 1700000000.0);
    // Escaping and dangling links read alike: no type, size or time from the host.
    for (const char* name : {"escape", "leak.txt", "dangling"}) {
        const auto& e = entry(l, name);
        EXPECT_FALSE(e.is_dir) << name;
        EXPECT_FALSE(e.size_bytes.has_value()) << name;
        EXPECT_FALSE(e.updated_at.has_value()) << name;
    }
}

TEST_F(WorkspaceServiceTest, PathSpellingsOfTheSameDirectory) {
    for (const char* path : {"reports", "reports/", "./reports", "/workspace/reports", "subdir/../reports"}) {
        auto l = list(path);
        EXPECT_EQ(l.path, "/workspace/reports") << path;
        EXPECT_EQ(names(l), std::vector<std::string>{"q3.md"}) << path;
    }
    // A linked folder is listed under the name it was asked by (the reference's normpath).
    auto linked = list("link_to_reports/");
    EXPECT_EQ(linked.path, "/workspace/link_to_reports");
    EXPECT_EQ(names(linked), std::vector<std::string>{"q3.md"});
    EXPECT_EQ(list(".").path, "/workspace");
    EXPECT_EQ(list("/workspace").path, "/workspace");
}

TEST_F(WorkspaceServiceTest, RefusedPathsAnswerLikeMissingOnes) {
    const std::string outside_host = outside_.string();
    for (const std::string& path : {std::string("missing"), std::string("../outside"), std::string("/workspace/../outside"),
                                    std::string("/"), std::string("/etc"), outside_host, std::string("escape"),
                                    std::string("escape/"), std::string("dangling"), std::string("a\0b", 3)}) {
        auto e = error_of([&] { list(path); });
        EXPECT_EQ(e.code(), ErrorCode::kNotFound) << path;
        EXPECT_EQ(e.detail(), "Directory not found.") << path;
    }
}

TEST_F(WorkspaceServiceTest, ListingAFileIs400) {
    for (const char* path : {"notes.txt", "absolute_link.txt"}) {
        auto e = error_of([&] { list(path); });
        EXPECT_EQ(e.code(), ErrorCode::kBadRequest) << path;
        EXPECT_EQ(e.detail(), "Requested path is a file, not a directory.");
    }
}

TEST_F(WorkspaceServiceTest, ListingJson) {
    set_mtime(host_ / "reports" / "q3.md", 1717400000, 500000000);
    write_file(host_ / "reports" / "img" / "a.png", "x");
    set_mtime(host_ / "reports" / "img", 1717300000, 0);
    EXPECT_EQ(json::write(to_json(list("reports"))),
              R"({"path":"/workspace/reports","entries":[)"
              R"({"name":"img","is_dir":true,"size_bytes":null,"updated_at":1717300000.0},)"
              R"({"name":"q3.md","is_dir":false,"size_bytes":5,"updated_at":1717400000.5}]})");
}

TEST_F(WorkspaceServiceTest, NonUtf8NamesAreReplaced) {
    write_file(host_ / "bin" / "caf\xE9.txt", "x");
    EXPECT_EQ(names(list("bin")), std::vector<std::string>{"caf\xEF\xBF\xBD.txt"});
}

// ---- files ---------------------------------------------------------------------------------

TEST_F(WorkspaceServiceTest, OpensAndStreamsAFile) {
    auto f = open("notes.txt");
    EXPECT_EQ(f.size, 11u);
    EXPECT_EQ(f.basename, "notes.txt");
    EXPECT_EQ(f.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(drain(*f.body), "hello world");

    auto md = open("/workspace/reports/q3.md");
    EXPECT_EQ(md.content_type, "text/markdown; charset=utf-8");
    EXPECT_EQ(md.basename, "q3.md");
    EXPECT_EQ(drain(*md.body), "# Q3\n");
}

TEST_F(WorkspaceServiceTest, BasenameAndTypeComeFromTheRequestedName) {
    auto f = open("absolute_link.txt");
    EXPECT_EQ(f.basename, "absolute_link.txt");
    EXPECT_EQ(drain(*f.body), "hello world");
    write_file(host_ / "data.xyz", "\x01\x02");
    EXPECT_EQ(open("data.xyz").content_type, "application/octet-stream");
    EXPECT_EQ(open("reports/../notes.txt").basename, "notes.txt");
}

TEST_F(WorkspaceServiceTest, StreamsLargeFilesInChunks) {
    std::string big;
    for (int i = 0; big.size() < 700 * 1024; ++i) big += std::to_string(i) + ",";
    write_file(host_ / "big.csv", big);
    auto f = open("big.csv");
    EXPECT_EQ(f.size, big.size());
    boost::asio::io_context io;
    std::vector<std::size_t> sizes;
    std::string got;
    boost::asio::co_spawn(io, collect_pieces(f.body.get(), &sizes, &got), boost::asio::detached);
    io.run();
    EXPECT_EQ(got, big);
    ASSERT_EQ(sizes.size(), 3u);  // 256 KiB chunks
    EXPECT_EQ(sizes[0], 256u * 1024);
}

TEST_F(WorkspaceServiceTest, RefusedFilesAnswerLikeMissingOnes) {
    ASSERT_EQ(::mkfifo((host_ / "pipe").c_str(), 0600), 0);
    const std::string outside_host = (outside_ / "secret.txt").string();
    for (const std::string& path : {std::string("missing.txt"), std::string("../outside/secret.txt"),
                                    std::string("/workspace/../outside/secret.txt"), outside_host,
                                    std::string("leak.txt"), std::string("escape/secret.txt"), std::string("dangling"),
                                    std::string("/etc/passwd"), std::string("pipe")}) {
        auto e = error_of([&] { open(path); });
        EXPECT_EQ(e.code(), ErrorCode::kNotFound) << path;
        EXPECT_EQ(e.detail(), "File not found.") << path;
    }
}

TEST_F(WorkspaceServiceTest, OpeningADirectoryIs400) {
    for (const char* path : {"", "subdir", "link_to_reports", "/workspace", "reports/"}) {
        auto e = error_of([&] { open(path); });
        EXPECT_EQ(e.code(), ErrorCode::kBadRequest) << path;
        EXPECT_EQ(e.detail(), "Requested path is a directory, not a file.");
    }
}

TEST(ContentType, PythonMimetypesGuesses) {
    const std::pair<const char*, const char*> cases[] = {
        {"a.txt", "text/plain; charset=utf-8"},
        {"A.TXT", "text/plain; charset=utf-8"},
        {"q3.md", "text/markdown; charset=utf-8"},
        {"page.html", "text/html; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"x.py", "text/x-python; charset=utf-8"},
        {"data.json", "application/json"},
        {"doc.pdf", "application/pdf"},
        {"img.PNG", "image/png"},
        {"photo.jpeg", "image/jpeg"},
        {"logo.svg", "image/svg+xml"},
        {"a.tar.gz", "application/x-tar"},
        {"a.tgz", "application/x-tar"},
        {"a.gz", "application/octet-stream"},
        {"a.zip", "application/zip"},
        {"Makefile", "application/octet-stream"},
        {".bashrc", "application/octet-stream"},
        {"..txt", "application/octet-stream"},
        {"archive.", "application/octet-stream"},
        {"download", "application/octet-stream"},
    };
    for (const auto& [name, type] : cases) EXPECT_EQ(guess_content_type(name), type) << name;
}

TEST(ContentDisposition, PercentEncodesLikeUrllibQuote) {
    EXPECT_EQ(content_disposition("q3.md"), "attachment; filename*=UTF-8''q3.md");
    EXPECT_EQ(content_disposition("my report é (1).pdf"),
              "attachment; filename*=UTF-8''my%20report%20%C3%A9%20%281%29.pdf");
    EXPECT_EQ(content_disposition("a~b_c-d;e\"f"), "attachment; filename*=UTF-8''a~b_c-d%3Be%22f");
}

// ---- session resolution, status, tokens ------------------------------------------------------

TEST_F(WorkspaceServiceTest, ResolvesTheSessionsWorkspace) {
    auto r = service_.resolve("alice", "agent-1", "s1");
    EXPECT_EQ(r.session.id, "s1");
    EXPECT_EQ(r.workspace.get(), ws_.get());
    EXPECT_EQ(manager_.calls, std::vector<std::string>{"alice|agent-1|ws-1"});
}

TEST_F(WorkspaceServiceTest, UnknownSessionWrongAgentOrOtherUserIs404) {
    add_session("alice", "agent-1", "it's", bj::object{{"workspace_id", "ws-1"}});
    struct Case {
        const char *user, *agent, *session, *detail;
    };
    const Case cases[] = {
        {"alice", "agent-1", "s9", "Session 's9' not found."},
        {"alice", "agent-2", "s1", "Session 's1' not found."},
        {"bob", "agent-1", "s1", "Session 's1' not found."},
        {"alice", "agent-2", "it's", "Session \"it's\" not found."},
    };
    for (const auto& c : cases) {
        auto e = error_of([&] { service_.list_directory(c.user, c.agent, c.session, ""); });
        EXPECT_EQ(e.code(), ErrorCode::kNotFound) << c.session;
        EXPECT_EQ(e.detail(), c.detail);
    }
    EXPECT_TRUE(manager_.calls.empty());
}

TEST_F(WorkspaceServiceTest, StatusWithoutCwdIsTheRootAndNoRepositoryIsNullGit) {
    auto s = service_.status("alice", "agent-1", "s1");
    EXPECT_EQ(json::write(to_json(s)), R"({"workdir":"/workspace","cwd":"/workspace","git":null})");
    ASSERT_EQ(ws_->requests.size(), 1u);  // exit 127 from the fake: no diff after it
    EXPECT_EQ(ws_->requests[0].cwd, "/workspace");
}

TEST_F(WorkspaceServiceTest, StatusRunsGitInTheSessionsCwd) {
    add_session("alice", "agent-1", "s2", bj::object{{"workspace_id", "ws-1"}, {"cwd", "reports"}});
    workspace::ExecResult st;
    st.stdout_bytes = "# branch.oid 9fceb02d0ae598e95dc970b74767f19372d61af8\0# branch.head main\0"
                      "# branch.ab +1 -0\0? new.txt\0"s;
    workspace::ExecResult diff;
    diff.stdout_bytes = " 1 file changed, 12 insertions(+), 3 deletions(-)\n";
    ws_->script = {st, diff};
    auto s = service_.status("alice", "agent-1", "s2");
    EXPECT_EQ(json::write(to_json(s)),
              R"({"workdir":"/workspace","cwd":"/workspace/reports","git":{"branch":"main",)"
              R"("head":"9fceb02d0ae598e95dc970b74767f19372d61af8","ahead":1,"behind":0,"insertions":12,)"
              R"("deletions":3,"staged":0,"unstaged":0,"untracked":1,"conflicted":0}})");
    ASSERT_EQ(ws_->requests.size(), 2u);
    EXPECT_EQ(ws_->requests[0].cwd, "/workspace/reports");
    EXPECT_EQ(ws_->requests[1].cwd, "/workspace/reports");
}

TEST_F(WorkspaceServiceTest, ALinkedCwdIsReportedUnderItsOwnName) {
    add_session("alice", "agent-1", "s5", bj::object{{"workspace_id", "ws-1"}, {"cwd", "./link_to_reports/"}});
    ws_->script = {workspace::ExecResult{}, workspace::ExecResult{}};
    auto s = service_.status("alice", "agent-1", "s5");
    EXPECT_EQ(s.cwd, "/workspace/link_to_reports");
    ASSERT_FALSE(ws_->requests.empty());
    EXPECT_EQ(ws_->requests[0].cwd, "/workspace/link_to_reports");
}

TEST_F(WorkspaceServiceTest, CwdOutsideTheWorkspaceIsReportedButNotInspected) {
    add_session("alice", "agent-1", "s3", bj::object{{"workspace_id", "ws-1"}, {"cwd", "/etc/"}});
    add_session("alice", "agent-1", "s4", bj::object{{"workspace_id", "ws-1"}, {"cwd", "../outside"}});
    EXPECT_EQ(json::write(to_json(service_.status("alice", "agent-1", "s3"))),
              R"({"workdir":"/workspace","cwd":"/etc","git":null})");
    EXPECT_EQ(json::write(to_json(service_.status("alice", "agent-1", "s4"))),
              R"({"workdir":"/workspace","cwd":"/outside","git":null})");
    EXPECT_TRUE(ws_->requests.empty());
}

TEST_F(WorkspaceServiceTest, StatusOfAMissingSessionIs404) {
    auto e = error_of([&] { service_.status("alice", "agent-1", "nope"); });
    EXPECT_EQ(e.detail(), "Session 'nope' not found.");
}

TEST_F(WorkspaceServiceTest, MintedTokensVerifyForTheirPathOnly) {
    auto t = service_.mint_download_token("alice", "agent-1", "s1", "reports/q3.md");
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_GE(t.expires_at, now + 59);
    EXPECT_LE(t.expires_at, now + 60);
    EXPECT_EQ(service_.verify_download_token(t.token, "reports/q3.md"), "alice");
    // The configured secret is the key: a token signed with it elsewhere verifies here.
    auto elsewhere = sign_download_token("fixed-secret", "carol", "x", now);
    EXPECT_EQ(service_.verify_download_token(elsewhere.token, "x"), "carol");
    auto e = error_of([&] { service_.verify_download_token(t.token, "notes.txt"); });
    EXPECT_EQ(e.code(), ErrorCode::kUnauthorized);
    EXPECT_EQ(e.detail(), "Invalid download token.");
    auto missing = error_of([&] { service_.mint_download_token("alice", "agent-1", "s9", "x"); });
    EXPECT_EQ(missing.detail(), "Session 's9' not found.");
}

TEST_F(WorkspaceServiceTest, OpenFileThroughTheSession) {
    auto f = service_.open_file("alice", "agent-1", "s1", "notes.txt");
    EXPECT_EQ(drain(*f.body), "hello world");
    auto e = error_of([&] { service_.open_file("bob", "agent-1", "s1", "notes.txt"); });
    EXPECT_EQ(e.detail(), "Session 's1' not found.");
}

}  // namespace
}  // namespace agentd::service
