#include "common/error.hpp"

#include <gtest/gtest.h>

namespace agentd {

TEST(PyRepr, QuotesLikePython) {
    EXPECT_EQ(py_repr("abc"), "'abc'");
    EXPECT_EQ(py_repr("it's"), "\"it's\"");
    EXPECT_EQ(py_repr("a'b\"c"), "'a\\'b\"c'");
    EXPECT_EQ(py_repr("a\nb"), "'a\\nb'");
}

TEST(ErrorBody, ValidationListShape) {
    ValidationIssue issue{"missing", boost::json::array{"header", "x-user-id"}, "Field required", nullptr, nullptr};
    Error e({issue});
    EXPECT_EQ(http_status(e.code()), 422);
    auto body = error_body(e);
    const auto& item = body.at("detail").as_array().at(0).as_object();
    EXPECT_EQ(item.at("type"), "missing");
    EXPECT_FALSE(item.contains("ctx"));
    EXPECT_TRUE(item.at("input").is_null());
}

}  // namespace agentd
