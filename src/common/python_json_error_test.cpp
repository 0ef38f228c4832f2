#include "common/python_json_error.hpp"

#include <gtest/gtest.h>

#include "common/json.hpp"

namespace agentd::json {

// Expected positions and messages produced by CPython 3.11's json.loads on the same text.
TEST(PythonJsonError, MatchesCPython) {
    struct Case {
        std::string text;
        std::size_t pos;
        std::string msg;
    };
    const std::vector<Case> cases = {
        {std::string("nul", 3), 0, "Expecting value"},
        {std::string("{\"a\": tru}", 10), 6, "Expecting value"},
        {std::string("{\"a\" 1}", 7), 5, "Expecting ':' delimiter"},
        {std::string("[1 2]", 5), 3, "Expecting ',' delimiter"},
        {std::string("{\"a\": \"x", 8), 6, "Unterminated string starting at"},
        {std::string("{\"a\":1,}", 8), 7, "Expecting property name enclosed in double quotes"},
        {std::string("[1,]", 4), 3, "Expecting value"},
        {std::string("", 0), 0, "Expecting value"},
        {std::string(" ", 1), 1, "Expecting value"},
        {std::string("{\"\xc3""\xa9""\": [1, 2", 12), 11, "Expecting ',' delimiter"},
        {std::string("{1:2}", 5), 1, "Expecting property name enclosed in double quotes"},
        {std::string("\"a\\qb\"", 6), 2, "Invalid \\escape"},
        {std::string("\"\\u12G4\"", 8), 2, "Invalid \\uXXXX escape"},
        {std::string("{\"a\":1} x", 9), 8, "Extra data"},
        {std::string("\"a\x01""b\"", 5), 2, "Invalid control character at"},
        {std::string("[-]", 3), 1, "Expecting value"},
        {std::string("01", 2), 1, "Extra data"},
        {std::string("{\"k\": 1.}", 9), 7, "Expecting ',' delimiter"},
        {std::string("\"\xc3""\xa9""\xc3""\xa9""\" \"", 8), 5, "Extra data"},
    };
    for (const auto& c : cases) {
        auto err = python_json_error(c.text);
        ASSERT_TRUE(err) << c.text;
        EXPECT_EQ(err->pos, c.pos) << c.text;
        EXPECT_EQ(err->msg, c.msg) << c.text;
        auto parsed = parse(c.text);
        EXPECT_FALSE(parsed.value) << c.text;
        EXPECT_EQ(parsed.error_offset, c.pos) << c.text;
    }
}

TEST(PythonJsonError, AcceptsWhatPythonAccepts) {
    for (std::string ok : {"{}", "[]", " {\"a\": [1, -2.5e3, true, null, \"\\u00e9\"]} ", "NaN", "-Infinity"})
        EXPECT_FALSE(python_json_error(ok)) << ok;
}

}  // namespace agentd::json
