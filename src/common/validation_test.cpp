#include "common/validation.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <cmath>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "domain/model_schema.hpp"

// pydantic's lax mode, as FastAPI applies it to JSON bodies and query strings.
// Expected types, messages and ctx are pydantic 2's (errors.pydantic.dev).
namespace agentd::validation {
namespace {

namespace bj = boost::json;

const bj::array kLoc{"body", "x"};

/// Runs one reader and returns its single issue (the test fails if there is not exactly one).
template <typename F>
ValidationIssue only_issue(F&& read) {
    Issues issues;
    read(issues);
    EXPECT_EQ(issues.size(), 1u);
    if (issues.size() != 1) return {};
    EXPECT_EQ(issues.list()[0].loc, kLoc);
    return issues.list()[0];
}

// ---- int --------------------------------------------------------------------------

TEST(ValidationInt, AcceptsLaxInputs) {
    Issues issues;
    EXPECT_EQ(as_int(bj::value(5), kLoc, issues), 5);
    EXPECT_EQ(as_int(bj::value("5"), kLoc, issues), 5);
    EXPECT_EQ(as_int(bj::value(" 7 "), kLoc, issues), 7);  // pydantic strips whitespace
    EXPECT_EQ(as_int(bj::value("-12"), kLoc, issues), -12);
    EXPECT_EQ(as_int(bj::value(5.0), kLoc, issues), 5);
    EXPECT_EQ(as_int(bj::value(-3.0), kLoc, issues), -3);
    EXPECT_EQ(as_int(bj::value(true), kLoc, issues), 1);
    EXPECT_EQ(as_int(bj::value(false), kLoc, issues), 0);
    EXPECT_EQ(as_int(bj::value(std::uint64_t{42}), kLoc, issues), 42);
    EXPECT_TRUE(issues.empty());
}

// pydantic-core (tests/validators/test_int.py) parses an integer string whose fraction is
// all zeros ("42.0" -> 42, "123.000" -> 123) and one with single underscores between
// digits ("1_000_000").
TEST(ValidationInt, AcceptsZeroFractionAndUnderscoreStrings) {
    Issues issues;
    EXPECT_EQ(as_int(bj::value("42.0"), kLoc, issues), 42);
    EXPECT_EQ(as_int(bj::value("123.000"), kLoc, issues), 123);
    EXPECT_EQ(as_int(bj::value("1_000_000"), kLoc, issues), 1000000);
    EXPECT_TRUE(issues.empty()) << issues.size() << " issue(s), first: "
                                << (issues.empty() ? "" : issues.list()[0].type);
}

// pydantic takes integers of any size; beyond int64 they saturate here, so that a
// bound reports them as pydantic does and an unbounded field takes the largest value.
TEST(ValidationInt, IntegersBeyondInt64Saturate) {
    Issues issues;
    EXPECT_EQ(as_int(bj::value("99999999999999999999"), kLoc, issues), INT64_MAX);
    EXPECT_EQ(as_int(bj::value("-99_999_999_999_999_999_999"), kLoc, issues), INT64_MIN);
    EXPECT_EQ(as_int(bj::value(std::uint64_t{18446744073709551615u}), kLoc, issues), INT64_MAX);
    EXPECT_EQ(as_int(bj::parse("100000000000000000000"), kLoc, issues), INT64_MAX);  // read as a double
    EXPECT_EQ(as_int(bj::value(-1e30), kLoc, issues), INT64_MIN);
    EXPECT_TRUE(issues.empty());
    // Still refused: what is not an integer at any size.
    EXPECT_FALSE(as_int(bj::value(std::numeric_limits<double>::infinity()), kLoc, issues));
    EXPECT_FALSE(as_int(bj::value("9999999999999999999x"), kLoc, issues));
}

TEST(ValidationInt, UnparsableStringIsIntParsing) {
    for (const char* text : {"abc", "", "5x", "5.5", "0x10"}) {
        auto issue = only_issue([&](Issues& i) { EXPECT_FALSE(as_int(bj::value(text), kLoc, i)); });
        EXPECT_EQ(issue.type, "int_parsing") << text;
        EXPECT_EQ(issue.msg,
                  "Input should be a valid integer, unable to parse string as an integer");
        EXPECT_EQ(issue.input, bj::value(text));
        EXPECT_TRUE(issue.ctx.is_null());
    }
}

TEST(ValidationInt, FractionalFloatIsIntFromFloat) {
    auto issue = only_issue([](Issues& i) { EXPECT_FALSE(as_int(bj::value(5.5), kLoc, i)); });
    EXPECT_EQ(issue.type, "int_from_float");
    EXPECT_EQ(issue.msg, "Input should be a valid integer, got a number with a fractional part");
    EXPECT_EQ(issue.input, bj::value(5.5));
}

TEST(ValidationInt, OtherKindsAreIntType) {
    for (const bj::value& v :
         {bj::value(nullptr), bj::value(bj::array{1}), bj::value(bj::object{})}) {
        auto issue = only_issue([&](Issues& i) { EXPECT_FALSE(as_int(v, kLoc, i)); });
        EXPECT_EQ(issue.type, "int_type");
        EXPECT_EQ(issue.msg, "Input should be a valid integer");
        EXPECT_EQ(issue.input, v);
    }
}

// ---- float ------------------------------------------------------------------------

TEST(ValidationFloat, AcceptsLaxInputs) {
    Issues issues;
    EXPECT_EQ(as_float(bj::value("0.5"), kLoc, issues), 0.5);
    EXPECT_EQ(as_float(bj::value("1e3"), kLoc, issues), 1000.0);
    EXPECT_EQ(as_float(bj::value(2), kLoc, issues), 2.0);
    EXPECT_EQ(as_float(bj::value(0.25), kLoc, issues), 0.25);
    EXPECT_EQ(as_float(bj::value(true), kLoc, issues), 1.0);
    EXPECT_TRUE(issues.empty());
}

TEST(ValidationFloat, UnparsableStringIsFloatParsing) {
    auto issue = only_issue([](Issues& i) { EXPECT_FALSE(as_float(bj::value("abc"), kLoc, i)); });
    EXPECT_EQ(issue.type, "float_parsing");
    EXPECT_EQ(issue.msg, "Input should be a valid number, unable to parse string as a number");
    EXPECT_EQ(issue.input, bj::value("abc"));
}

TEST(ValidationFloat, StringsFollowPydantic) {
    // Checked against pydantic 2.13's TypeAdapter(float).
    Issues issues;
    for (const auto& [text, want] : std::vector<std::pair<const char*, double>>{
             {"+0.5", 0.5}, {"1_0.5", 10.5}, {"1_e5", 1e5}, {"1e_5", 1e5}, {"1.5_0", 1.5},
             {".5", 0.5}, {"5.", 5.0}, {" 1 ", 1.0}, {"\t2\n", 2.0}, {"1E+5", 1e5}, {"-0", -0.0},
             {"inf", HUGE_VAL}, {"+Infinity", HUGE_VAL}, {"-INF", -HUGE_VAL}}) {
        auto got = as_float(bj::value(text), kLoc, issues);
        ASSERT_TRUE(got) << text;
        EXPECT_EQ(*got, want) << text;
    }
    auto nan = as_float(bj::value("NaN"), kLoc, issues);
    ASSERT_TRUE(nan);
    EXPECT_TRUE(std::isnan(*nan));
    EXPECT_EQ(issues.size(), 0u);
    for (const char* bad : {"0x10", "1__0", "_1", "1_", "+-1", "--1", "1e", "e5", "nan(1)", "", " ", "1 2"}) {
        auto issue = only_issue([&](Issues& i) { EXPECT_FALSE(as_float(bj::value(bad), kLoc, i)) << bad; });
        EXPECT_EQ(issue.type, "float_parsing") << bad;
    }
}

TEST(ValidationFloat, OtherKindsAreFloatType) {
    auto issue = only_issue([](Issues& i) { EXPECT_FALSE(as_float(bj::value(nullptr), kLoc, i)); });
    EXPECT_EQ(issue.type, "float_type");
    EXPECT_EQ(issue.msg, "Input should be a valid number");
}

// ---- bool -------------------------------------------------------------------------

TEST(ValidationBool, AcceptsPydanticWords) {
    Issues issues;
    for (const char* t : {"yes", "YES", "true", "True", "on", "y", "t", "1"})
        EXPECT_EQ(as_bool(bj::value(t), kLoc, issues), true) << t;
    for (const char* f : {"no", "false", "False", "off", "n", "f", "0"})
        EXPECT_EQ(as_bool(bj::value(f), kLoc, issues), false) << f;
    EXPECT_EQ(as_bool(bj::value(0), kLoc, issues), false);
    EXPECT_EQ(as_bool(bj::value(1), kLoc, issues), true);
    EXPECT_EQ(as_bool(bj::value(1.0), kLoc, issues), true);
    EXPECT_EQ(as_bool(bj::value(true), kLoc, issues), true);
    EXPECT_TRUE(issues.empty());
}

// pydantic: unrecognised strings and integers are bool_parsing; a float such as
// 0.5 is bool_type (checked against pydantic 2.13).
TEST(ValidationBool, OtherStringsAndNumbersAreBoolParsing) {
    for (const bj::value& v : {bj::value("maybe"), bj::value(2)}) {
        auto issue = only_issue([&](Issues& i) { EXPECT_FALSE(as_bool(v, kLoc, i)); });
        EXPECT_EQ(issue.type, "bool_parsing");
        EXPECT_EQ(issue.msg, "Input should be a valid boolean, unable to interpret input");
        EXPECT_EQ(issue.input, v);
    }
}

TEST(ValidationBool, OtherKindsAreBoolType) {
    auto issue = only_issue([](Issues& i) { EXPECT_FALSE(as_bool(bj::value(nullptr), kLoc, i)); });
    EXPECT_EQ(issue.type, "bool_type");
    EXPECT_EQ(issue.msg, "Input should be a valid boolean");
}

// ---- str, containers ---------------------------------------------------------------

TEST(ValidationString, NumbersAreNotCoercedToStrings) {
    for (const bj::value& v : {bj::value(5), bj::value(true), bj::value(nullptr), bj::value(1.5)}) {
        auto issue = only_issue([&](Issues& i) { EXPECT_FALSE(as_string(v, kLoc, i)); });
        EXPECT_EQ(issue.type, "string_type");
        EXPECT_EQ(issue.msg, "Input should be a valid string");
        EXPECT_EQ(issue.input, v);
    }
    Issues issues;
    EXPECT_EQ(as_string(bj::value(""), kLoc, issues), "");
    EXPECT_TRUE(issues.empty());
}

TEST(ValidationContainers, ModelDictAndListMessages) {
    auto m = only_issue([](Issues& i) { EXPECT_EQ(as_model(bj::value("x"), kLoc, i), nullptr); });
    EXPECT_EQ(m.type, "model_attributes_type");
    EXPECT_EQ(m.msg, "Input should be a valid dictionary or object to extract fields from");
    auto d =
        only_issue([](Issues& i) { EXPECT_EQ(as_dict(bj::value(bj::array{}), kLoc, i), nullptr); });
    EXPECT_EQ(d.type, "dict_type");
    EXPECT_EQ(d.msg, "Input should be a valid dictionary");
    auto l = only_issue(
        [](Issues& i) { EXPECT_EQ(as_list(bj::value(bj::object{}), kLoc, i), nullptr); });
    EXPECT_EQ(l.type, "list_type");
    EXPECT_EQ(l.msg, "Input should be a valid list");
}

// ---- bounds -----------------------------------------------------------------------

TEST(ValidationBound, LessThanOrEqualPrintsTheFloatBound) {
    auto issue = only_issue([](Issues& i) {
        EXPECT_FALSE(check_bound(0.95, bj::value(0.95), Bound::kLe, 0.9, bj::value(0.9), kLoc, i));
    });
    EXPECT_EQ(issue.type, "less_than_equal");
    EXPECT_EQ(issue.msg, "Input should be less than or equal to 0.9");
    EXPECT_EQ(issue.ctx, (bj::object{{"le", 0.9}}));
    EXPECT_EQ(issue.input, bj::value(0.95));
    // The error JSON keeps the float form of the bound.
    EXPECT_EQ(
        json::write(issue_to_json(issue)),
        R"({"type":"less_than_equal","loc":["body","x"],"msg":"Input should be less than or equal to 0.9",)"
        R"("input":0.95,"ctx":{"le":0.9}})");
}

TEST(ValidationBound, GreaterThanPrintsTheIntBound) {
    auto issue = only_issue([](Issues& i) {
        EXPECT_FALSE(check_bound(0, bj::value(0), Bound::kGt, 0, bj::value(0), kLoc, i));
    });
    EXPECT_EQ(issue.type, "greater_than");
    EXPECT_EQ(issue.msg, "Input should be greater than 0");
    EXPECT_EQ(issue.ctx, (bj::object{{"gt", 0}}));
    EXPECT_TRUE(issue.ctx.as_object().at("gt").is_int64());
}

TEST(ValidationBound, GeAndLtWordsAndEdges) {
    Issues ok;
    EXPECT_TRUE(check_bound(0, bj::value(0), Bound::kGe, 0, bj::value(0), kLoc, ok));
    EXPECT_TRUE(check_bound(0.9, bj::value(0.9), Bound::kLe, 0.9, bj::value(0.9), kLoc, ok));
    EXPECT_TRUE(ok.empty());

    auto ge = only_issue([](Issues& i) {
        EXPECT_FALSE(check_bound(-1, bj::value(-1), Bound::kGe, 0, bj::value(0), kLoc, i));
    });
    EXPECT_EQ(ge.type, "greater_than_equal");
    EXPECT_EQ(ge.msg, "Input should be greater than or equal to 0");
    EXPECT_EQ(ge.ctx, (bj::object{{"ge", 0}}));

    auto lt = only_issue([](Issues& i) {
        EXPECT_FALSE(check_bound(0.9, bj::value("0.9"), Bound::kLt, 0.9, bj::value(0.9), kLoc, i));
    });
    EXPECT_EQ(lt.type, "less_than");
    EXPECT_EQ(lt.msg, "Input should be less than 0.9");
    EXPECT_EQ(lt.input, bj::value("0.9"));  // the raw input, not the converted number
}

TEST(ValidationBound, NumberTextIsPythonRepr) {
    EXPECT_EQ(number_text(bj::value(0)), "0");
    EXPECT_EQ(number_text(bj::value(200)), "200");
    EXPECT_EQ(number_text(bj::value(0.9)), "0.9");
    EXPECT_EQ(number_text(bj::value(1.0)), "1.0");
}

// ---- choices ------------------------------------------------------------------------

TEST(ValidationChoice, LiteralAndEnumMessages) {
    auto lit = only_issue([](Issues& i) {
        EXPECT_FALSE(as_choice(bj::value("x"), kLoc, i, {"a", "b", "c"}, false));
    });
    EXPECT_EQ(lit.type, "literal_error");
    EXPECT_EQ(lit.msg, "Input should be 'a', 'b' or 'c'");
    EXPECT_EQ(lit.ctx, (bj::object{{"expected", "'a', 'b' or 'c'"}}));

    auto two = only_issue([](Issues& i) {
        EXPECT_FALSE(as_choice(bj::value(1), kLoc, i, {"a", "b"}, true));
    });
    EXPECT_EQ(two.type, "enum");
    EXPECT_EQ(two.msg, "Input should be 'a' or 'b'");
    EXPECT_EQ(two.input, bj::value(1));

    auto one = only_issue(
        [](Issues& i) { EXPECT_FALSE(as_choice(bj::value("b"), kLoc, i, {"a"}, false)); });
    EXPECT_EQ(one.msg, "Input should be 'a'");

    Issues issues;
    EXPECT_EQ(as_choice(bj::value("b"), kLoc, issues, {"a", "b"}, true), "b");
    EXPECT_TRUE(issues.empty());
}

TEST(ValidationChoice, PermissionModeEnumViaFieldSpec) {
    domain::FieldSpec spec{.name = "permission_mode",
                           .kind = domain::FieldKind::kStr,
                           .choices = {"default", "accept_edits", "explore", "bypass", "dont_ask"},
                           .enum_type = true};
    auto issue = only_issue(
        [&](Issues& i) { EXPECT_FALSE(domain::parse_field(bj::value("nope"), spec, kLoc, i)); });
    EXPECT_EQ(issue.type, "enum");
    EXPECT_EQ(issue.msg,
              "Input should be 'default', 'accept_edits', 'explore', 'bypass' or 'dont_ask'");
    EXPECT_EQ(
        issue.ctx,
        (bj::object{{"expected", "'default', 'accept_edits', 'explore', 'bypass' or 'dont_ask'"}}));
}

// ---- FieldSpec parsing ----------------------------------------------------------------

TEST(ValidationFieldSpec, FloatFieldTurnsIntsIntoFloats) {
    domain::FieldSpec spec{.name = "f", .kind = domain::FieldKind::kFloat};
    Issues issues;
    auto v = domain::parse_field(bj::value(2), spec, kLoc, issues);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->is_double());
    EXPECT_EQ(json::write(*v), "2.0");
}

TEST(ValidationFieldSpec, BoundsApplyToConvertedStrings) {
    domain::FieldSpec spec{.name = "f",
                           .kind = domain::FieldKind::kFloat,
                           .bounds = {{Bound::kGt, 0, 0}, {Bound::kLe, 0.9, 0.9}}};
    Issues ok;
    EXPECT_EQ(domain::parse_field(bj::value("0.5"), spec, kLoc, ok), bj::value(0.5));
    EXPECT_TRUE(ok.empty());
    auto issue = only_issue(
        [&](Issues& i) { EXPECT_FALSE(domain::parse_field(bj::value("0.95"), spec, kLoc, i)); });
    EXPECT_EQ(issue.type, "less_than_equal");
    EXPECT_EQ(issue.input, bj::value("0.95"));
    // A parse failure reports only the parse error, not the bounds too.
    auto parse = only_issue(
        [&](Issues& i) { EXPECT_FALSE(domain::parse_field(bj::value("x"), spec, kLoc, i)); });
    EXPECT_EQ(parse.type, "float_parsing");
}

TEST(ValidationFieldSpec, ModelKeepsDeclarationOrderDropsUnknownAndReportsMissing) {
    std::vector<domain::FieldSpec> fields = {
        {.name = "b", .kind = domain::FieldKind::kInt, .required = true},
        {.name = "a", .kind = domain::FieldKind::kStr, .default_value = "d"},
        {.name = "c", .kind = domain::FieldKind::kOptStr},
    };
    Issues issues;
    auto out = domain::parse_model(bj::parse(R"({"zzz":1,"c":null,"b":"3"})"), bj::array{"body"},
                                   issues, fields);
    ASSERT_TRUE(out);
    EXPECT_TRUE(issues.empty());
    EXPECT_EQ(json::write(*out), R"({"b":3,"a":"d","c":null})");

    Issues missing;
    bj::value input = bj::parse(R"({"a":"x"})");
    domain::parse_model(input, bj::array{"body"}, missing, fields);
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing.list()[0].type, "missing");
    EXPECT_EQ(missing.list()[0].msg, "Field required");
    EXPECT_EQ(missing.list()[0].loc, (bj::array{"body", "b"}));
    EXPECT_EQ(missing.list()[0].input, input);  // pydantic reports the whole model input
}

TEST(ValidationFieldSpec, StrListReportsEachBadItemByIndex) {
    domain::FieldSpec spec{.name = "ids", .kind = domain::FieldKind::kStrList};
    Issues issues;
    EXPECT_FALSE(domain::parse_field(bj::parse(R"(["a",1,"c",true])"), spec, kLoc, issues));
    ASSERT_EQ(issues.size(), 2u);
    EXPECT_EQ(issues.list()[0].loc, (bj::array{"body", "x", 1}));
    EXPECT_EQ(issues.list()[1].loc, (bj::array{"body", "x", 3}));
    EXPECT_EQ(issues.list()[0].type, "string_type");
}

// ---- Issues ----------------------------------------------------------------------------

TEST(ValidationIssues, ThrowIfAnyCarriesEveryIssueInOrder) {
    Issues issues;
    EXPECT_NO_THROW(issues.throw_if_any());
    issues.missing(bj::array{"header", "x-user-id"}, nullptr);
    issues.add("string_type", bj::array{"body", "name"}, "Input should be a valid string", 5);
    try {
        issues.throw_if_any();
        FAIL() << "expected a throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kValidation);
        EXPECT_EQ(http_status(e.code()), 422);
        EXPECT_EQ(
            json::write(error_body(e)),
            R"({"detail":[{"type":"missing","loc":["header","x-user-id"],"msg":"Field required","input":null},)"
            R"({"type":"string_type","loc":["body","name"],"msg":"Input should be a valid string","input":5}]})");
    }
}

TEST(ValidationIssues, LocJoinAppendsKeysAndIndexes) {
    EXPECT_EQ(loc_join(bj::array{"body"}, "a"), (bj::array{"body", "a"}));
    EXPECT_EQ(loc_join(bj::array{"body", "a"}, std::size_t{2}), (bj::array{"body", "a", 2}));
}

}  // namespace
}  // namespace agentd::validation
