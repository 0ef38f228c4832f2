#include "service/git_status.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <deque>
#include <stdexcept>

#include "common/json.hpp"

namespace agentd::service {
namespace {

using namespace std::string_literals;

// A realistic mode/blob run; the parser reads only the XY field.
constexpr std::string_view kTrailer = "N... 100644 100644 100644 1111111 2222222";

/// Records joined the way -z writes them: NUL-separated and NUL-terminated.
std::string records(std::initializer_list<std::string> items) {
    std::string out;
    for (const auto& r : items) {
        out += r;
        out.push_back('\0');
    }
    return out;
}

std::string with_trailer(std::string_view head, std::string_view path) {
    return std::string(head) + " " + std::string(kTrailer) + " " + std::string(path);
}

TEST(ParsePorcelainV2, CleanTreeWithUpstreamReportsZeroesNotNulls) {
    auto s = parse_porcelain_v2(records(
        {"# branch.oid abc123def456", "# branch.head main", "# branch.upstream origin/main", "# branch.ab +0 -0"}));
    EXPECT_EQ(s.branch, "main");
    EXPECT_EQ(s.head, "abc123def456");
    EXPECT_EQ(s.ahead, 0);
    EXPECT_EQ(s.behind, 0);
    EXPECT_EQ(s.staged, 0);
    EXPECT_EQ(s.unstaged, 0);
}

TEST(ParsePorcelainV2, NoUpstreamLeavesAheadBehindNull) {
    auto s = parse_porcelain_v2(records({"# branch.oid abc123", "# branch.head feature/x"}));
    EXPECT_EQ(s.branch, "feature/x");
    EXPECT_FALSE(s.ahead.has_value());
    EXPECT_FALSE(s.behind.has_value());
}

TEST(ParsePorcelainV2, AheadAndBehindAreSeparateCounts) {
    auto s = parse_porcelain_v2(records({"# branch.oid abc123", "# branch.head main", "# branch.ab +2 -3"}));
    EXPECT_EQ(s.ahead, 2);
    EXPECT_EQ(s.behind, 3);
}

TEST(ParsePorcelainV2, MalformedAheadBehindIsIgnored) {
    for (const char* ab : {"# branch.ab 2 -3", "# branch.ab +2 3", "# branch.ab +x -3", "# branch.ab +2 -3 x",
                           "# branch.ab +2"}) {
        auto s = parse_porcelain_v2(records({"# branch.head main", ab}));
        EXPECT_FALSE(s.ahead.has_value()) << ab;
        EXPECT_FALSE(s.behind.has_value()) << ab;
    }
}

TEST(ParsePorcelainV2, DetachedHeadHasNoBranch) {
    auto s = parse_porcelain_v2(records({"# branch.oid deadbeef", "# branch.head (detached)"}));
    EXPECT_FALSE(s.branch.has_value());
    EXPECT_EQ(s.head, "deadbeef");
}

TEST(ParsePorcelainV2, UnbornBranchHasNoHead) {
    auto s = parse_porcelain_v2(records({"# branch.oid (initial)", "# branch.head main"}));
    EXPECT_EQ(s.branch, "main");
    EXPECT_FALSE(s.head.has_value());
}

// Table: one record, the counts it must produce.
struct CountCase {
    const char* name;
    std::string output;
    std::int64_t staged, unstaged, untracked, conflicted;
};

TEST(ParsePorcelainV2, Counts) {
    const std::vector<CountCase> cases = {
        {"worktree change is unstaged only", records({with_trailer("1 .M", "a.py")}), 0, 1, 0, 0},
        {"index change is staged only", records({with_trailer("1 M.", "a.py")}), 1, 0, 0, 0},
        {"MM counts on both sides", records({with_trailer("1 MM", "a.py")}), 1, 1, 0, 0},
        // The old path "? old.py" must be consumed with its rename record, not read as untracked.
        {"rename consumes its original path",
         records({with_trailer("2 R.", "R100 new.py"), "? old.py", with_trailer("1 .M", "b.py")}), 1, 1, 0, 0},
        {"unmerged is conflicted only", records({"u UU N... 100644 100644 100644 100644 a b c x.py"}), 0, 0, 0, 1},
        {"untracked files and collapsed dirs", records({"? notes.md", "? scratch/"}), 0, 0, 2, 0},
        {"spaces and newlines in paths", records({with_trailer("1 .M", "my docs/a b.py"), "? line\nbreak.txt"}), 0,
         1, 1, 0},
        {"unknown record types skipped", records({"! ignored.txt", "x whatever", with_trailer("1 .M", "a.py")}), 0, 1,
         0, 0},
        {"truncated final record dropped", records({with_trailer("1 .M", "a.py")}) + "1 M", 0, 1, 0, 0},
        {"empty output", "", 0, 0, 0, 0},
    };
    for (const auto& c : cases) {
        auto s = parse_porcelain_v2(c.output);
        EXPECT_EQ(s.staged, c.staged) << c.name;
        EXPECT_EQ(s.unstaged, c.unstaged) << c.name;
        EXPECT_EQ(s.untracked, c.untracked) << c.name;
        EXPECT_EQ(s.conflicted, c.conflicted) << c.name;
        EXPECT_EQ(s.insertions, 0) << c.name;
        EXPECT_EQ(s.deletions, 0) << c.name;
    }
}

TEST(ParsePorcelainV2, EmptyOutputHasNoBranch) {
    auto s = parse_porcelain_v2("");
    EXPECT_FALSE(s.branch.has_value());
    EXPECT_FALSE(s.head.has_value());
}

TEST(ParsePorcelainV2, InvalidUtf8BranchIsReplaced) {
    auto s = parse_porcelain_v2(records({"# branch.head caf\xE9"}));
    EXPECT_EQ(s.branch, "caf\xEF\xBF\xBD");
}

TEST(ParseShortstat, Cases) {
    struct Case {
        std::string_view text;
        std::int64_t insertions, deletions;
    };
    const Case cases[] = {
        {" 20 files changed, 621 insertions(+), 182 deletions(-)\n", 621, 182},
        {" 1 file changed, 3 insertions(+)\n", 3, 0},
        {" 1 file changed, 4 deletions(-)\n", 0, 4},
        {" 1 file changed, 1 insertion(+), 1 deletion(-)\n", 1, 1},
        {"", 0, 0},
        {"fatal: bad revision 'HEAD'", 0, 0},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(parse_shortstat(c.text), std::make_pair(c.insertions, c.deletions)) << c.text;
    }
}

TEST(GitStatusJson, FieldsInReferenceOrder) {
    GitStatus s;
    s.branch = "main";
    s.head = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    s.ahead = 1;
    s.behind = 0;
    s.insertions = 12;
    s.deletions = 3;
    s.staged = 1;
    s.unstaged = 2;
    s.untracked = 4;
    EXPECT_EQ(json::write(to_json(s)),
              R"({"branch":"main","head":"9fceb02d0ae598e95dc970b74767f19372d61af8","ahead":1,"behind":0,)"
              R"("insertions":12,"deletions":3,"staged":1,"unstaged":2,"untracked":4,"conflicted":0})");
    EXPECT_EQ(json::write(to_json(GitStatus{})),
              R"({"branch":null,"head":null,"ahead":null,"behind":null,"insertions":0,"deletions":0,)"
              R"("staged":0,"unstaged":0,"untracked":0,"conflicted":0})");
}

TEST(LossyUtf8, ReplacesEachMaximalInvalidSubpart) {
    EXPECT_EQ(lossy_utf8("plain"), "plain");
    EXPECT_EQ(lossy_utf8("h\xC3\xA9"), "h\xC3\xA9");                        // valid 2-byte
    EXPECT_EQ(lossy_utf8("\xFF"), "\xEF\xBF\xBD");                          // invalid lead
    EXPECT_EQ(lossy_utf8("\xE2\x82"), "\xEF\xBF\xBD");                      // truncated 3-byte: one
    EXPECT_EQ(lossy_utf8("\xE2\x82x"), "\xEF\xBF\xBDx");
    EXPECT_EQ(lossy_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong: two
    EXPECT_EQ(lossy_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    EXPECT_EQ(lossy_utf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");          // emoji
}

/// A workspace whose exec answers from a script of canned results.
class ScriptedWorkspace final : public workspace::Workspace {
public:
    struct Step {
        workspace::ExecResult result;
        bool throws = false;
    };
    ScriptedWorkspace() : Workspace("ws", "/workspace", "/nonexistent-host-dir") {}

    std::string_view kind() const override { return "local"; }
    boost::asio::awaitable<workspace::ExecResult> exec(workspace::ExecRequest request) override {
        requests.push_back(request);
        if (script.empty()) throw std::runtime_error("unexpected exec");
        Step step = script.front();
        script.pop_front();
        if (step.throws) throw std::runtime_error("transport down");
        co_return step.result;
    }

    std::deque<Step> script;
    std::vector<workspace::ExecRequest> requests;
};

workspace::ExecResult ok(std::string out) {
    workspace::ExecResult r;
    r.stdout_bytes = std::move(out);
    return r;
}

workspace::ExecResult failed(int code) {
    workspace::ExecResult r;
    r.exit_code = code;
    return r;
}

std::optional<GitStatus> run_read(std::shared_ptr<ScriptedWorkspace> ws, const std::string& cwd) {
    boost::asio::io_context io;
    auto done = boost::asio::co_spawn(io, read_git_status(ws, cwd), boost::asio::use_future);
    io.run();
    return done.get();
}

class ReadGitStatusTest : public ::testing::Test {
protected:
    std::shared_ptr<ScriptedWorkspace> ws_ = std::make_shared<ScriptedWorkspace>();
    const std::string status_out_ = records({"# branch.oid abc", "# branch.head main", "# branch.ab +2 -1",
                                             with_trailer("1 .M", "a.py"), "? new.txt"});
};

TEST_F(ReadGitStatusTest, ReportsBranchAndLineCountsFromBothCommands) {
    ws_->script = {{ok(status_out_)}, {ok(" 2 files changed, 15 insertions(+), 20 deletions(-)\n")}};
    auto s = run_read(ws_, "/workspace/sub");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->branch, "main");
    EXPECT_EQ(s->ahead, 2);
    EXPECT_EQ(s->behind, 1);
    EXPECT_EQ(s->unstaged, 1);
    EXPECT_EQ(s->untracked, 1);
    EXPECT_EQ(s->insertions, 15);
    EXPECT_EQ(s->deletions, 20);
    ASSERT_EQ(ws_->requests.size(), 2u);
    EXPECT_EQ(ws_->requests[0].argv,
              (std::vector<std::string>{"git", "--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z",
                                        "--untracked-files=normal", "--ignore-submodules=all"}));
    EXPECT_EQ(ws_->requests[1].argv,
              (std::vector<std::string>{"git", "--no-optional-locks", "diff", "--shortstat", "HEAD"}));
    for (const auto& r : ws_->requests) {
        EXPECT_EQ(r.cwd, "/workspace/sub");
        EXPECT_EQ(r.timeout, std::chrono::milliseconds(5000));
    }
}

TEST_F(ReadGitStatusTest, EveryStatusFailureIsNull) {
    workspace::ExecResult timed_out = failed(-1);
    timed_out.timed_out = true;
    timed_out.stderr_bytes = "timed out";
    const std::vector<ScriptedWorkspace::Step> failures = {
        {failed(128)},          // not a repository
        {failed(127)},          // no git binary
        {timed_out},            // timeout
        {ok(""), true},         // the backend throws
        {ok("garbage\0"s)},     // names neither branch nor head
    };
    for (const auto& step : failures) {
        auto ws = std::make_shared<ScriptedWorkspace>();
        ws->script = {step};
        EXPECT_FALSE(run_read(ws, "/workspace").has_value()) << step.result.exit_code;
        EXPECT_EQ(ws->requests.size(), 1u) << "the diff must not run after a failed status";
    }
}

TEST_F(ReadGitStatusTest, DiffFailureKeepsTheBranchWithZeroLines) {
    for (ScriptedWorkspace::Step diff : {ScriptedWorkspace::Step{failed(128)}, ScriptedWorkspace::Step{ok(""), true}}) {
        auto ws = std::make_shared<ScriptedWorkspace>();
        ws->script = {{ok(status_out_)}, diff};
        auto s = run_read(ws, "/workspace");
        ASSERT_TRUE(s.has_value());
        EXPECT_EQ(s->branch, "main");
        EXPECT_EQ(s->insertions, 0);
        EXPECT_EQ(s->deletions, 0);
    }
}

}  // namespace
}  // namespace agentd::service
