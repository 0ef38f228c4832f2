#pragma once
// The one error type for everything a client or the outside world can cause.
// Services throw agentd::Error; the HTTP boundary turns it into the reference's
// status code and JSON body through one table (error.cpp).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace agentd {

enum class ErrorCode {
    kValidation,          // 422, FastAPI's validation list
    kUnauthorized,        // 401
    kForbidden,           // 403
    kNotFound,            // 404
    kMethodNotAllowed,    // 405
    kConflict,            // 409
    kPayloadTooLarge,     // 413
    kHeadersTooLarge,     // 431
    kBadRequest,          // 400
    kServiceUnavailable,  // 503
    kInternal,            // 500
};

/// One item of a 422 list: {"type","loc","msg","input","ctx"?}.
struct ValidationIssue {
    std::string type;
    boost::json::array loc;
    std::string msg;
    boost::json::value input;
    boost::json::value ctx;  ///< null when absent
};

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, std::string detail)
        : std::runtime_error(detail), code_(code), detail_(std::move(detail)) {}
    explicit Error(std::vector<ValidationIssue> issues)
        : std::runtime_error("validation error"), code_(ErrorCode::kValidation),
          issues_(std::move(issues)) {}

    ErrorCode code() const { return code_; }
    const std::string& detail() const { return detail_; }
    const std::vector<ValidationIssue>& issues() const { return issues_; }

    static Error not_found(std::string detail) { return {ErrorCode::kNotFound, std::move(detail)}; }
    static Error conflict(std::string detail) { return {ErrorCode::kConflict, std::move(detail)}; }
    static Error forbidden(std::string detail) { return {ErrorCode::kForbidden, std::move(detail)}; }

private:
    ErrorCode code_;
    std::string detail_;
    std::vector<ValidationIssue> issues_;
};

/// HTTP status for a code.
int http_status(ErrorCode code);

/// The reference's JSON body for an error: {"detail": "..."} or {"detail": [issues]}.
boost::json::object error_body(const Error& e);

boost::json::object issue_to_json(const ValidationIssue& issue);

/// Python's repr() of a string, as used in the reference's messages ("Session 'x' not found.").
std::string py_repr(std::string_view s);

}  // namespace agentd
