#include "tool/builtin/read_tool.hpp"

#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "tool/builtin/edit_tool.hpp"
#include "tool/builtin/file_tool_test_support.hpp"
#include "tool/builtin/glob_tool.hpp"
#include "tool/builtin/pdf_test_support.hpp"
#include "tool/builtin/write_tool.hpp"

namespace agentd::tool {
namespace {

using testing::fresh_state;
using testing::run_tool;
using testing::TempWorkspace;

class ReadToolTest : public ::testing::Test {
protected:
    std::shared_ptr<TempWorkspace> ws = TempWorkspace::make();
    ReadTool tool{ws};
    domain::SessionState state = fresh_state();

    testing::ToolRun read(bj::object input) { return run_tool(tool, input, state); }
};

TEST_F(ReadToolTest, SchemaAndFlags) {
    EXPECT_EQ(tool.schema().name, "Read");
    const auto& p = tool.schema().parameters;
    EXPECT_EQ(p.at("type"), "object");
    EXPECT_EQ(p.at("description"), "The parameters of the Read tool.");
    EXPECT_EQ(bj::serialize(p.at("required")), R"(["file_path"])");
    const auto& props = p.at("properties").as_object();
    EXPECT_EQ(bj::serialize(props.at("offset").as_object().at("minimum")), "1");
    EXPECT_EQ(bj::serialize(props.at("limit").as_object().at("maximum")), "2000");
    EXPECT_EQ(bj::serialize(props.at("pages").as_object().at("anyOf")), R"([{"type":"string"},{"type":"null"}])");
    EXPECT_TRUE(tool.read_only());
    EXPECT_TRUE(tool.concurrency_safe());
    EXPECT_NE(tool.schema().description.find("image/png, image/jpeg, image/gif, image/webp"), std::string::npos);
    EXPECT_EQ(tool.check_permissions({}, permission::Context{}).behavior, permission::Behavior::kPassthrough);
}

TEST_F(ReadToolTest, NumberedLinesWithPythonLineSemantics) {
    ws->write("a.txt", "one\r\ntwo\rthree\x0b" "four\n\nlast");
    auto r = read({{"file_path", ws->path("a.txt")}});
    EXPECT_EQ(r.outcome.state, "success");
    EXPECT_EQ(r.text(), "     1\tone\n     2\ttwo\n     3\tthree\x0b\n     4\tfour\n     5\t\n     6\tlast");
    EXPECT_EQ(r.streamed, r.text());
}

TEST_F(ReadToolTest, OffsetLimitAndPastTheEnd) {
    std::string body;
    for (int i = 1; i <= 12; ++i) body += "Line " + std::to_string(i) + "\n";
    ws->write("n.txt", body);
    EXPECT_EQ(read({{"file_path", ws->path("n.txt")}, {"offset", 10}, {"limit", 2}}).text(),
              "    10\tLine 10\n    11\tLine 11");
    auto past = read({{"file_path", ws->path("n.txt")}, {"offset", 50}});
    EXPECT_EQ(past.outcome.state, "success");
    EXPECT_EQ(past.text(), "");
    ws->write("empty.txt", "");
    EXPECT_EQ(read({{"file_path", ws->path("empty.txt")}}).text(), "");
    EXPECT_EQ(read({{"file_path", ws->path("n.txt")}, {"limit", 2001}}).text(),
              "Input validation failed for tool 'Read': 2001 is greater than the maximum of 2000");
    EXPECT_EQ(read({{"file_path", ws->path("n.txt")}, {"offset", 0}}).text(),
              "Input validation failed for tool 'Read': 0 is less than the minimum of 1");
}

TEST_F(ReadToolTest, LongLinesAreCutByCodePoints) {
    ReadTool narrow(ws, ReadTool::Options{5, {"image/png"}});
    ws->write("u.txt", "h\xc3\xa9llo w\xc3\xb6rld\nshort\n\xff\n");
    auto r = run_tool(narrow, bj::object{{"file_path", ws->path("u.txt")}}, state);
    EXPECT_EQ(r.text(), "     1\th\xc3\xa9llo[truncated]\n     2\tshort\n     3\t\xEF\xBF\xBD");
}

TEST_F(ReadToolTest, ErrorTexts) {
    ws->write("d/x.txt", "x");
    EXPECT_EQ(read({{"file_path", "rel.txt"}}).text(), "Error: file_path must be an absolute path, got: rel.txt");
    EXPECT_EQ(read({{"file_path", ws->path("nope.txt")}}).text(), "Error: File does not exist: /workspace/nope.txt");
    auto dir = read({{"file_path", ws->path("d")}});
    EXPECT_EQ(dir.outcome.state, "error");
    EXPECT_EQ(dir.text(), "Error: Path is a directory, not a file: /workspace/d");
    EXPECT_EQ(read({}).text(), "Input validation failed for tool 'Read': 'file_path' is a required string");
    ws->write("doc.PDF", "%PDF-1.4");
    EXPECT_EQ(read({{"file_path", ws->path("doc.PDF")}}).text(), "Error reading PDF: Couldn't read xref table");
}

TEST_F(ReadToolTest, PdfPagesAsText) {
    ws->write("three.pdf", testing::make_pdf({"Alpha", "Beta\nsecond line", "Gamma"}));
    auto all = read({{"file_path", ws->path("three.pdf")}});
    EXPECT_EQ(all.outcome.state, "success");
    EXPECT_EQ(all.text(),
              "--- Page 1/3 ---\nAlpha\n\n--- Page 2/3 ---\nBeta\nsecond line\n\n--- Page 3/3 ---\nGamma");
    EXPECT_EQ(all.streamed, all.text());
    EXPECT_EQ(read({{"file_path", ws->path("three.pdf")}, {"pages", "2"}}).text(),
              "--- Page 2/3 ---\nBeta\nsecond line");
    // The last page is clamped to the document; offset and limit do not apply.
    EXPECT_EQ(read({{"file_path", ws->path("three.pdf")}, {"pages", " 3 - 9 "}, {"limit", 1}}).text(),
              "--- Page 3/3 ---\nGamma");
    EXPECT_EQ(read({{"file_path", ws->path("three.pdf")}, {"pages", nullptr}}).text(), all.text());
    // Nothing is cached for a PDF.
    EXPECT_FALSE(state.tool_context.contains("read_file_cache") &&
                 !state.tool_context.at("read_file_cache").as_array().empty());
}

TEST_F(ReadToolTest, PdfPageArgumentErrors) {
    ws->write("three.pdf", testing::numbered_pdf(3));
    const std::string path = ws->path("three.pdf");
    auto pages = [&](bj::value value) { return read({{"file_path", path}, {"pages", std::move(value)}}); };
    for (const char* out_of_range : {"0", "4", "3-2", "0-2"}) {
        auto r = pages(out_of_range);
        EXPECT_EQ(r.outcome.state, "error");
        EXPECT_EQ(r.text(), std::string("Error: Invalid pages '") + out_of_range + "'. PDF has 3 page(s).");
    }
    EXPECT_EQ(pages("1-x").text(),
              "Error: Invalid pages '1-x'. Expected a page number or range like \"3\" or \"1-5\".");
    EXPECT_EQ(pages("it's").text(),
              "Error: Invalid pages \"it's\". Expected a page number or range like \"3\" or \"1-5\".");
    EXPECT_EQ(pages(2).text(), "Input validation failed for tool 'Read': 'pages' must be a string or null");
}

TEST_F(ReadToolTest, LongPdfsNeedAPageRangeOfAtMostTwenty) {
    ws->write("long.pdf", testing::numbered_pdf(25));
    const std::string path = ws->path("long.pdf");
    auto whole = read({{"file_path", path}});
    EXPECT_EQ(whole.outcome.state, "error");
    EXPECT_EQ(whole.text(),
              "Error: PDF has 25 pages, more than 10. You must provide the pages parameter (e.g. \"1-5\") to read "
              "specific pages, max 20 pages per request.");
    EXPECT_EQ(read({{"file_path", path}, {"pages", "1-21"}}).text(),
              "Error: Requested 21 pages, at most 20 pages can be read per request.");
    auto twenty = read({{"file_path", path}, {"pages", "6-99"}});
    EXPECT_EQ(twenty.outcome.state, "success");
    EXPECT_EQ(twenty.text().substr(0, 33), "--- Page 6/25 ---\nPage 6\nline two");
    EXPECT_NE(twenty.text().find("--- Page 25/25 ---\nPage 25\nline two"), std::string::npos);
    ws->write("ten.pdf", testing::numbered_pdf(10));
    EXPECT_EQ(read({{"file_path", ws->path("ten.pdf")}}).outcome.state, "success");
}

TEST_F(ReadToolTest, AModelThatTakesPdfsGetsTheDocument) {
    ReadTool native(ws, ReadTool::Options{2000, {"image/*", "application/pdf"}});
    EXPECT_NE(native.schema().description.find("the pages are given to you as a document"), std::string::npos);
    const std::string doc = testing::numbered_pdf(3);
    ws->write("d.pdf", doc);
    auto whole = run_tool(native, bj::object{{"file_path", ws->path("d.pdf")}}, state);
    ASSERT_EQ(whole.outcome.state, "success");
    const auto& block = whole.outcome.output.as_array().at(0).as_object();
    EXPECT_EQ(block.at("type"), "data");
    EXPECT_EQ(block.at("name"), "d.pdf");
    EXPECT_EQ(block.at("source").as_object().at("media_type"), "application/pdf");
    EXPECT_EQ(base64_decode(block.at("source").as_object().at("data").as_string()), doc);

    auto part = run_tool(native, bj::object{{"file_path", ws->path("d.pdf")}, {"pages", "2-3"}}, state);
    ASSERT_EQ(part.outcome.state, "success");
    const auto bytes =
        base64_decode(part.outcome.output.as_array().at(0).as_object().at("source").as_object().at("data").as_string());
    ASSERT_TRUE(bytes);
    ws->write("part.pdf", *bytes);
    EXPECT_EQ(read({{"file_path", ws->path("part.pdf")}}).text(),
              "--- Page 1/2 ---\nPage 2\nline two\n\n--- Page 2/2 ---\nPage 3\nline two");
}

TEST_F(ReadToolTest, FileToolsRefuseArgumentsTheyDoNotTake) {
    // The reference runs a tool as call(**input): Python's TypeError, nothing done.
    ws->write("a.txt", "a\n");
    const std::string a = ws->path("a.txt");
    auto refused = read({{"file_path", a}, {"foo", 1}});
    EXPECT_EQ(refused.outcome.state, "error");
    EXPECT_EQ(refused.text(), "Read.call() got an unexpected keyword argument 'foo'");
    ASSERT_EQ(read({{"file_path", a}}).outcome.state, "success");  // fills the read cache for Write and Edit
    WriteTool write{ws};
    EXPECT_EQ(run_tool(write, {{"file_path", a}, {"content", "b"}, {"mode", "append"}}, state).text(),
              "Write.call() got an unexpected keyword argument 'mode'");
    EditTool edit{ws};
    EXPECT_EQ(run_tool(edit, {{"file_path", a}, {"old_string", "a"}, {"new_string", "b"}, {"count", 1}}, state).text(),
              "Edit.call() got an unexpected keyword argument 'count'");
    GlobTool glob{ws};
    EXPECT_EQ(run_tool(glob, {{"pattern", "*"}, {"path", ws->workdir()}, {"limit", 3}}, state).text(),
              "Glob.call() got an unexpected keyword argument 'limit'");
    EXPECT_EQ(ws->read("a.txt"), "a\n");
}

TEST_F(ReadToolTest, PathsOutsideTheWorkspaceAreRefused) {
    EXPECT_EQ(read({{"file_path", "/workspace/../etc/passwd"}}).text(),
              "Error: Path is outside the workspace: /workspace/../etc/passwd");
    EXPECT_EQ(read({{"file_path", "/etc/passwd"}}).text(), "Error: Path is outside the workspace: /etc/passwd");
    std::filesystem::create_symlink("/etc", ws->host("escape"));
    std::filesystem::create_symlink("/etc/passwd", ws->host("passwd"));
    EXPECT_EQ(read({{"file_path", ws->path("escape/passwd")}}).text(),
              "Error: Path is outside the workspace: /workspace/escape/passwd");
    EXPECT_EQ(read({{"file_path", ws->path("passwd")}}).text(), "Error: Path is outside the workspace: /workspace/passwd");
    // A link that stays inside is fine.
    ws->write("real.txt", "inside\n");
    std::filesystem::create_symlink(ws->host("real.txt"), ws->host("alias.txt"));
    EXPECT_EQ(read({{"file_path", ws->path("alias.txt")}}).text(), "     1\tinside");
}

TEST_F(ReadToolTest, TextReadsFillTheCacheWithTheWholeFile) {
    ws->write("c.txt", "line1\nline2\nline3\n");
    read({{"file_path", ws->path("c.txt")}, {"limit", 1}});
    const auto& cache = state.tool_context.at("read_file_cache").as_array();
    ASSERT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache[0].as_object().at("file_path"), "/workspace/c.txt");
    EXPECT_EQ(bj::serialize(cache[0].as_object().at("lines")), R"(["line1\n","line2\n","line3\n"])");
    read({{"file_path", ws->path("c.txt")}});
    EXPECT_EQ(state.tool_context.at("read_file_cache").as_array().size(), 1u);
}

TEST_F(ReadToolTest, ImagesBecomeDataBlocksAndCacheNothing) {
    ws->write("pic.PNG", std::string("\x89PNG\r\n", 6));
    auto r = read({{"file_path", ws->path("pic.PNG")}});
    EXPECT_EQ(r.outcome.state, "success");
    ASSERT_TRUE(r.outcome.output.is_array());
    const auto& block = r.outcome.output.as_array().at(0).as_object();
    EXPECT_EQ(block.at("type"), "data");
    EXPECT_EQ(block.at("name"), "pic.PNG");
    EXPECT_EQ(bj::serialize(block.at("source")), R"({"type":"base64","data":"iVBORw0K","media_type":"image/png"})");
    EXPECT_TRUE(state.tool_context.at("read_file_cache").as_array().empty());

    ws->write("i.bmp", "BM");
    EXPECT_EQ(read({{"file_path", ws->path("i.bmp")}}).text(),
              "Error: Unsupported image type image/bmp, only image/png, image/jpeg, image/gif, image/webp are supported.");
    ReadTool none(ws, ReadTool::Options{2000, {"application/pdf"}});
    EXPECT_EQ(run_tool(none, bj::object{{"file_path", ws->path("i.bmp")}}, state).text(),
              "Error: Unsupported image type image/bmp, only none are supported.");
    ReadTool any_image(ws, ReadTool::Options{2000, {"image/*"}});
    EXPECT_EQ(run_tool(any_image, bj::object{{"file_path", ws->path("i.bmp")}}, state).outcome.state, "success");
}

TEST_F(ReadToolTest, FifoDoesNotBlock) {
    ASSERT_EQ(::mkfifo(ws->host("pipe").c_str(), 0600), 0);
    auto r = read({{"file_path", ws->path("pipe")}});
    EXPECT_EQ(r.outcome.state, "success");
    EXPECT_EQ(r.text(), "");
}

TEST_F(ReadToolTest, LocalStyleWorkdirPrintsHostPaths) {
    auto local = TempWorkspace::make("");
    ReadTool t(local);
    local->write("x.txt", "x");
    EXPECT_EQ(run_tool(t, bj::object{{"file_path", local->path("x.txt")}}, state).text(), "     1\tx");
}

}  // namespace
}  // namespace agentd::tool
