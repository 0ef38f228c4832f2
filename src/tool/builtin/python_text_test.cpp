#include "tool/builtin/python_text.hpp"

#include <gtest/gtest.h>

namespace agentd::tool {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(PythonText, DecodeReplaceMatchesCPython) {
    // Expected values printed by CPython 3: bytes.decode("utf-8", "replace").
    struct Case {
        std::string in, out;
    } cases[] = {
        {"plain", "plain"},
        {"a\xff" "b", "a" + kFffd + "b"},
        {"\xe2\x82", kFffd},
        {"\xe2\x82x", kFffd + "x"},
        {"\xf0\x9f\x98", kFffd},
        {"\xed\xa0\x80", kFffd + kFffd + kFffd},
        {"\xc0\xaf", kFffd + kFffd},
        {"caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80"},
    };
    for (const auto& c : cases) EXPECT_EQ(decode_utf8_replace(c.in), c.out) << c.in;
    EXPECT_EQ(decode_utf8_ignore("a\xff" "b\xe2\x82"), "ab");
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9"));
    EXPECT_FALSE(is_valid_utf8("caf\xc3"));
}

TEST(PythonText, NormalizeNewlines) {
    EXPECT_EQ(normalize_newlines("a\r\nb\rc\n\r\r\n"), "a\nb\nc\n\n\n");
}

TEST(PythonText, SplitLinesKeependsLikePython) {
    // 'a\x0bb\x0cc\x1cd\x85e\u2028f\r\ng\rh'.splitlines(True)
    const auto lines = split_lines_keepends("a\x0b" "b\x0c" "c\x1c" "d\xc2\x85" "e\xe2\x80\xa8" "f\r\ng\rh");
    const std::vector<std::string> expected = {"a\x0b", "b\x0c", "c\x1c", "d\xc2\x85", "e\xe2\x80\xa8", "f\r\n", "g\r", "h"};
    EXPECT_EQ(lines, expected);
    EXPECT_TRUE(split_lines_keepends("").empty());
    EXPECT_EQ(split_lines_keepends("x\n"), std::vector<std::string>{"x\n"});
    EXPECT_EQ(split_lines_keepends("\xe2\x80\xa9"), std::vector<std::string>{"\xe2\x80\xa9"});
}

TEST(PythonText, CountAndReplaceFollowPython) {
    EXPECT_EQ(python_count("aaaa", "aa"), 2u);
    EXPECT_EQ(python_count("abc", ""), 4u);
    EXPECT_EQ(python_count("\xc3\xa9t\xc3\xa9", ""), 4u);  // code points, not bytes
    EXPECT_EQ(python_replace("abc", "", "-"), "-a-b-c-");
    EXPECT_EQ(python_replace("ab", "", "X", 1), "Xab");
    EXPECT_EQ(python_replace("", "", "new"), "new");
    EXPECT_EQ(python_replace("\xc3\xa9" "a", "", "|"), "|\xc3\xa9|a|");
    EXPECT_EQ(python_replace("a.a.a", ".", "::"), "a::a::a");
    EXPECT_EQ(python_replace("a.a.a", ".", "::", 1), "a::a.a");
}

TEST(PythonText, CodePoints) {
    EXPECT_EQ(code_point_count("h\xc3\xa9llo"), 5u);
    EXPECT_EQ(code_point_prefix_bytes("h\xc3\xa9llo", 2), 3u);
    EXPECT_EQ(code_point_prefix_bytes("ab", 5), 2u);
}

}  // namespace
}  // namespace agentd::tool
