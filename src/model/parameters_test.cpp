#include "model/parameters.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "model/model_test_support.hpp"

namespace agentd::model {
namespace {

using testing::parse;

/// The message `read` throws for `{"k": <json>}`, or "" when it accepts it.
template <typename Read>
std::string error_of(const char* json, Read read) {
    const auto params = parse(std::string(R"({"k":)") + json + "}").as_object();
    try {
        read(ParameterReader(params));
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

std::optional<std::int64_t> int_of(const char* json) {
    const auto params = parse(std::string(R"({"k":)") + json + "}").as_object();
    return ParameterReader(params).positive_int("k");
}

std::optional<double> number_of(const char* json) {
    const auto params = parse(std::string(R"({"k":)") + json + "}").as_object();
    return ParameterReader(params).number("k", 0, true, 1e300, true);
}

bool flag_of(const char* json) {
    const auto params = parse(std::string(R"({"k":)") + json + "}").as_object();
    return ParameterReader(params).flag("k", false);
}

TEST(ParameterReader, IntegersAreReadLaxly) {
    EXPECT_EQ(int_of("4096"), 4096);
    EXPECT_EQ(int_of("4096.0"), 4096);
    EXPECT_EQ(int_of(R"("4096")"), 4096);
    EXPECT_EQ(int_of(R"(" 4096\n")"), 4096);
    EXPECT_EQ(int_of(R"("+12")"), 12);
    EXPECT_EQ(int_of(R"("1_000")"), 1000);
    EXPECT_EQ(int_of(R"("007")"), 7);
    EXPECT_EQ(int_of(R"("4096.00")"), 4096);
    EXPECT_EQ(int_of("true"), 1);
    EXPECT_EQ(int_of("null"), std::nullopt);
    EXPECT_EQ(int_of("9223372036854775807"), INT64_MAX);
}

TEST(ParameterReader, NonIntegersKeepTheirErrors) {
    auto read = [](const ParameterReader& r) { r.positive_int("k"); };
    const std::string invalid = "parameters.k: Input should be a valid integer";
    for (const char* json : {R"("abc")", R"("4096.5")", R"("")", R"(" ")", R"("1__0")", R"("_1")",
                             R"("1_")", R"("+-1")", R"("4096.")", R"("1e3")", R"("0x10")", "4096.5",
                             "1e300", "[1]", "{}", "18446744073709551615"})
        EXPECT_EQ(error_of(json, read), invalid) << json;
    EXPECT_EQ(error_of(R"("0")", read), "parameters.k: Input should be greater than 0");
    EXPECT_EQ(error_of(R"("-5")", read), "parameters.k: Input should be greater than 0");
    EXPECT_EQ(error_of("false", read), "parameters.k: Input should be greater than 0");
}

TEST(ParameterReader, NumbersAreReadLaxly) {
    EXPECT_EQ(number_of("0.5"), 0.5);
    EXPECT_EQ(number_of("2"), 2.0);
    EXPECT_EQ(number_of(R"("0.5")"), 0.5);
    EXPECT_EQ(number_of(R"(" 1e-1 ")"), 0.1);
    EXPECT_EQ(number_of(R"("+.5")"), 0.5);
    EXPECT_EQ(number_of(R"("3.")"), 3.0);
    EXPECT_EQ(number_of(R"("1_000.5")"), 1000.5);
    EXPECT_EQ(number_of(R"("1e-400")"), 0.0);  // flushed to zero, as Rust's parser does
    EXPECT_EQ(number_of("true"), 1.0);
    EXPECT_EQ(number_of("false"), 0.0);
}

TEST(ParameterReader, NonNumbersKeepTheirErrors) {
    auto read = [](const ParameterReader& r) { r.number("k", 0, true, 2, true); };
    const std::string invalid = "parameters.k: Input should be a valid number";
    for (const char* json : {R"("abc")", R"("0.5x")", R"("")", R"(".")", R"("1e")", R"("0x1")",
                             "\"nan(1)\"", R"("_1")", R"("1__0")", "[0.5]"})
        EXPECT_EQ(error_of(json, read), invalid) << json;
    EXPECT_EQ(error_of(R"("3")", read), "parameters.k: Input is above the allowed range");
    EXPECT_EQ(error_of(R"("inf")", read), "parameters.k: Input is above the allowed range");
    EXPECT_EQ(error_of(R"("1e999")", read), "parameters.k: Input is above the allowed range");
    EXPECT_EQ(error_of(R"("-0.1")", read), "parameters.k: Input is below the allowed range");
    // NaN is in no range (pydantic: `nan >= 0` is false).
    EXPECT_EQ(error_of(R"("NaN")", read), "parameters.k: Input is below the allowed range");
    auto exclusive = [](const ParameterReader& r) { r.number("k", 0, false, 1, true); };
    EXPECT_EQ(error_of(R"("0")", exclusive), "parameters.k: Input is below the allowed range");
}

TEST(ParameterReader, BooleansAreReadLaxly) {
    for (const char* json : {"true", "1", "1.0", R"("1")", R"("on")", R"("t")", R"("TRUE")",
                             R"("True")", R"("y")", R"("Yes")"})
        EXPECT_TRUE(flag_of(json)) << json;
    for (const char* json :
         {"false", "0", "0.0", R"("0")", R"("OFF")", R"("f")", R"("false")", R"("N")", R"("no")"})
        EXPECT_FALSE(flag_of(json)) << json;
    auto read = [](const ParameterReader& r) { r.flag("k", false); };
    for (const char* json :
         {"2", "0.5", "-1", R"("2")", R"("maybe")", R"("")", R"(" true")", R"("1.0")", "[]"})
        EXPECT_EQ(error_of(json, read), "parameters.k: Input should be a valid boolean") << json;
}

}  // namespace
}  // namespace agentd::model
