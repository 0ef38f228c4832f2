#include "workspace/context_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "domain/message.hpp"
#include "workspace/local/local_workspace.hpp"
#include "workspace/workspace_test_support.hpp"

namespace agentd::workspace {
namespace {

namespace bj = boost::json;

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// A local workspace in <tmp>/ws, beside <tmp>/outside, which it must never touch.
class ContextFilesTest : public ::testing::Test {
protected:
    ContextFilesTest() {
        fs::create_directories(tmp_.path() / "ws");
        fs::create_directories(tmp_.path() / "outside");
        ws_ = std::make_unique<LocalWorkspace>("w1", tmp_.path() / "ws");
    }
    fs::path host(const std::string& visible) const { return *ws_->resolve(visible).host; }
    fs::path outside() const { return tmp_.path() / "outside"; }

    testing::TempDir tmp_;
    std::unique_ptr<LocalWorkspace> ws_;
};

TEST_F(ContextFilesTest, CompressedMessagesAreAppendedOnePerLineWithPayloadsStoredApart) {
    ContextFiles files(*ws_, "s1");
    auto first = domain::user_msg("user", std::string_view("hello"));
    auto second = domain::user_msg("user", bj::array{domain::text_block("look"),
                                                     domain::data_block(domain::base64_source("aGk=", "image/png"), "hi.png")});
    std::string path = files.append_context({&first});
    EXPECT_EQ(path, ws_->workdir() + "/sessions/s1/context.jsonl");
    EXPECT_EQ(files.append_context({&second}), path);

    std::istringstream lines(slurp(host(path)));
    std::string line;
    std::vector<bj::object> read;
    while (std::getline(lines, line)) read.push_back(bj::parse(line).as_object());
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read[0], first);
    const auto& data = read[1].at("content").as_array().at(1).as_object();
    EXPECT_EQ(data.at("name"), "hi.png");
    const std::string url(data.at("source").at("url").as_string());
    // Named by the sha256 of the base64 text, as the reference names it.
    EXPECT_EQ(url, "workspace:///data/96e3186af2815065fbc894de1bdadda7830527fffdba6bdd709789cf0ee79a6a.png");
    EXPECT_EQ(slurp(host(ws_->workdir() + "/" + url.substr(std::string("workspace:///").size()))), "hi");
    // The message itself was not changed.
    EXPECT_EQ(second.at("content").as_array().at(1).at("source").at("type"), "base64");
}

TEST_F(ContextFilesTest, APayloadIsStoredOnceUnderItsDigest) {
    ContextFiles files(*ws_, "s1");
    auto block = domain::data_block(domain::base64_source("aGVsbG8=", "audio/wav"));
    auto a = files.store_data_block(block);
    auto b = files.store_data_block(block);
    EXPECT_EQ(a, b);
    const std::string url(a.at("source").at("url").as_string());
    EXPECT_EQ(url, "workspace:///data/333d6b3a3c1f5db6c9bdda5939b136986d170f4649172a68368d54ecb44c2ff2.wav");
    EXPECT_EQ(a.at("source").at("media_type"), "audio/wav");
    std::size_t files_in_data = 0;
    for (const auto& e : fs::directory_iterator(host(ws_->workdir() + "/data"))) {
        (void)e;
        ++files_in_data;
    }
    EXPECT_EQ(files_in_data, 1u);  // nothing partial left beside it
    // A URL block is already somewhere: unchanged, nothing written.
    auto linked = domain::data_block(domain::url_source("https://x.example/a.png", "image/png"));
    EXPECT_EQ(files.store_data_block(linked), linked);
    EXPECT_THROW(files.store_data_block(domain::data_block(domain::base64_source("***", "image/png"))),
                 std::runtime_error);
}

TEST_F(ContextFilesTest, ATruncatedResultIsPlainTextAndASecondOneOfTheSameIdGetsANewName) {
    ContextFiles files(*ws_, "s1");
    bj::array rest{domain::text_block("first part, "), domain::data_block(domain::url_source("https://x.example/p.png", "image/png"), "p.png"),
                   domain::text_block(" end")};
    std::string path = files.write_tool_result("call_1", rest);
    EXPECT_EQ(path, ws_->workdir() + "/sessions/s1/tool_result-call_1.txt");
    EXPECT_EQ(slurp(host(path)),
              "first part, <data url='https://x.example/p.png' name='p.png' media_type='image/png'/> end");
    EXPECT_EQ(files.write_tool_result("call_1", bj::value("again")), ws_->workdir() + "/sessions/s1/tool_result-call_1(1).txt");
    EXPECT_EQ(files.write_tool_result("call_1", bj::value("and again")),
              ws_->workdir() + "/sessions/s1/tool_result-call_1(2).txt");
    EXPECT_EQ(slurp(host(ws_->workdir() + "/sessions/s1/tool_result-call_1.txt")).substr(0, 5), "first");
}

TEST_F(ContextFilesTest, IdsFromModelsCannotLeaveTheSessionFolder) {
    ContextFiles files(*ws_, "../../outside");
    std::string path = files.write_tool_result("../../../outside/x", bj::value("data"));
    EXPECT_EQ(path, ws_->workdir() + "/sessions/.._.._outside/tool_result-.._.._.._outside_x.txt");
    EXPECT_TRUE(fs::is_empty(outside()));
    EXPECT_EQ(ContextFiles(*ws_, "..").write_tool_result("..", bj::value("x")),
              ws_->workdir() + "/sessions/_../tool_result-_...txt");
}

TEST_F(ContextFilesTest, ALinkTheAgentPlantedIsNotFollowedOutOfTheWorkspace) {
    fs::create_directory_symlink(outside(), tmp_.path() / "ws" / "sessions");
    ContextFiles files(*ws_, "s1");
    auto msg = domain::user_msg("user", std::string_view("secret"));
    EXPECT_THROW(files.append_context({&msg}), std::runtime_error);
    EXPECT_THROW(files.write_tool_result("c1", bj::value("x")), std::runtime_error);
    EXPECT_TRUE(fs::is_empty(outside()));
    // Nor is a purge: the linked folder's contents stay.
    fs::create_directories(outside() / "s1");
    ContextFiles::purge_session(tmp_.path() / "ws", "s1");
    EXPECT_TRUE(fs::exists(outside() / "s1"));
}

TEST_F(ContextFilesTest, PurgingASessionRemovesItsFolderOnly) {
    ContextFiles(*ws_, "s1").write_tool_result("c1", bj::value("x"));
    ContextFiles(*ws_, "s2").write_tool_result("c1", bj::value("y"));
    // A link in the folder is removed, not what it points to.
    fs::create_directory_symlink(outside(), tmp_.path() / "ws" / "sessions" / "s1" / "link");
    std::ofstream(outside() / "keep.txt") << "keep";
    ContextFiles::purge_session(tmp_.path() / "ws", "s1");
    EXPECT_FALSE(fs::exists(tmp_.path() / "ws" / "sessions" / "s1"));
    EXPECT_TRUE(fs::exists(tmp_.path() / "ws" / "sessions" / "s2" / "tool_result-c1.txt"));
    EXPECT_TRUE(fs::exists(outside() / "keep.txt"));
    ContextFiles::purge_session(tmp_.path() / "ws", "never-there");  // nothing to do, no error
    ContextFiles::purge_session(tmp_.path() / "missing", "s2");
}

TEST_F(ContextFilesTest, TheWorkspaceInstructionsNameItsFolderAndLayout) {
    const std::string text = ws_->instructions();
    EXPECT_TRUE(text.starts_with("<workspace>"));
    EXPECT_TRUE(text.ends_with("</workspace>"));
    EXPECT_NE(text.find(ws_->workdir()), std::string::npos);
    EXPECT_NE(text.find("sessions/"), std::string::npos);
    EXPECT_NE(text.find("data/"), std::string::npos);
}

TEST(ContextFilesExtensions, KnownMediaTypesKeepTheirExtension) {
    EXPECT_EQ(ContextFiles::extension_for("image/jpeg"), ".jpg");
    EXPECT_EQ(ContextFiles::extension_for("application/pdf"), ".pdf");
    EXPECT_EQ(ContextFiles::extension_for("application/x-unheard-of"), ".bin");
}

}  // namespace
}  // namespace agentd::workspace
