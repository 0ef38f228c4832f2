#include "workspace/context_files.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "common/base64.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/json_access.hpp"

namespace agentd::workspace {

namespace bj = boost::json;
using json::str_at;

namespace {

/// One path component made of `raw`: ids come from models and clients, so
/// anything but letters, digits, '.', '_' and '-' becomes '_', and the name
/// can never be "." or "..".
std::string file_name_part(std::string_view raw) {
    constexpr std::size_t kMaxLength = 128;
    std::string out;
    for (char c : raw.substr(0, kMaxLength)) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                           c == '_' || c == '-';
        out.push_back(plain ? c : '_');
    }
    if (out.empty() || out.find_first_not_of('.') == std::string::npos) out.insert(out.begin(), '_');
    return out;
}

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
    throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(err));
}

/// Writes all of `bytes` to `fd`, then closes it.
void write_and_close(int fd, std::string_view bytes, const fs::path& path) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            fail("cannot write", path, err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) fail("cannot write", path, errno);
}

std::string sha256_hex(std::string_view text) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

bool is_base64_data(const bj::object& block) {
    if (str_at(block, "type") != "data") return false;
    const auto* src = block.if_contains("source");
    return src && src->is_object() && str_at(src->get_object(), "type") == "base64";
}

}  // namespace

ContextFiles::ContextFiles(const Workspace& workspace, std::string_view session_id)
    : workspace_(workspace), session_dir_("sessions/" + file_name_part(session_id)) {}

std::string_view ContextFiles::extension_for(std::string_view media_type) {
    // The types models exchange; what Python's mimetypes would answer for them.
    static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
        {"image/png", ".png"},        {"image/jpeg", ".jpg"},       {"image/jpg", ".jpg"},
        {"image/gif", ".gif"},        {"image/webp", ".webp"},      {"image/bmp", ".bmp"},
        {"image/svg+xml", ".svg"},    {"image/tiff", ".tiff"},      {"image/heic", ".heic"},
        {"audio/mpeg", ".mp3"},       {"audio/mp3", ".mp3"},        {"audio/wav", ".wav"},
        {"audio/x-wav", ".wav"},      {"audio/ogg", ".ogg"},        {"audio/flac", ".flac"},
        {"audio/aac", ".aac"},        {"audio/webm", ".weba"},      {"video/mp4", ".mp4"},
        {"video/webm", ".webm"},      {"video/quicktime", ".mov"},  {"application/pdf", ".pdf"},
        {"application/json", ".json"}, {"application/zip", ".zip"}, {"text/plain", ".txt"},
        {"text/markdown", ".md"},     {"text/html", ".html"},       {"text/csv", ".csv"},
    };
    for (const auto& [type, ext] : kKnown)
        if (type == media_type) return ext;
    return ".bin";
}

fs::path ContextFiles::prepare(const std::string& relative) const {
    const std::string visible = workspace_.workdir() + "/" + relative;
    auto resolved = workspace_.resolve(visible);
    if (!resolved) throw std::runtime_error(resolved.error->message);
    std::error_code ec;
    fs::create_directories(resolved.host->parent_path(), ec);
    if (ec) throw std::runtime_error("cannot create " + resolved.host->parent_path().string() + ": " + ec.message());
    // A link planted meanwhile in the part just created would be refused here.
    auto again = workspace_.resolve(visible);
    if (!again || *again.host != *resolved.host) throw std::runtime_error("the path changed while it was prepared: " + visible);
    return *resolved.host;
}

bj::object ContextFiles::store_data_block(const bj::object& block) const {
    if (!is_base64_data(block)) return block;
    const auto& source = block.at("source").get_object();
    const std::string_view data = str_at(source, "data");
    const std::string media_type(str_at(source, "media_type"));
    auto bytes = base64_decode(data);
    if (!bytes) throw std::runtime_error("a data block's payload is not valid base64");

    const std::string relative = "data/" + sha256_hex(data) + std::string(extension_for(media_type));
    const fs::path path = prepare(relative);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path, ec))) {
        // Written beside and renamed into place: a file under this name is always whole.
        fs::path partial = path;
        partial += ".partial-" + new_id();
        int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) fail("cannot create", partial, errno);
        try {
            write_and_close(fd, *bytes, partial);
        } catch (...) {
            fs::remove(partial, ec);
            throw;
        }
        if (::rename(partial.c_str(), path.c_str()) != 0) {
            int err = errno;
            fs::remove(partial, ec);
            fail("cannot rename to", path, err);
        }
    }
    bj::object out = block;
    bj::object url_source;
    url_source["type"] = "url";
    url_source["url"] = "workspace:///" + relative;
    url_source["media_type"] = media_type;
    out["source"] = std::move(url_source);
    return out;
}

std::string ContextFiles::append_context(const std::vector<const bj::object*>& messages) const {
    std::string lines;
    for (const bj::object* message : messages) {
        if (!message) continue;
        const auto* content = message->if_contains("content");
        bool has_payload = false;
        if (content && content->is_array())
            for (const auto& b : content->get_array())
                if (b.is_object() && is_base64_data(b.get_object())) has_payload = true;
        if (!has_payload) {
            json::write_to(lines, *message);
        } else {
            bj::object copy = *message;
            for (auto& b : copy["content"].get_array())
                if (b.is_object()) b = store_data_block(b.get_object());
            json::write_to(lines, copy);
        }
        lines.push_back('\n');
    }
    const std::string relative = session_dir_ + "/context.jsonl";
    const fs::path path = prepare(relative);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot open", path, errno);
    write_and_close(fd, lines, path);
    return workspace_.workdir() + "/" + relative;
}

std::string ContextFiles::write_tool_result(std::string_view call_id, const bj::value& output) const {
    std::string text;
    if (output.is_string()) {
        text = output.get_string();
    } else if (output.is_array()) {
        for (const auto& v : output.get_array()) {
            if (!v.is_object()) continue;
            const auto& b = v.get_object();
            const auto type = str_at(b, "type");
            if (type == "text") {
                text += str_at(b, "text");
            } else if (type == "data" && b.contains("source") && b.at("source").is_object()) {
                const bj::object stored = store_data_block(b);
                const auto& src = stored.at("source").get_object();
                text += "<data url='" + std::string(str_at(src, "url")) + "' name='" + std::string(str_at(b, "name")) +
                        "' media_type='" + std::string(str_at(src, "media_type")) + "'/>";
            }
        }
    }
    const std::string base = session_dir_ + "/tool_result-" + file_name_part(call_id);
    constexpr int kMaxVersions = 1000;
    for (int version = 0; version < kMaxVersions; ++version) {
        const std::string relative = base + (version == 0 ? "" : "(" + std::to_string(version) + ")") + ".txt";
        const fs::path path = prepare(relative);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) fail("cannot create", path, errno);
        write_and_close(fd, text, path);
        return workspace_.workdir() + "/" + relative;
    }
    throw std::runtime_error("too many results of tool call " + std::string(call_id));
}

void ContextFiles::purge_session(const fs::path& host_dir, std::string_view session_id) {
    std::error_code ec;
    const fs::path sessions = host_dir / "sessions";
    if (!fs::is_directory(fs::symlink_status(sessions, ec))) return;  // missing, or not ours to follow
    fs::remove_all(sessions / file_name_part(session_id), ec);      // links inside are removed, not followed
}

}  // namespace agentd::workspace
