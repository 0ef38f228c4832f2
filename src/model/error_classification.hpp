#pragma once
// Why a reply failed, in the reference's vocabulary (api-core.md §8,
// runtime.md §3.10.3): an ErrorType and its fixed user-facing sentence. The
// raw exception text never reaches clients.
#include <boost/json/object.hpp>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace agentd::model {

enum class ErrorType {
    kAuthentication,
    kPermission,
    kRateLimit,
    kInvalidRequest,
    kUpstream,
    kConnection,
    kInternal,
    kSetup,
    kUnknown,
};

/// The wire value ("rate_limit", …).
std::string_view to_string(ErrorType type);

/// The fixed sentence shown for a type (the reference's `_GENERIC_MESSAGE`).
std::string_view user_message(ErrorType type);

/// A framework bug (the reference's DeveloperOrientedException): classified
/// `internal`. Throw it for broken invariants that a user cannot cause.
class DeveloperError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

struct ErrorInfo {
    ErrorType type = ErrorType::kUnknown;
    std::string message;
    /// {"type": "...", "message": "..."} as in REPLY_END and Msg.error.
    boost::json::object to_json() const;
};

/// The HTTP status found first along `e` and everything it wraps
/// (std::nested_exception chains): ModelError::status() (when > 0) and
/// agentd::Error's code; nullopt when none.
std::optional<int> http_status_of(std::exception_ptr e);

/// The type of a failed reply: HTTP status first (401 authentication, 403
/// permission, 429 rate_limit, 400/404/422 and other statuses invalid_request,
/// ≥500 upstream), then transport failures anywhere in the chain (connection),
/// then DeveloperError (internal), else unknown.
ErrorType classify_type(std::exception_ptr e);

ErrorInfo classify_error(std::exception_ptr e);

/// classify_error, with `unknown` reported as `setup` (failures before the
/// agent could reply).
ErrorInfo classify_setup_error(std::exception_ptr e);

}  // namespace agentd::model
