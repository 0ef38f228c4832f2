#pragma once
// Transport-neutral request and response: the router and every handler work on
// these, so all behaviour is testable without a socket. Only http/server.cpp
// knows Boost.Beast.
#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <string_view>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentd::http {

class StreamBody;

struct Request {
    std::string method;  ///< upper case, e.g. "GET"
    std::string target;  ///< raw request target: path and query
    std::string path;    ///< percent-decoded path
    std::string raw_query;
    std::vector<std::pair<std::string, std::string>> query;  ///< decoded, in order
    /// Lower-case names. A header sent more than once keeps its first value, as
    /// Starlette's `headers.get` reads it: two `X-User-ID`s are not one user "a, b".
    std::map<std::string, std::string> headers;
    std::string body;
    std::string request_id;

    const std::string* header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? nullptr : &it->second;
    }
    /// The value of a query parameter; its last one when it is repeated, as
    /// Starlette's `QueryParams` reads it.
    const std::string* query_param(std::string_view name) const {
        for (auto it = query.rbegin(); it != query.rend(); ++it)
            if (it->first == name) return &it->second;
        return nullptr;
    }
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// When set, the body instead of `body`: lets cached bodies go out without a copy.
    std::shared_ptr<const std::string> shared_body;
    /// When set, the body is streamed (chunked) from this source; `body` is ignored.
    std::shared_ptr<StreamBody> stream;

    std::string_view body_view() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }

    static Response json(int status, const boost::json::value& v);
    static Response json_text(int status, std::string body);
    static Response empty(int status);
};

/// Splits "a=1&b=%20x" into decoded pairs ('+' is a space, as in forms). Escapes
/// that decode to ill-formed UTF-8 become U+FFFD, as with Python's unquote.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view raw);
/// Percent-decodes a path; nullopt on a malformed escape. Ill-formed UTF-8 becomes U+FFFD.
std::optional<std::string> decode_path(std::string_view raw);
/// `text` with every maximal ill-formed UTF-8 subsequence replaced by one U+FFFD
/// (Python's errors="replace"): what reaches a handler, and so any JSON written
/// back, is valid UTF-8.
std::string to_valid_utf8(std::string text);
/// A header value as Starlette hands it to a handler: its bytes read as Latin-1
/// (what a browser sends for characters up to U+00FF), as UTF-8 text.
std::string latin1_header_text(std::string_view raw);
/// Whether FastAPI would read the body as JSON: no `Content-Type` (or an empty
/// one), or a media type `application/json` or `application/<anything>+json`,
/// parameters and case aside. Any other body reaches validation as raw bytes.
bool body_declared_json(const Request& req);

}  // namespace agentd::http
