#include "common/error.hpp"

namespace agentd {

int http_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::kValidation: return 422;
        case ErrorCode::kUnauthorized: return 401;
        case ErrorCode::kForbidden: return 403;
        case ErrorCode::kNotFound: return 404;
        case ErrorCode::kMethodNotAllowed: return 405;
        case ErrorCode::kConflict: return 409;
        case ErrorCode::kPayloadTooLarge: return 413;
        case ErrorCode::kHeadersTooLarge: return 431;
        case ErrorCode::kBadRequest: return 400;
        case ErrorCode::kServiceUnavailable: return 503;
        case ErrorCode::kInternal: return 500;
    }
    return 500;
}

boost::json::object issue_to_json(const ValidationIssue& issue) {
    boost::json::object o;
    o["type"] = issue.type;
    o["loc"] = issue.loc;
    o["msg"] = issue.msg;
    o["input"] = issue.input;
    if (!issue.ctx.is_null()) o["ctx"] = issue.ctx;
    return o;
}

boost::json::object error_body(const Error& e) {
    boost::json::object body;
    if (e.code() == ErrorCode::kValidation) {
        boost::json::array list;
        for (const auto& i : e.issues()) list.push_back(issue_to_json(i));
        body["detail"] = std::move(list);
    } else {
        body["detail"] = e.detail();
    }
    return body;
}

std::string py_repr(std::string_view s) {
    // Python picks single quotes unless the text holds a single quote and no double quote.
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back(quote);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == static_cast<unsigned char>(quote)) { out.push_back('\\'); out.push_back(quote); }
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            static const char* kHex = "0123456789abcdef";
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        } else out.push_back(static_cast<char>(c));
    }
    out.push_back(quote);
    return out;
}

}  // namespace agentd
