#include "tool/builtin/pdf_pages.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <limits>

#include "tool/builtin/file_tool_test_support.hpp"
#include "tool/builtin/pdf_test_support.hpp"
#include "workspace/directory_workspace_manager.hpp"
#include "workspace/workspace_test_support.hpp"

namespace agentd::tool {
namespace {

namespace asio = boost::asio;
using testing::make_pdf;
using testing::numbered_pdf;
using testing::TempWorkspace;

template <class T>
T await(asio::awaitable<T> work) {
    asio::io_context io;
    auto future = asio::co_spawn(io, std::move(work), asio::use_future);
    io.run();
    return future.get();
}

TEST(PageSpec, FollowsTheReferencePattern) {
    auto single = parse_page_spec("3");
    ASSERT_TRUE(single);
    EXPECT_EQ(single->first, 3u);
    EXPECT_EQ(single->last, 3u);
    auto range = parse_page_spec(" 1 -\t5 ");
    ASSERT_TRUE(range);
    EXPECT_EQ(range->first, 1u);
    EXPECT_EQ(range->last, 5u);
    EXPECT_TRUE(parse_page_spec("0"));  // in the pattern; the range check refuses it
    EXPECT_TRUE(
        parse_page_spec("\x1c"
                        "2\x0b"));  // Python's \s includes \x1c-\x1f and \v
    for (const char* bad : {"", " ", "-3", "1-", "1-2-3", "1,3", "a", "1 2", "+1", "1.5", "１"})
        EXPECT_FALSE(parse_page_spec(bad)) << bad;
    auto huge = parse_page_spec("99999999999999999999999-1");
    ASSERT_TRUE(huge);
    EXPECT_EQ(huge->first, std::numeric_limits<std::uint64_t>::max());
}

TEST(PopplerErrorText, KeepsTheLastDiagnosticWithoutItsCategory) {
    EXPECT_EQ(poppler_error_text("Syntax Warning: May not be a PDF file (continuing anyway)\n"
                                 "Syntax Error: Couldn't find trailer dictionary\n"
                                 "Syntax Error: Couldn't read xref table\n",
                                 1, "pdfinfo"),
              "Couldn't read xref table");
    EXPECT_EQ(poppler_error_text("Syntax Error (1234): Bad block header\n\n", 1, "pdftotext"),
              "Bad block header");
    EXPECT_EQ(poppler_error_text("Command Line Error: Incorrect password\n", 3, "pdfinfo"),
              "Incorrect password");
    EXPECT_EQ(poppler_error_text("something else\n", 1, "pdfinfo"), "something else");
    EXPECT_EQ(poppler_error_text("", 2, "pdfinfo"), "pdfinfo failed with exit status 2");
    EXPECT_EQ(poppler_error_text("sh: pdfinfo: not found", 127, "pdfinfo"),
              "pdfinfo is not installed on this server (Debian package poppler-utils)");
    EXPECT_EQ(poppler_error_text("Syntax Error: bad \xff byte\n", 1, "pdfinfo"),
              "bad \xEF\xBF\xBD byte");
}

class PdfPagesTest : public ::testing::Test {
protected:
    std::shared_ptr<TempWorkspace> ws = TempWorkspace::make();
};

TEST_F(PdfPagesTest, CountsPagesAndExtractsTheirText) {
    const std::string doc = make_pdf({"First page", "Second page\nwith two lines", "Third"});
    const auto count = await(pdf_page_count(*ws, doc, nullptr));
    ASSERT_EQ(count.error, "");
    EXPECT_EQ(count.pages, 3u);
    const auto texts = await(pdf_page_texts(*ws, doc, 2, 3, nullptr));
    ASSERT_EQ(texts.error, "");
    ASSERT_EQ(texts.texts.size(), 2u);
    EXPECT_EQ(texts.texts[0], "Second page\nwith two lines");
    EXPECT_EQ(texts.texts[1], "Third");
}

TEST_F(PdfPagesTest, ABrokenDocumentIsAnErrorNotACrash) {
    const auto garbage = await(pdf_page_count(*ws, "this is not a PDF\n", nullptr));
    EXPECT_EQ(garbage.pages, 0u);
    EXPECT_EQ(garbage.error, "Couldn't read xref table");
    const auto empty = await(pdf_page_count(*ws, "", nullptr));
    EXPECT_EQ(empty.error, "Document stream is empty");
    // A document cut in the middle: poppler rebuilds what it can or says why.
    const std::string doc = numbered_pdf(2);
    const auto cut = await(pdf_page_count(*ws, doc.substr(0, doc.size() / 2), nullptr));
    if (cut.error.empty()) {
        EXPECT_LE(cut.pages, 2u);
    }
}

TEST_F(PdfPagesTest, APagesLineInTheTitleDoesNotFoolTheCount) {
    // pdfinfo prints the title raw, before its own "Pages:" line.
    std::string doc = numbered_pdf(1);
    const std::string trailer = "/Root 1 0 R >>";
    const auto at = doc.find(trailer);
    ASSERT_NE(at, std::string::npos);
    doc.replace(at, trailer.size(), "/Root 1 0 R /Info << /Title (Evil\\nPages:           50) >> >>");
    const auto count = await(pdf_page_count(*ws, doc, nullptr));
    ASSERT_EQ(count.error, "");
    EXPECT_EQ(count.pages, 1u);
}

TEST_F(PdfPagesTest, ASubsetHoldsJustThoseTexts) {
    const std::string doc = numbered_pdf(4);
    const auto two = await(pdf_subset(*ws, doc, 2, 3, nullptr));
    ASSERT_EQ(two.error, "");
    ASSERT_EQ(two.bytes.substr(0, 5), "%PDF-");
    EXPECT_EQ(await(pdf_page_count(*ws, two.bytes, nullptr)).pages, 2u);
    const auto texts = await(pdf_page_texts(*ws, two.bytes, 1, 2, nullptr));
    ASSERT_EQ(texts.texts.size(), 2u);
    EXPECT_EQ(texts.texts[0], "Page 2\nline two");
    EXPECT_EQ(texts.texts[1], "Page 3\nline two");

    const auto one = await(pdf_subset(*ws, doc, 4, 4, nullptr));
    ASSERT_EQ(one.error, "");
    EXPECT_EQ(await(pdf_page_texts(*ws, one.bytes, 1, 1, nullptr)).texts.at(0), "Page 4\nline two");
}

TEST_F(PdfPagesTest, LimitsAndCancellationEndTheChild) {
    auto cancel = std::make_shared<Cancellation>();
    cancel->request();
    const auto interrupted = await(pdf_page_count(*ws, numbered_pdf(1), cancel));
    EXPECT_TRUE(interrupted.interrupted);
    PdfLimits tiny;
    tiny.max_output = 8;
    const auto cut = await(pdf_page_texts(*ws, numbered_pdf(3), 1, 3, nullptr, tiny));
    EXPECT_EQ(cut.error, "the output of pdftotext is larger than 8 bytes");
}

// The parsing runs where the workspace runs commands: on the host for local,
// in the sandbox for bwrap (which must see poppler-utils and take stdin).
class PdfPagesInBackend : public ::testing::TestWithParam<workspace::WorkspaceKind> {};

TEST_P(PdfPagesInBackend, ParsesWhereTheWorkspaceRunsCommands) {
    workspace::testing::TempDir data;
    std::unique_ptr<workspace::DirectoryWorkspaceManager> manager;
    try {
        manager = std::make_unique<workspace::DirectoryWorkspaceManager>(data.path(), GetParam());
    } catch (const std::exception& e) {
        GTEST_SKIP() << "backend unavailable here: " << e.what();
    }
    auto ws = manager->get("alice", "agent-1", "ws-1");
    const std::string doc = numbered_pdf(3);
    const auto count = await(pdf_page_count(*ws, doc, nullptr));
    ASSERT_EQ(count.error, "");
    EXPECT_EQ(count.pages, 3u);
    const auto texts = await(pdf_page_texts(*ws, doc, 3, 3, nullptr));
    ASSERT_EQ(texts.error, "");
    EXPECT_EQ(texts.texts.at(0), "Page 3\nline two");
    const auto subset = await(pdf_subset(*ws, doc, 1, 2, nullptr));
    ASSERT_EQ(subset.error, "");
    EXPECT_EQ(await(pdf_page_count(*ws, subset.bytes, nullptr)).pages, 2u);
}

INSTANTIATE_TEST_SUITE_P(Kinds, PdfPagesInBackend,
                         ::testing::Values(workspace::WorkspaceKind::kLocal,
                                           workspace::WorkspaceKind::kBwrap),
                         [](const auto& info) {
                             return info.param == workspace::WorkspaceKind::kLocal
                                        ? std::string("Local")
                                        : std::string("Bwrap");
                         });

}  // namespace
}  // namespace agentd::tool
