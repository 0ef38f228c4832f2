#include "tool/builtin/bash_tool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <fstream>
#include <thread>

#include "workspace/directory_workspace_manager.hpp"
#include "workspace/workspace_test_support.hpp"

namespace agentd::tool {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using workspace::ExecResult;
using workspace::WorkspaceKind;

constexpr std::string_view kInterrupted =
    "<system-reminder>The tool call has been interrupted by the user.</system-reminder>";

struct Call {
    agent::ToolOutcome outcome;
    std::string streamed;
    double seconds = 0;
};

Call call(agent::Tool& tool, const bj::object& input, CancellationPtr cancel = nullptr) {
    domain::SessionState state;
    agent::ToolContext ctx{"session", state, std::move(cancel)};
    Call out;
    std::function<void(const agent::ToolChunk&)> emit = [&](const agent::ToolChunk& c) { out.streamed += c.text; };
    boost::asio::io_context io;
    auto start = std::chrono::steady_clock::now();
    auto future = boost::asio::co_spawn(io, tool.run(input, ctx, emit), boost::asio::use_future);
    io.run();
    out.outcome = future.get();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

std::string text_of(const Call& c) { return std::string(c.outcome.output.as_string()); }

long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0;
}

// --- pure formatting -------------------------------------------------------------

ExecResult exec_result(int code, std::string out, std::string err) {
    ExecResult r;
    r.exit_code = code;
    r.stdout_bytes = std::move(out);
    r.stderr_bytes = std::move(err);
    return r;
}

TEST(BashReply, Table) {
    struct Case {
        const char* name;
        ExecResult result;
        std::string text;
        bool error;
    };
    const Case cases[] = {
        {"stdout only", exec_result(0, "a\n", ""), "a\n", false},
        {"stderr only", exec_result(0, "", "b\n"), "b\n", false},
        {"both joined by a newline", exec_result(0, "a\n", "b\n"), "a\n\nb\n", false},
        {"empty", exec_result(0, "", ""), "", false},
        {"failure with both", exec_result(2, "a\n", "b\n"), "Command failed: cmd\n\nStdout:\na\n\nStderr:\nb\n", true},
        {"failure without output", exec_result(1, "", ""), "Command failed: cmd\n", true},
        {"failure stderr only", exec_result(-9, "", "x"), "Command failed: cmd\n\nStderr:\nx", true},
        {"spawn failure", exec_result(127, "", "[Errno 2] No such file or directory: '/bin/sh'"),
         "Command failed: cmd\n\nStderr:\n[Errno 2] No such file or directory: '/bin/sh'", true},
        {"timeout", exec_result(-1, "", "timed out"), "Command timed out after 1500ms: cmd", true},
        {"exit -1 without the marker is a failure", exec_result(-1, "", "boom"),
         "Command failed: cmd\n\nStderr:\nboom", true},
    };
    for (const auto& c : cases) {
        auto reply = bash_reply("cmd", 1500, c.result);
        EXPECT_EQ(reply.text, c.text) << c.name;
        EXPECT_EQ(reply.error, c.error) << c.name;
    }
}

TEST(BashReply, DecodesLikePythonReplace) {
    EXPECT_EQ(decode_command_output("a\r\nb\rc\r\n"), "a\nb\rc\n");
    EXPECT_EQ(decode_command_output("\xff" "x\xe2\x82"), "\xEF\xBF\xBD" "x\xEF\xBF\xBD");
    EXPECT_EQ(decode_command_output("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate: 3 subparts
    EXPECT_EQ(decode_command_output("\xf0\x9f\x98\x80 \xc3\xa9"), "\xf0\x9f\x98\x80 \xc3\xa9");
    EXPECT_EQ(decode_command_output("\xf0\x9f\x98"), "\xEF\xBF\xBD");
    EXPECT_EQ(decode_command_output("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(BashReply, CapsAtCodePoints) {
    EXPECT_EQ(cap_output("abc", 3), "abc");
    EXPECT_EQ(cap_output("abcd", 3), "abc\n... (output truncated)");
    EXPECT_EQ(cap_output("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xc3\xa9\n... (output truncated)");
    std::string long_text(30001, 'x');
    auto reply = bash_reply("c", 1, exec_result(0, long_text, ""));
    EXPECT_EQ(reply.text, std::string(30000, 'x') + "\n... (output truncated)");
    auto failed = bash_reply("c", 1, exec_result(1, long_text, ""));
    EXPECT_EQ(failed.text, ("Command failed: c\n\nStdout:\n" + long_text).substr(0, 30000) + "\n... (output truncated)");
}

// --- schema and permissions --------------------------------------------------------

TEST(BashTool, Schema) {
    BashTool tool(nullptr);
    const auto& s = tool.schema();
    EXPECT_EQ(s.name, "Bash");
    EXPECT_FALSE(s.description.empty());
    auto expected = bj::parse(R"({"type":"object","properties":{
        "command":{"type":"string","description":"The shell command to run."},
        "description":{"type":"string","description":"What the command does, in a few words (5-10 for simple commands; more context for complex ones)."},
        "timeout":{"type":"integer","description":"Timeout in milliseconds (default 120000, at most 600000).","default":120000,"maximum":600000,"minimum":0}},
        "required":["command"]})");
    EXPECT_EQ(bj::value(s.parameters), expected);
    EXPECT_FALSE(tool.concurrency_safe());
    EXPECT_FALSE(tool.read_only());
    EXPECT_EQ(tool.subject_name(), "Bash");
}

TEST(BashTool, PermissionHooksUseTheRulesAndTheWorkspace) {
    workspace::testing::TempDir data;
    workspace::DirectoryWorkspaceManager manager(data.path(), WorkspaceKind::kLocal);
    auto ws = manager.get("u", "a", "w");
    BashTool tool(ws);
    EXPECT_TRUE(tool.check_read_only(bj::object{{"command", "ls"}}));
    EXPECT_FALSE(tool.check_read_only(bj::object{{"command", "rm -rf x"}}));
    EXPECT_FALSE(tool.check_read_only(bj::object{}));
    permission::Context ctx;
    EXPECT_EQ(tool.check_permissions(bj::object{{"command", "ls"}}, ctx).behavior, permission::Behavior::kAllow);
    ctx.mode = permission::Mode::kAcceptEdits;
    ctx.working_directories = {ws->workdir()};
    // "sub" is relative: only the workspace as cwd puts it inside the working directory.
    EXPECT_EQ(tool.check_permissions(bj::object{{"command", "mkdir sub"}}, ctx).behavior,
              permission::Behavior::kAllow);
    ctx.working_directories = {"/nonexistent-elsewhere"};
    EXPECT_EQ(tool.check_permissions(bj::object{{"command", "mkdir sub"}}, ctx).behavior,
              permission::Behavior::kPassthrough);
    // `~` is the home commands really get (the server's, on the local backend), not the
    // workspace: writing there is outside the working directories.
    ctx.working_directories = {ws->workdir()};
    ASSERT_NE(ws->home(), ws->workdir());
    EXPECT_EQ(tool.check_permissions(bj::object{{"command", "touch ~/agentd-probe"}}, ctx).behavior,
              permission::Behavior::kPassthrough);
    EXPECT_EQ(tool.check_permissions(bj::object{{"command", "touch ./agentd-probe"}}, ctx).behavior,
              permission::Behavior::kAllow);
    EXPECT_TRUE(tool.match_rule("ls:*", bj::object{{"command", "ls -la"}}));
    EXPECT_FALSE(tool.match_rule("ls:*", bj::object{{"command", "rm x"}}));
    for (const auto& rule : tool.suggestions(bj::object{{"command", "npm test"}})) EXPECT_EQ(rule.tool_name, "Bash");
}

// --- execution, per backend --------------------------------------------------------

class BashOnBackend : public ::testing::TestWithParam<WorkspaceKind> {
protected:
    void SetUp() override {
        try {
            manager_ = std::make_unique<workspace::DirectoryWorkspaceManager>(data_.path(), GetParam());
        } catch (const std::exception& e) {
            GTEST_SKIP() << "backend unavailable here: " << e.what();
        }
        ws_ = manager_->get("alice", "agent", "ws");
        tool_ = std::make_unique<BashTool>(ws_);
    }
    Call bash(std::string command) { return call(*tool_, bj::object{{"command", std::move(command)}}); }

    workspace::testing::TempDir data_;
    std::unique_ptr<workspace::DirectoryWorkspaceManager> manager_;
    std::shared_ptr<workspace::Workspace> ws_;
    std::unique_ptr<BashTool> tool_;
};

TEST_P(BashOnBackend, SuccessStreamsAndReturnsTheOutput) {
    auto c = bash("echo a; echo b >&2");
    EXPECT_EQ(c.outcome.state, "success");
    EXPECT_EQ(text_of(c), "a\n\nb\n");
    EXPECT_EQ(c.streamed, "a\n\nb\n");
}

TEST_P(BashOnBackend, EmptyOutput) {
    auto c = bash("true");
    EXPECT_EQ(c.outcome.state, "success");
    EXPECT_EQ(text_of(c), "");
}

TEST_P(BashOnBackend, FailureText) {
    auto c = bash("echo a; echo b >&2; exit 3");
    EXPECT_EQ(c.outcome.state, "error");
    EXPECT_EQ(text_of(c), "Command failed: echo a; echo b >&2; exit 3\n\nStdout:\na\n\nStderr:\nb\n");
}

TEST_P(BashOnBackend, RunsStatelesslyInTheWorkdir) {
    EXPECT_EQ(text_of(bash("cd / && export AGENTD_X=1 && pwd")), "/\n");
    EXPECT_EQ(text_of(bash("pwd; echo \"[$AGENTD_X]\"")), ws_->workdir() + "\n[]\n");
}

TEST_P(BashOnBackend, OutputIsDecodedAndNormalised) {
    EXPECT_EQ(text_of(bash("printf 'a\\r\\nb\\rc\\377'")), "a\nb\rc\xEF\xBF\xBD");
}

TEST_P(BashOnBackend, Timeout) {
    auto c = call(*tool_, bj::object{{"command", "echo early; sleep 10"}, {"timeout", 300}});
    EXPECT_EQ(c.outcome.state, "error");
    EXPECT_EQ(text_of(c), "Command timed out after 300ms: echo early; sleep 10");
    EXPECT_LT(c.seconds, 3.0);
}

TEST_P(BashOnBackend, BackgroundProcessDoesNotHoldTheCall) {
    auto c = bash("sleep 100 & echo started");
    EXPECT_EQ(c.outcome.state, "success");
    EXPECT_EQ(text_of(c), "started\n");
    EXPECT_LT(c.seconds, 3.0);
}

TEST_P(BashOnBackend, GigabyteOfOutputIsCutAndMemoryStaysBounded) {
    long before = peak_rss_kib();
    auto c = bash("yes | head -c 1000000000");
    EXPECT_EQ(c.outcome.state, "success");
    EXPECT_EQ(text_of(c), [] {
        std::string s;
        for (int i = 0; i < 15000; ++i) s += "y\n";
        return s + "\n... (output truncated)";
    }());
    EXPECT_LT(c.seconds, 60.0);
    EXPECT_LT(peak_rss_kib() - before, 64 * 1024);
}

TEST_P(BashOnBackend, Interrupt) {
    auto cancel = std::make_shared<Cancellation>();
    std::thread canceller([cancel] {
        std::this_thread::sleep_for(300ms);
        cancel->request();
    });
    auto c = call(*tool_, bj::object{{"command", "sleep 30"}}, cancel);
    canceller.join();
    EXPECT_EQ(c.outcome.state, "interrupted");
    EXPECT_EQ(text_of(c), kInterrupted);
    EXPECT_LT(c.seconds, 3.0);
}

TEST_P(BashOnBackend, InputErrors) {
    struct Case {
        bj::object input;
        std::string text;
    };
    const Case cases[] = {
        {bj::object{{"command", "true"}, {"run_in_background", true}},
         "Bash.call() got an unexpected keyword argument 'run_in_background'"},
        {bj::object{}, "Input validation failed for tool 'Bash': 'command' is a required property"},
        {bj::object{{"command", 5}}, "Input validation failed for tool 'Bash': 5 is not of type 'string'"},
        {bj::object{{"command", "true"}, {"timeout", -1}},
         "Input validation failed for tool 'Bash': -1 is less than the minimum of 0"},
        {bj::object{{"command", "true"}, {"timeout", 600001}},
         "Input validation failed for tool 'Bash': 600001 is greater than the maximum of 600000"},
        {bj::object{{"command", "true"}, {"timeout", "10"}},
         "Input validation failed for tool 'Bash': \"10\" is not of type 'integer'"},
    };
    for (const auto& c : cases) {
        auto result = call(*tool_, c.input);
        EXPECT_EQ(result.outcome.state, "error");
        EXPECT_EQ(text_of(result), c.text);
    }
    auto ok = call(*tool_, bj::object{{"command", "echo ok"}, {"description", "say ok"}, {"timeout", 5000.0}});
    EXPECT_EQ(text_of(ok), "ok\n");
}

INSTANTIATE_TEST_SUITE_P(Kinds, BashOnBackend, ::testing::Values(WorkspaceKind::kLocal, WorkspaceKind::kBwrap),
                         [](const auto& info) { return info.param == WorkspaceKind::kLocal ? "local" : "bwrap"; });

TEST(BashTool, WithoutAWorkspaceUsesTheContextOne) {
    workspace::testing::TempDir dir;
    workspace::DirectoryWorkspaceManager manager(dir.path(), WorkspaceKind::kLocal);
    auto ws = manager.get("u", "a", "w");
    BashTool tool(nullptr);
    domain::SessionState state;
    agent::ToolContext ctx{"s", state, nullptr, ws.get()};
    std::function<void(const agent::ToolChunk&)> emit = [](const agent::ToolChunk&) {};
    const bj::object input{{"command", "pwd"}};  // run() keeps a reference until it finishes
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, tool.run(input, ctx, emit), boost::asio::use_future);
    io.run();
    EXPECT_EQ(std::string(future.get().output.as_string()), ws->workdir() + "\n");
}

}  // namespace
}  // namespace agentd::tool
