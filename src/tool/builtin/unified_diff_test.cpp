#include "tool/builtin/unified_diff.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tool/builtin/python_text.hpp"

namespace agentd::tool {
namespace {

// Each line: [a, b, expected] where expected was printed by CPython's
// "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
// fromfile="a//w/f.txt", tofile="b//w/f.txt", n=3)).
const char* kCases = R"J(["", "hello\n", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -0,0 +1 @@\n+hello\n"]
["a\n", "b", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -1 +1 @@\n-a\n+b"]
["a", "b", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -1 +1 @@\n-a+b"]
["line1\nline2\nline3\n", "line1\nchanged\nline3\n", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -1,3 +1,3 @@\n line1\n-line2\n+changed\n line3\n"]
["l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\nl13\nl14\nl15\nl16\nl17\nl18\nl19\nl20\n", "l1\nl2\nX3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\nl13\nl14\nX15\nl16\nl17\nl18\nl19\nl20\n", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -1,6 +1,6 @@\n l1\n l2\n-l3\n+X3\n l4\n l5\n l6\n@@ -12,7 +12,7 @@\n l12\n l13\n l14\n-l15\n+X15\n l16\n l17\n l18\n"]
["l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n", "l1\nl2\nl3\nl4\nl6\nl7\nl8\nl9\nl10\n", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -2,7 +2,6 @@\n l2\n l3\n l4\n-l5\n l6\n l7\n l8\n"]
["a\nb\nc\n", "a\nb\nc\nd\ne\n", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -1,3 +1,5 @@\n a\n b\n c\n+d\n+e\n"]
["x\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nend\n", "x\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nmid\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nend\n", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -148,6 +148,7 @@\n x\n x\n x\n+mid\n x\n x\n x\n"]
["same\n", "same\n", ""]
["a\nb\nc\nd\ne\nf\ng\nh\n", "h\ng\nf\ne\nd\nc\nb\na\n", "--- a//w/f.txt\n+++ b//w/f.txt\n@@ -1,8 +1,8 @@\n+h\n+g\n+f\n+e\n+d\n+c\n+b\n a\n-b\n-c\n-d\n-e\n-f\n-g\n-h\n"]
)J";

TEST(UnifiedDiff, ReproducesDifflib) {
    std::string_view rest = kCases;
    int n = 0;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        if (line.empty()) continue;
        const auto c = boost::json::parse(line).as_array();
        const std::string a(c[0].as_string()), b(c[1].as_string()), expected(c[2].as_string());
        EXPECT_EQ(unified_diff(split_lines_keepends(a), split_lines_keepends(b), "a//w/f.txt", "b//w/f.txt"), expected)
            << "case " << n;
        ++n;
    }
    EXPECT_EQ(n, 10);
}

TEST(UnifiedDiff, NewFileAgainstDevNull) {
    EXPECT_EQ(unified_diff({}, {"x\n", "y"}, "/dev/null", "b//f"), "--- /dev/null\n+++ b//f\n@@ -0,0 +1,2 @@\n+x\n+y");
}

}  // namespace
}  // namespace agentd::tool
