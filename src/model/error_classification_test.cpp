#include "model/error_classification.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "model/chat_model.hpp"
#include "model/structured_output.hpp"
#include "net/http_client.hpp"

namespace agentd::model {
namespace {

template <typename E>
ErrorType type_of(E e) {
    return classify_type(std::make_exception_ptr(std::move(e)));
}

TEST(ErrorClassification, HttpStatuses) {
    EXPECT_EQ(type_of(ModelError(401, false, "")), ErrorType::kAuthentication);
    EXPECT_EQ(type_of(ModelError(403, false, "")), ErrorType::kPermission);
    EXPECT_EQ(type_of(ModelError(429, true, "")), ErrorType::kRateLimit);
    EXPECT_EQ(type_of(ModelError(400, false, "")), ErrorType::kInvalidRequest);
    EXPECT_EQ(type_of(ModelError(404, false, "")), ErrorType::kInvalidRequest);
    EXPECT_EQ(type_of(ModelError(422, false, "")), ErrorType::kInvalidRequest);
    EXPECT_EQ(type_of(ModelError(409, false, "")), ErrorType::kInvalidRequest);
    EXPECT_EQ(type_of(ModelError(500, true, "")), ErrorType::kUpstream);
    EXPECT_EQ(type_of(ModelError(529, false, "")), ErrorType::kUpstream);
}

TEST(ErrorClassification, ServiceErrorsCarryTheirStatus) {
    EXPECT_EQ(type_of(agentd::Error::not_found("No model configuration found")),
              ErrorType::kInvalidRequest);
    EXPECT_EQ(type_of(agentd::Error::conflict("busy")), ErrorType::kInvalidRequest);
    EXPECT_EQ(type_of(agentd::Error::forbidden("no")), ErrorType::kPermission);
}

TEST(ErrorClassification, TransportFailuresAreConnection) {
    EXPECT_EQ(type_of(ModelError(0, true, "connect refused")), ErrorType::kConnection);
    EXPECT_EQ(type_of(net::TransportError(net::TransportError::Kind::kTimeout, "t")),
              ErrorType::kConnection);
    EXPECT_EQ(type_of(std::system_error(std::make_error_code(std::errc::timed_out))),
              ErrorType::kConnection);
    EXPECT_EQ(
        type_of(std::system_error(std::make_error_code(std::errc::no_such_file_or_directory))),
        ErrorType::kUnknown);
}

TEST(ErrorClassification, WrappedCausesAreWalked) {
    std::exception_ptr wrapped;
    try {
        try {
            throw ModelError(401, false, "inner");
        } catch (...) {
            std::throw_with_nested(std::runtime_error("outer"));
        }
    } catch (...) {
        wrapped = std::current_exception();
    }
    EXPECT_EQ(classify_type(wrapped), ErrorType::kAuthentication);
    EXPECT_EQ(http_status_of(wrapped), 401);
}

TEST(ErrorClassification, InternalUnknownAndSetup) {
    EXPECT_EQ(type_of(DeveloperError("bug")), ErrorType::kInternal);
    EXPECT_EQ(type_of(std::runtime_error("?")), ErrorType::kUnknown);
    EXPECT_EQ(type_of(StructuredOutputError("no")), ErrorType::kUnknown);
    auto setup = classify_setup_error(std::make_exception_ptr(std::runtime_error("?")));
    EXPECT_EQ(setup.type, ErrorType::kSetup);
    EXPECT_EQ(
        setup.message,
        "The session could not be prepared — check the agent's model, tools and knowledge bases.");
    auto auth =
        classify_setup_error(std::make_exception_ptr(ModelError(401, false, "secret detail")));
    EXPECT_EQ(auth.type, ErrorType::kAuthentication);
}

TEST(ErrorClassification, FixedMessagesNeverLeakDetails) {
    auto info =
        classify_error(std::make_exception_ptr(ModelError(429, true, "sk-live-123 over quota")));
    EXPECT_EQ(info.message, "Rate limit or quota exceeded — try again later.");
    EXPECT_EQ(to_string(info.type), "rate_limit");
    EXPECT_EQ(
        boost::json::serialize(info.to_json()),
        R"({"type":"rate_limit","message":"Rate limit or quota exceeded — try again later."})");
    EXPECT_EQ(user_message(ErrorType::kAuthentication),
              "Authentication failed — check the model's API key / credential.");
    EXPECT_EQ(user_message(ErrorType::kPermission),
              "Request not allowed — the credential lacks permission for this model or endpoint.");
    EXPECT_EQ(user_message(ErrorType::kInvalidRequest),
              "The request to the model was rejected as invalid.");
    EXPECT_EQ(user_message(ErrorType::kUpstream), "The upstream model service returned an error.");
    EXPECT_EQ(user_message(ErrorType::kConnection),
              "Could not reach the model service — network error or timeout.");
    EXPECT_EQ(user_message(ErrorType::kInternal), "An unexpected internal error occurred.");
    EXPECT_EQ(user_message(ErrorType::kUnknown), "The reply failed with an unknown error.");
}

}  // namespace
}  // namespace agentd::model
