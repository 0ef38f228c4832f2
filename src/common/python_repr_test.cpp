#include "common/python_repr.hpp"

#include <gtest/gtest.h>

namespace agentd {
namespace {

namespace bj = boost::json;

TEST(PythonFormat, NamedFieldsAsStrFormatsThem) {
    // Python: '{a} {{literal}} {b} {c} {d} {e}'.format(a='x {b}', b=['p','q'], c=3.5, d=None, e={'k': True})
    const auto fields = bj::parse(R"({"a": "x {b}", "b": ["p", "q"], "c": 3.5, "d": null, "e": {"k": true}})").as_object();
    EXPECT_EQ(python_format("{a} {{literal}} {b} {c} {d} {e}", fields),
              "x {b} {literal} ['p', 'q'] 3.5 None {'k': True}");
}

TEST(PythonFormat, WhatPythonWouldRefuseStaysAsWritten) {
    const auto fields = bj::parse(R"({"a": "x"})").as_object();
    EXPECT_EQ(python_format("{a} {missing} { } {", fields), "x {missing} { } {");
    EXPECT_EQ(python_format("", fields), "");
}

}  // namespace
}  // namespace agentd
