#include "model/provider_error.hpp"

#include "model/history.hpp"

namespace agentd::model {

int status_for_error_type(std::string_view type) {
    struct Entry {
        std::string_view name;
        int status;
    };
    static constexpr Entry kTable[] = {
        {"invalid_request_error", 400}, {"INVALID_ARGUMENT", 400},   {"FAILED_PRECONDITION", 400},
        {"authentication_error", 401},  {"UNAUTHENTICATED", 401},    {"permission_error", 403},
        {"PERMISSION_DENIED", 403},     {"not_found_error", 404},    {"NOT_FOUND", 404},
        {"request_too_large", 413},     {"rate_limit_error", 429},   {"rate_limit_exceeded", 429},
        {"insufficient_quota", 429},    {"RESOURCE_EXHAUSTED", 429}, {"api_error", 500},
        {"server_error", 500},          {"INTERNAL", 500},           {"UNAVAILABLE", 503},
        {"DEADLINE_EXCEEDED", 504},     {"overloaded_error", 529},
    };
    for (const auto& e : kTable)
        if (e.name == type) return e.status;
    return 0;
}

std::string error_message_of(std::string_view body) {
    constexpr std::size_t kMax = 500;
    boost::system::error_code ec;
    auto v = bj::parse(body, ec);
    if (!ec && v.is_object()) {
        const auto& o = v.get_object();
        if (auto it = o.find("error"); it != o.end()) {
            if (it->value().is_string())
                return std::string(it->value().get_string()).substr(0, kMax);
            if (it->value().is_object()) {
                auto msg = str_at(it->value().get_object(), "message");
                if (!msg.empty()) return std::string(msg.substr(0, kMax));
            }
        }
        if (auto msg = str_at(o, "message"); !msg.empty()) return std::string(msg.substr(0, kMax));
    }
    return std::string(body.substr(0, kMax));
}

bj::object parse_event_or_throw(std::string_view payload, std::string_view provider) {
    boost::system::error_code ec;
    auto v = bj::parse(payload, ec);
    if (ec || !v.is_object())
        throw ModelError(502, false,
                         std::string(provider) + " stream carried a malformed event: " +
                             std::string(payload.substr(0, 200)));
    return std::move(v.get_object());
}

void throw_if_error_payload(const bj::object& event) {
    auto it = event.find("error");
    if (it == event.end() || it->value().is_null()) {
        if (str_at(event, "type") != "error") return;
    }
    int status = 0;
    std::string message = "provider reported an error";
    if (it != event.end()) {
        const auto& err = it->value();
        if (err.is_string()) {
            message = std::string(err.get_string());
        } else if (err.is_object()) {
            const auto& e = err.get_object();
            if (auto m = str_at(e, "message"); !m.empty()) message = std::string(m);
            if (auto c = e.find("code"); c != e.end()) {
                if (c->value().is_int64())
                    status = static_cast<int>(c->value().get_int64());
                else if (c->value().is_string())
                    status = status_for_error_type(c->value().get_string());
            }
            if (status < 400 || status > 599) status = status_for_error_type(str_at(e, "type"));
            if (status == 0) status = status_for_error_type(str_at(e, "status"));
        }
    }
    if (status < 400 || status > 599) status = 502;
    throw ModelError(status, false, message);
}

}  // namespace agentd::model
