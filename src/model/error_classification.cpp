#include "model/error_classification.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <optional>
#include <system_error>
#include <vector>

#include "common/error.hpp"
#include "model/chat_model.hpp"
#include "net/http_client.hpp"

namespace agentd::model {

std::string_view to_string(ErrorType type) {
    switch (type) {
        case ErrorType::kAuthentication:
            return "authentication";
        case ErrorType::kPermission:
            return "permission";
        case ErrorType::kRateLimit:
            return "rate_limit";
        case ErrorType::kInvalidRequest:
            return "invalid_request";
        case ErrorType::kUpstream:
            return "upstream";
        case ErrorType::kConnection:
            return "connection";
        case ErrorType::kInternal:
            return "internal";
        case ErrorType::kSetup:
            return "setup";
        case ErrorType::kUnknown:
            return "unknown";
    }
    return "unknown";
}

std::string_view user_message(ErrorType type) {
    switch (type) {
        case ErrorType::kAuthentication:
            return "Authentication failed — check the model's API key / credential.";
        case ErrorType::kPermission:
            return "Request not allowed — the credential lacks permission for this model or "
                   "endpoint.";
        case ErrorType::kRateLimit:
            return "Rate limit or quota exceeded — try again later.";
        case ErrorType::kInvalidRequest:
            return "The request to the model was rejected as invalid.";
        case ErrorType::kUpstream:
            return "The upstream model service returned an error.";
        case ErrorType::kConnection:
            return "Could not reach the model service — network error or timeout.";
        case ErrorType::kInternal:
            return "An unexpected internal error occurred.";
        case ErrorType::kSetup:
            return "The session could not be prepared — check the agent's model, tools and "
                   "knowledge bases.";
        case ErrorType::kUnknown:
            return "The reply failed with an unknown error.";
    }
    return "The reply failed with an unknown error.";
}

boost::json::object ErrorInfo::to_json() const {
    return {{"type", to_string(type)}, {"message", message}};
}

namespace {

/// `e` followed by what it wraps (std::nested_exception), at most 32 deep.
std::vector<std::exception_ptr> chain_of(std::exception_ptr e) {
    std::vector<std::exception_ptr> out;
    while (e && out.size() < 32) {
        out.push_back(e);
        std::exception_ptr next;
        try {
            std::rethrow_exception(e);
        } catch (const std::nested_exception& n) {
            next = n.nested_ptr();
        } catch (...) {
        }
        e = next;
    }
    return out;
}

std::optional<int> status_of_one(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const ModelError& m) {
        if (m.status() > 0) return m.status();
    } catch (const agentd::Error& err) {
        return http_status(err.code());
    } catch (...) {
    }
    return std::nullopt;
}

/// Timeouts and connection errors (Python's TimeoutError / ConnectionError family).
bool is_network_errno(const std::error_condition& c) {
    if (c.category() != std::generic_category()) return false;
    switch (static_cast<std::errc>(c.value())) {
        case std::errc::timed_out:
        case std::errc::connection_refused:
        case std::errc::connection_reset:
        case std::errc::connection_aborted:
        case std::errc::host_unreachable:
        case std::errc::network_unreachable:
        case std::errc::network_down:
        case std::errc::not_connected:
        case std::errc::broken_pipe:
            return true;
        default:
            return false;
    }
}

bool is_network_failure(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const net::TransportError&) {
        return true;
    } catch (const ModelError& m) {
        return m.status() == 0;  // transport failure after the model's own retries
    } catch (const std::system_error& s) {
        return is_network_errno(s.code().default_error_condition());
    } catch (const boost::system::system_error& s) {
        if (s.code().category() == boost::asio::error::get_netdb_category()) return true;
        auto c = s.code().default_error_condition();
        return is_network_errno(std::error_condition(c.value(), std::generic_category())) &&
               c.category() == boost::system::generic_category();
    } catch (...) {
    }
    return false;
}

bool is_developer_error(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const DeveloperError&) {
        return true;
    } catch (...) {
    }
    return false;
}

}  // namespace

std::optional<int> http_status_of(std::exception_ptr e) {
    for (const auto& each : chain_of(e))
        if (auto s = status_of_one(each)) return s;
    return std::nullopt;
}

ErrorType classify_type(std::exception_ptr e) {
    if (auto status = http_status_of(e)) {
        switch (*status) {
            case 401:
                return ErrorType::kAuthentication;
            case 403:
                return ErrorType::kPermission;
            case 429:
                return ErrorType::kRateLimit;
            case 400:
            case 404:
            case 422:
                return ErrorType::kInvalidRequest;
            default:
                return *status >= 500 ? ErrorType::kUpstream : ErrorType::kInvalidRequest;
        }
    }
    for (const auto& each : chain_of(e))
        if (is_network_failure(each)) return ErrorType::kConnection;
    if (is_developer_error(e)) return ErrorType::kInternal;
    return ErrorType::kUnknown;
}

ErrorInfo classify_error(std::exception_ptr e) {
    ErrorType t = classify_type(e);
    return {t, std::string(user_message(t))};
}

ErrorInfo classify_setup_error(std::exception_ptr e) {
    ErrorType t = classify_type(e);
    if (t == ErrorType::kUnknown) t = ErrorType::kSetup;
    return {t, std::string(user_message(t))};
}

}  // namespace agentd::model
