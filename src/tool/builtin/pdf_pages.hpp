#pragma once
// PDF pages for Read (spec/tools-workspace.md §4.3, PDF branch).
//
// The parsing is done by Debian's poppler-utils (`pdfinfo`, `pdftotext`,
// `pdfseparate`, `pdfunite`), run through the session's workspace like any
// command of the agent: a PDF is untrusted input, so it is parsed in a child
// process (in the sandbox when the workspace is one) under a timeout, never in
// the server. The document's bytes go in on stdin, so the child opens no path
// the agent could swap for a link.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cancellation.hpp"

namespace agentd::workspace {
class Workspace;
}

namespace agentd::tool {

/// Read's `pages` argument: "3" or "1-5", blanks allowed around the numbers
/// (the reference's `\s*(\d+)\s*(?:-\s*(\d+)\s*)?`, matched whole). Numbers
/// beyond 64 bits saturate: they are out of range for any document.
struct PageSpec {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  ///< == first for a single page
};
std::optional<PageSpec> parse_page_spec(std::string_view text);

/// How a poppler call ended: `error` empty on success. An interrupted call
/// sets `interrupted` and nothing else.
struct PdfStatus {
    std::string error;
    bool interrupted = false;
    bool ok() const { return !interrupted && error.empty(); }
};
struct PdfPageCount : PdfStatus {
    std::uint64_t pages = 0;
};
struct PdfPageTexts : PdfStatus {
    std::vector<std::string> texts;  ///< one per page, in order, valid UTF-8
};
struct PdfSubset : PdfStatus {
    std::string bytes;  ///< a PDF of just the requested pages
};

struct PdfLimits {
    std::chrono::milliseconds timeout{60000};  ///< per poppler call
    std::size_t max_output = 64u << 20;        ///< bytes of text or PDF a call may return
};

/// The number of pages (`pdfinfo`).
boost::asio::awaitable<PdfPageCount> pdf_page_count(workspace::Workspace& ws,
                                                    const std::string& document,
                                                    CancellationPtr cancel, PdfLimits limits = {});
/// The text of pages first..last, 1-based and inclusive (`pdftotext`).
boost::asio::awaitable<PdfPageTexts> pdf_page_texts(workspace::Workspace& ws,
                                                    const std::string& document,
                                                    std::uint64_t first, std::uint64_t last,
                                                    CancellationPtr cancel, PdfLimits limits = {});
/// A new document holding pages first..last (`pdfseparate` + `pdfunite` in a
/// private temporary folder of the workspace's machine).
boost::asio::awaitable<PdfSubset> pdf_subset(workspace::Workspace& ws, const std::string& document,
                                             std::uint64_t first, std::uint64_t last,
                                             CancellationPtr cancel, PdfLimits limits = {});

/// A poppler failure as one line: the last diagnostic it printed, without the
/// "Syntax Error (12): " style prefix. Exposed for tests.
std::string poppler_error_text(std::string_view stderr_bytes, int exit_code,
                               std::string_view program);

}  // namespace agentd::tool
