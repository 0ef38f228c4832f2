#include "tool/builtin/read_tool.hpp"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "common/error.hpp"
#include "domain/message.hpp"
#include "model/media.hpp"
#include "permission/tool_rules.hpp"
#include "tool/builtin/file_tool_pool.hpp"
#include "tool/builtin/file_tool_support.hpp"
#include "tool/builtin/pdf_pages.hpp"
#include "tool/builtin/python_text.hpp"
#include "tool/builtin/read_cache.hpp"
#include "workspace/workspace.hpp"

namespace agentd::tool {

namespace {

constexpr std::size_t kMaxPagesWithoutRange = 10;
constexpr std::size_t kMaxPagesPerRead = 20;

std::string_view image_media_type(std::string_view ext) {
    static constexpr std::pair<std::string_view, std::string_view> kImages[] = {
        {".png", "image/png"},   {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},   {".webp", "image/webp"}, {".bmp", "image/bmp"},
        {".tiff", "image/tiff"}, {".tif", "image/tiff"}, {".ico", "image/x-icon"},
    };
    for (const auto& [e, media] : kImages) {
        if (e == ext) return media;
    }
    return {};
}

// os.path.splitext(basename)[1].lower(): leading dots of the name do not start
// an extension.
std::string lower_extension(std::string_view file_path) {
    const auto slash = file_path.rfind('/');
    std::string_view base = slash == std::string_view::npos ? file_path : file_path.substr(slash + 1);
    std::size_t lead = 0;
    while (lead < base.size() && base[lead] == '.') ++lead;
    const auto dot = base.rfind('.');
    if (dot == std::string_view::npos || dot < lead) return {};
    std::string ext(base.substr(dot));
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

std::string basename_of(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool accepts(const std::vector<std::string>& patterns, const std::string& media_type) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return ::fnmatch(p.c_str(), media_type.c_str(), 0) == 0; });
}

std::string description(const std::vector<std::string>& input_types) {
    std::string text =
        "Reads a file in the workspace. The file_path must be an absolute path; reading a path that does "
        "not exist simply returns an error.\n"
        "\n"
        "Usage:\n"
        "- Reads up to 2000 lines from the start of the file by default\n"
        "- offset (1-based line number) and limit select a window of a long file; prefer reading the whole "
        "file when it is small\n"
        "- Output is numbered like `cat -n`: the line number, a tab, then the line; lines longer than 2000 "
        "characters are cut";
    std::vector<std::string> images;
    for (const auto& t : input_types) {
        if (t.rfind("image/", 0) == 0) images.push_back(t);
    }
    if (!images.empty()) {
        std::string joined;
        for (const auto& t : images) joined += (joined.empty() ? "" : ", ") + t;
        text += "\n- Images (" + joined + ") are returned as images, which you can see since you are multimodal.";
    }
    const bool pdf_native = accepts(input_types, "application/pdf");
    text += std::string("\n- PDF files (.pdf): ") +
            (pdf_native ? "the pages are given to you as a document." : "the text of each page is extracted.") +
            " A PDF with more than " + std::to_string(kMaxPagesWithoutRange) +
            " pages needs the pages parameter; at most " + std::to_string(kMaxPagesPerRead) +
            " pages are read per request.";
    return text;
}

bj::object make_parameters() {
    bj::object props;
    props["file_path"] = {{"type", "string"}, {"description", "Absolute path of the file to read."}};
    props["offset"] = {{"type", "integer"},
                       {"default", 1},
                       {"minimum", 1},
                       {"description", "1-based line number to start from (text files only). Default: 1."}};
    props["limit"] = {{"type", "integer"},
                      {"default", 2000},
                      {"minimum", 1},
                      {"maximum", 2000},
                      {"description", "Maximum number of lines to read (text files only). Default and maximum: 2000."}};
    props["pages"] = {
        {"anyOf", bj::array{bj::object{{"type", "string"}}, bj::object{{"type", "null"}}}},
        {"default", nullptr},
        {"description",
         "Pages of a PDF to read, e.g. \"1-5\" or \"3\"; at most 20 pages per request, required for PDFs of more "
         "than 10 pages. PDF files only."}};
    bj::object params{{"type", "object"},
                      {"description", "The parameters of the Read tool."},
                      {"properties", std::move(props)},
                      {"required", bj::array{"file_path"}}};
    return params;
}

model::ToolSchema make_schema(const std::vector<std::string>& input_types) {
    // Only the description depends on the model: every run shares the
    // parameters and their rendered forms (model/shared_schema.hpp).
    static const model::SharedSchema kParameters(make_parameters());
    return model::ToolSchema{"Read", description(input_types), kParameters};
}

// What the blocking part of a call found.
struct Probe {
    std::string error;  // non-empty: the call's error text
    enum class Kind { kText, kImage, kPdf } kind = Kind::kText;
    std::string media_type;
    std::string raw;  // image or PDF bytes
    std::vector<std::string> lines;
    std::optional<double> mtime;
};

Probe probe_file(const workspace::Workspace& ws, const std::string& file_path,
                 const std::vector<std::string>& input_types) {
    Probe p;
    const auto resolved = ws.resolve(file_path);
    if (!resolved) {
        p.error = "Error: " + resolved.error->message;
        return p;
    }
    const auto& host = *resolved.host;
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) {
        p.error = "Error: File does not exist: " + file_path;
        return p;
    }
    if (S_ISDIR(st.st_mode)) {
        p.error = "Error: Path is a directory, not a file: " + file_path;
        return p;
    }
    const std::string ext = lower_extension(file_path);
    std::string read_error;
    if (ext == ".pdf") {
        p.kind = Probe::Kind::kPdf;
        if (!read_host_file(host, p.raw, read_error)) p.error = "Error reading PDF: " + read_error;
        return p;
    }
    if (auto media = image_media_type(ext); !media.empty()) {
        p.kind = Probe::Kind::kImage;
        p.media_type = media;
        if (!accepts(input_types, p.media_type)) {
            std::string joined;
            for (const auto& t : input_types) {
                if (t.rfind("image/", 0) == 0) joined += (joined.empty() ? "" : ", ") + t;
            }
            p.error = "Error: Unsupported image type " + p.media_type + ", only " + (joined.empty() ? "none" : joined) +
                      " are supported.";
            return p;
        }
        if (!read_host_file(host, p.raw, read_error)) p.error = "Error reading file: " + read_error;
        return p;
    }
    // Stat before reading: a change racing the read then makes the entry stale
    // rather than making stale lines look fresh.
    p.mtime = file_mtime(host);
    std::string raw;
    if (!read_host_file(host, raw, read_error)) {
        p.error = "Error reading file: " + read_error;
        return p;
    }
    p.lines = split_lines_keepends(normalize_newlines(decode_utf8_replace(raw)));
    return p;
}

// The file as one data block named after it (an image, or a PDF for a model that takes PDFs).
agent::ToolOutcome data_outcome(const std::string& bytes, const std::string& media_type, const std::string& file_path,
                                const Emit& emit) {
    bj::object source = domain::base64_source(model::base64_encode(bytes), media_type);
    if (emit) emit(agent::ToolChunk{"", source});
    bj::array blocks{domain::data_block(std::move(source), bj::value(basename_of(file_path)))};
    return agent::ToolOutcome{"success", std::move(blocks), {}};
}

// A poppler call that did not succeed, as the call's outcome.
agent::ToolOutcome failed_outcome(const PdfStatus& status, const Emit& emit) {
    if (status.interrupted) return text_outcome("interrupted", std::string(domain::kInterruptedToolText), emit);
    return error_outcome("Error reading PDF: " + status.error, emit);
}

// The PDF branch: the page count decides which pages may be read, then they
// come back as text, or as a document when the model takes PDFs itself.
boost::asio::awaitable<agent::ToolOutcome> read_pdf(workspace::Workspace& ws, const std::string& file_path,
                                                    const std::string& document, const std::optional<std::string>& pages,
                                                    bool model_takes_pdf, CancellationPtr cancel, const Emit& emit) {
    auto counting = pdf_page_count(ws, document, cancel);
    const PdfPageCount count = co_await std::move(counting);
    if (!count.ok()) co_return failed_outcome(count, emit);
    const std::uint64_t total = count.pages;
    std::uint64_t first = 1;
    std::uint64_t last = total;
    if (!pages) {
        if (total > kMaxPagesWithoutRange)
            co_return error_outcome("Error: PDF has " + std::to_string(total) + " pages, more than " +
                                        std::to_string(kMaxPagesWithoutRange) +
                                        ". You must provide the pages parameter (e.g. \"1-5\") to read specific "
                                        "pages, max " +
                                        std::to_string(kMaxPagesPerRead) + " pages per request.",
                                    emit);
    } else {
        const auto spec = parse_page_spec(*pages);
        if (!spec)
            co_return error_outcome("Error: Invalid pages " + py_repr(*pages) +
                                        ". Expected a page number or range like \"3\" or \"1-5\".",
                                    emit);
        if (spec->first < 1 || spec->first > spec->last || spec->first > total)
            co_return error_outcome(
                "Error: Invalid pages " + py_repr(*pages) + ". PDF has " + std::to_string(total) + " page(s).", emit);
        first = spec->first;
        last = std::min(spec->last, total);
        if (last - first + 1 > kMaxPagesPerRead)
            co_return error_outcome("Error: Requested " + std::to_string(last - first + 1) + " pages, at most " +
                                        std::to_string(kMaxPagesPerRead) + " pages can be read per request.",
                                    emit);
    }

    if (model_takes_pdf) {
        std::string bytes;
        if (first == 1 && last == total) {
            bytes = document;
        } else {
            auto cutting = pdf_subset(ws, document, first, last, cancel);
            PdfSubset subset = co_await std::move(cutting);
            if (!subset.ok()) co_return failed_outcome(subset, emit);
            bytes = std::move(subset.bytes);
        }
        co_return data_outcome(bytes, "application/pdf", file_path, emit);
    }

    std::string text;
    if (total > 0) {
        auto extracting = pdf_page_texts(ws, document, first, last, cancel);
        PdfPageTexts texts = co_await std::move(extracting);
        if (!texts.ok()) co_return failed_outcome(texts, emit);
        for (std::size_t i = 0; i < texts.texts.size(); ++i) {
            if (i > 0) text += "\n\n";
            text += "--- Page " + std::to_string(first + i) + "/" + std::to_string(total) + " ---\n";
            text += texts.texts[i];
        }
    }
    co_return text_outcome("success", std::move(text), emit);
}

}  // namespace

ReadTool::ReadTool(std::shared_ptr<workspace::Workspace> workspace) : ReadTool(std::move(workspace), Options{}) {}

ReadTool::ReadTool(std::shared_ptr<workspace::Workspace> workspace, Options options)
    : workspace_(std::move(workspace)), options_(std::move(options)), schema_(make_schema(options_.model_input_types)) {}

permission::Decision ReadTool::check_permissions(const bj::object&, const permission::Context&) const {
    auto d = permission::Decision::passthrough();
    d.message = "File reading is read-only.";
    return d;
}

bool ReadTool::match_rule(const std::string& rule_content, const bj::object& input) const {
    auto path = string_arg(input, "file_path");
    return path && !path->empty() && permission::path_glob_matches(rule_content, *path);
}

std::vector<permission::Rule> ReadTool::suggestions(const bj::object& input) const {
    auto path = string_arg(input, "file_path");
    if (!path || path->empty()) return {};
    return permission::path_suggestions(schema_.name, *path);
}

boost::asio::awaitable<agent::ToolOutcome> ReadTool::run(const bj::object& input, agent::ToolContext& ctx,
                                                         const std::function<void(const agent::ToolChunk&)>& emit) {
    if (auto unexpected = unexpected_argument(schema(), input)) co_return error_outcome(std::move(*unexpected), emit);
    auto file_path = string_arg(input, "file_path");
    if (!file_path) co_return error_outcome(input_error("Read", "'file_path' is a required string"), emit);
    bool ok = true;
    const std::int64_t offset = int_arg(input, "offset", ok).value_or(1);
    const std::int64_t limit = int_arg(input, "limit", ok).value_or(2000);
    if (!ok) co_return error_outcome(input_error("Read", "offset and limit must be integers"), emit);
    if (offset < 1) co_return error_outcome(input_error("Read", std::to_string(offset) + " is less than the minimum of 1"), emit);
    if (limit < 1) co_return error_outcome(input_error("Read", std::to_string(limit) + " is less than the minimum of 1"), emit);
    if (limit > 2000)
        co_return error_outcome(input_error("Read", std::to_string(limit) + " is greater than the maximum of 2000"), emit);
    if (file_path->empty() || file_path->front() != '/')
        co_return error_outcome("Error: file_path must be an absolute path, got: " + *file_path, emit);

    std::optional<std::string> pages;
    if (auto it = input.find("pages"); it != input.end() && !it->value().is_null()) {
        if (!it->value().is_string()) co_return error_outcome(input_error("Read", "'pages' must be a string or null"), emit);
        pages.emplace(it->value().get_string());
    }

    const workspace::Workspace& ws = *workspace_;
    const auto& types = options_.model_input_types;
    auto job = [&] { return probe_file(ws, *file_path, types); };
    Probe p = co_await on_file_tool_pool(job);
    if (!p.error.empty()) co_return error_outcome(std::move(p.error), emit);

    if (p.kind == Probe::Kind::kPdf) {
        auto reading = read_pdf(*workspace_, *file_path, p.raw, pages, accepts(types, "application/pdf"), ctx.cancel, emit);
        agent::ToolOutcome outcome = co_await std::move(reading);
        co_return outcome;
    }

    if (p.kind == Probe::Kind::kImage) co_return data_outcome(p.raw, p.media_type, *file_path, emit);

    // The cache wins over the fresh read when it is still valid (the reference
    // reads only on a miss).
    std::vector<std::string> cached;
    if (const bj::array* hit = read_cache_get(ctx.state.tool_context, *file_path, p.mtime)) {
        cached.reserve(hit->size());
        for (const auto& v : *hit) cached.emplace_back(v.is_string() ? std::string(v.get_string()) : std::string());
        p.lines = std::move(cached);
    } else {
        read_cache_put(ctx.state.tool_context, *file_path, p.lines, p.mtime);
    }

    std::string text;
    const auto start = static_cast<std::size_t>(offset - 1);
    const std::size_t end = std::min(p.lines.size(), start + static_cast<std::size_t>(limit));
    for (std::size_t i = start; i < end; ++i) {
        std::string_view line = p.lines[i];
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (i > start) text.push_back('\n');
        text += line_number_prefix(i + 1);
        if (code_point_count(line) > options_.max_line_characters) {
            text.append(line.substr(0, code_point_prefix_bytes(line, options_.max_line_characters)));
            text.append("[truncated]");
        } else {
            text.append(line);
        }
    }
    co_return text_outcome("success", std::move(text), emit);
}

}  // namespace agentd::tool
