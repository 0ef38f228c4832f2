#include "tool/builtin/pdf_pages.hpp"

#include <algorithm>
#include <limits>

#include "tool/builtin/python_text.hpp"
#include "workspace/workspace.hpp"

namespace agentd::tool {

namespace {

// Python's str.isspace() for the ASCII range, which `\s` follows.
bool is_py_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

void skip_spaces(std::string_view text, std::size_t& i) {
    while (i < text.size() && is_py_space(text[i])) ++i;
}

std::optional<std::uint64_t> read_number(std::string_view text, std::size_t& i) {
    const std::size_t start = i;
    std::uint64_t value = 0;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
        ++i;
    }
    if (i == start) return std::nullopt;
    return value;
}

std::string_view trim_line(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ')) s.remove_prefix(1);
    return s;
}

struct PopplerRun : PdfStatus {
    std::string output;
};

boost::asio::awaitable<PopplerRun> run_poppler(workspace::Workspace& ws,
                                               std::vector<std::string> argv,
                                               const std::string& document, CancellationPtr cancel,
                                               const PdfLimits& limits, std::string program) {
    workspace::ExecRequest request;
    request.argv = std::move(argv);
    request.timeout = limits.timeout;
    request.output_limit = limits.max_output;
    request.stdin_data = document;
    request.cancel = std::move(cancel);
    PopplerRun run;
    workspace::ExecResult result;
    try {
        auto running = ws.exec(std::move(request));
        result = co_await std::move(running);
    } catch (const std::exception& e) {
        run.error = e.what();
        co_return run;
    }
    if (result.interrupted) {
        run.interrupted = true;
    } else if (result.timed_out) {
        run.error =
            program + " took longer than " + std::to_string(limits.timeout.count() / 1000) + " s";
    } else if (result.exit_code != 0) {
        run.error = poppler_error_text(result.stderr_bytes, result.exit_code, program);
    } else if (result.truncated) {
        run.error =
            "the output of " + program + " is larger than " +
            (limits.max_output >= (1u << 20) ? std::to_string(limits.max_output >> 20) + " MiB"
                                             : std::to_string(limits.max_output) + " bytes");
    } else {
        run.output = std::move(result.stdout_bytes);
    }
    co_return run;
}

}  // namespace

std::optional<PageSpec> parse_page_spec(std::string_view text) {
    std::size_t i = 0;
    skip_spaces(text, i);
    const auto first = read_number(text, i);
    if (!first) return std::nullopt;
    skip_spaces(text, i);
    PageSpec spec{*first, *first};
    if (i < text.size() && text[i] == '-') {
        ++i;
        skip_spaces(text, i);
        const auto last = read_number(text, i);
        if (!last) return std::nullopt;
        skip_spaces(text, i);
        spec.last = *last;
    }
    if (i != text.size()) return std::nullopt;
    return spec;
}

std::string poppler_error_text(std::string_view stderr_bytes, int exit_code,
                               std::string_view program) {
    if (exit_code == 127)
        return std::string(program) +
               " is not installed on this server (Debian package poppler-utils)";
    // The last line is the one that made poppler give up; earlier ones are
    // often warnings ("May not be a PDF file (continuing anyway)").
    std::string_view last;
    std::string_view rest = stderr_bytes;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        std::string_view line = trim_line(rest.substr(0, nl));
        if (!line.empty()) last = line;
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    if (last.empty())
        return std::string(program) + " failed with exit status " + std::to_string(exit_code);
    // "Syntax Error: …", "Syntax Error (1234): …", "Command Line Error: …",
    // "I/O Error: …": poppler's category is noise to the model.
    static constexpr std::string_view kCategories[] = {"Syntax Error",       "Syntax Warning",
                                                       "Command Line Error", "I/O Error",
                                                       "Permission Error",   "Internal Error"};
    for (std::string_view category : kCategories) {
        if (last.substr(0, category.size()) != category) continue;
        const auto colon = last.find(": ", category.size());
        if (colon != std::string_view::npos) last = last.substr(colon + 2);
        break;
    }
    return decode_utf8_replace(last);
}

boost::asio::awaitable<PdfPageCount> pdf_page_count(workspace::Workspace& ws,
                                                    const std::string& document,
                                                    CancellationPtr cancel, PdfLimits limits) {
    limits.max_output =
        std::min<std::size_t>(limits.max_output, 1u << 20);  // the info is a few lines
    auto running =
        run_poppler(ws, {"pdfinfo", "fd://0"}, document, std::move(cancel), limits, "pdfinfo");
    PopplerRun run = co_await std::move(running);
    PdfPageCount count;
    static_cast<PdfStatus&>(count) = std::move(run);
    if (!count.ok()) co_return count;
    std::string_view rest = run.output;
    // The last "Pages:" line is pdfinfo's own: the document's free-text fields
    // (Title, Author, ...) come before it, printed raw, so a title can hold a
    // line that looks like one.
    std::optional<std::uint64_t> pages;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        if (line.substr(0, 6) != "Pages:") continue;
        std::size_t i = 6;
        skip_spaces(line, i);
        pages = read_number(line, i);
    }
    if (pages) count.pages = *pages;
    else count.error = "pdfinfo did not report a page count";
    co_return count;
}

boost::asio::awaitable<PdfPageTexts> pdf_page_texts(workspace::Workspace& ws,
                                                    const std::string& document,
                                                    std::uint64_t first, std::uint64_t last,
                                                    CancellationPtr cancel, PdfLimits limits) {
    auto running = run_poppler(ws,
                               {"pdftotext", "-f", std::to_string(first), "-l",
                                std::to_string(last), "-enc", "UTF-8", "fd://0", "-"},
                               document, std::move(cancel), limits, "pdftotext");
    PopplerRun run = co_await std::move(running);
    PdfPageTexts texts;
    static_cast<PdfStatus&>(texts) = std::move(run);
    if (!texts.ok()) co_return texts;
    // pdftotext ends every page with a form feed.
    const std::uint64_t count = last >= first ? last - first + 1 : 0;
    std::string_view rest = run.output;
    for (std::uint64_t page = 0; page < count; ++page) {
        const auto ff = rest.find('\f');
        std::string_view text = rest.substr(0, ff);
        rest = ff == std::string_view::npos ? std::string_view{} : rest.substr(ff + 1);
        while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
        texts.texts.push_back(decode_utf8_replace(text));
    }
    co_return texts;
}

boost::asio::awaitable<PdfSubset> pdf_subset(workspace::Workspace& ws, const std::string& document,
                                             std::uint64_t first, std::uint64_t last,
                                             CancellationPtr cancel, PdfLimits limits) {
    // pdfseparate writes one file per page and pdfunite joins them; neither
    // reads stdin or writes stdout, hence the folder (removed on any exit).
    static constexpr std::string_view kScript = R"(set -e
f=$1; l=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cat > "$d/in.pdf"
pdfseparate -f "$f" -l "$l" "$d/in.pdf" "$d/p-%d.pdf"
if [ "$f" = "$l" ]; then cat "$d/p-$f.pdf"; exit 0; fi
set --
i=$f
while [ "$i" -le "$l" ]; do set -- "$@" "$d/p-$i.pdf"; i=$((i + 1)); done
pdfunite "$@" "$d/out.pdf"
cat "$d/out.pdf"
)";
    auto running = run_poppler(
        ws,
        {"/bin/sh", "-c", std::string(kScript), "sh", std::to_string(first), std::to_string(last)},
        document, std::move(cancel), limits, "pdfseparate");
    PopplerRun run = co_await std::move(running);
    PdfSubset subset;
    if (run.ok()) subset.bytes = std::move(run.output);
    static_cast<PdfStatus&>(subset) = std::move(run);
    co_return subset;
}

}  // namespace agentd::tool
