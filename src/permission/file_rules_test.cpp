#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "permission/tool_rules.hpp"

namespace agentd::permission {
namespace {

namespace fs = std::filesystem;

TEST(PathGlob, Table) {
    struct Case {
        const char* pattern;
        const char* path;
        bool matches;
    };
    const Case cases[] = {
        {"src/**", "src/main.py", true}, {"src/*", "src/a/b/c.py", true},  // '*' spans '/'
        {"*.py", "/abs/dir/x.py", true}, {"*.py", "x.pyc", false}, {"/a/**", "/a/b", true},
        {"/a/**", "/ab", false}, {"?.txt", "a.txt", true}, {"?.txt", "ab.txt", false},
        {"[abc].txt", "b.txt", true}, {"[!abc].txt", "b.txt", false}, {"[a-c]x", "cx", true},
        {"[]]x", "]x", true}, {"[x", "[x", true}, {"**", "", true}, {"", "", true},
        {"", "a", false}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false},
        {"*", "anything/at/all", true}, {"SRC/*", "src/a", false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(path_glob_matches(c.pattern, c.path), c.matches) << c.pattern << " vs " << c.path;
    // Pathological patterns stay polynomial.
    const std::string text(4000, 'a');
    EXPECT_FALSE(path_glob_matches("*a*a*a*a*a*a*a*a*b", text));
}

TEST(DangerousPath, Table) {
    const std::pair<const char*, bool> cases[] = {
        {"/home/u/.bashrc", true}, {"~/.BASHRC", true}, {".env", true}, {"app/.env.local", true},
        {"/repo/.git/config", true}, {".git", true}, {"a/.vscode/settings.json", true},
        {"~/.ssh/id_rsa", true}, {"x/.idea/", true}, {"/home/u/.ssh/config", true},
        {"/repo/src/main.py", false}, {".environment", false}, {"git/config", false},
        {"my.bashrc.bak", false}, {"", false}, {".gitignore", false},
    };
    for (const auto& [path, dangerous] : cases) EXPECT_EQ(is_dangerous_path(path), dangerous) << path;
}

TEST(PathSuggestions, Table) {
    const std::pair<const char*, const char*> cases[] = {
        {"/src/main.py", "/src/**"}, {"src/a/b.txt", "src/a/**"}, {"main.py", "**"},
        {"/main.py", "/**"}, {"a//b", "a/**"},
    };
    for (const auto& [path, rule] : cases) {
        const auto rules = path_suggestions("Write", path);
        ASSERT_EQ(rules.size(), 1u);
        EXPECT_EQ(rules[0].tool_name, "Write");
        EXPECT_EQ(rules[0].rule_content, rule) << path;
        EXPECT_EQ(rules[0].behavior, Behavior::kAllow);
        EXPECT_EQ(rules[0].source, "suggested");
    }
    EXPECT_TRUE(path_suggestions("Write", "").empty());
}

class WorkingDirectoryTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("agentd-perm-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        fs::create_directories(root_ / "work" / "sub");
        fs::create_directories(root_ / "outside");
        fs::create_directory_symlink(root_ / "outside", root_ / "work" / "escape");
        fs::create_directory_symlink(root_ / "work", root_ / "alias");
        ctx_.working_directories = {(root_ / "work").string()};
        env_ = PathEnvironment{(root_ / "work").string(), (root_ / "home").string()};
    }
    void TearDown() override { fs::remove_all(root_); }

    fs::path root_;
    Context ctx_;
    PathEnvironment env_;
};

TEST_F(WorkingDirectoryTest, ResolvesRelativeTildeAndSymlinks) {
    const std::string r = root_.string();
    const std::pair<std::string, bool> cases[] = {
        {"new.txt", true},
        {"sub/deeper/new.txt", true},
        {r + "/work", true},
        {r + "/work/", true},
        {r + "/workshop/x", false},
        {"../outside/x", false},
        {"sub/../../outside/x", false},
        {"escape/x", false},           // a symlink out of the working directory
        {r + "/alias/sub/x", true},    // a symlink into it
        {"~/x", false},
        {"/etc/passwd", false},
        {"", false},
    };
    for (const auto& [path, inside] : cases)
        EXPECT_EQ(in_working_directory(path, ctx_, env_), inside) << path;
    Context none;
    EXPECT_FALSE(in_working_directory("new.txt", none, env_));  // no implicit server cwd
    Context home;
    home.working_directories = {"~"};
    EXPECT_TRUE(in_working_directory("~/x", home, env_));
}

TEST_F(WorkingDirectoryTest, FileEditCheck) {
    struct Case {
        Mode mode;
        std::string path;
        Behavior behavior;
        bool bypass_immune;
    };
    const Case cases[] = {
        {Mode::kDefault, "a.txt", Behavior::kPassthrough, false},
        {Mode::kAcceptEdits, "a.txt", Behavior::kAllow, false},
        {Mode::kDontAsk, "sub/a.txt", Behavior::kAllow, false},
        {Mode::kAcceptEdits, "/etc/hosts", Behavior::kPassthrough, false},
        {Mode::kExplore, "a.txt", Behavior::kPassthrough, false},
        {Mode::kBypass, "a.txt", Behavior::kPassthrough, false},
        {Mode::kAcceptEdits, ".env", Behavior::kAsk, true},
        {Mode::kDefault, ".git/config", Behavior::kAsk, true},
        {Mode::kBypass, "~/.bashrc", Behavior::kAsk, true},
        {Mode::kDefault, "", Behavior::kPassthrough, false},
    };
    for (const auto& c : cases) {
        ctx_.mode = c.mode;
        const Decision d = file_edit_check(c.path, ctx_, env_);
        EXPECT_EQ(d.behavior, c.behavior) << c.path << " " << to_string(c.mode);
        EXPECT_EQ(d.bypass_immune, c.bypass_immune) << c.path;
    }
    // A harmless name that is a symlink to a dangerous file is dangerous.
    std::ofstream(root_ / "work" / ".bashrc") << "x";
    fs::create_symlink(root_ / "work" / ".bashrc", root_ / "work" / "innocent");
    ctx_.mode = Mode::kAcceptEdits;
    EXPECT_TRUE(file_edit_check("innocent", ctx_, env_).bypass_immune);
}

}  // namespace
}  // namespace agentd::permission
