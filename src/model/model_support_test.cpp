// Shared pieces of the model layer: JSON repair, schema flattening, the
// response builder, media helpers, structured output.
#include <gtest/gtest.h>

#include "model/history.hpp"
#include "model/json_repair.hpp"
#include "model/media.hpp"
#include "model/model_test_support.hpp"
#include "model/response_builder.hpp"
#include "model/structured_output.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model {
namespace {

using testing::dump;
using testing::parse;

std::string repaired(std::string_view s) {
    auto o = parse_object_with_repair(s);
    return o ? dump(*o) : "<none>";
}

TEST(ModelSupportJsonRepair, CompletesTruncatedArguments) {
    EXPECT_EQ(repaired(R"({"city": "Paris"})"), R"({"city":"Paris"})");
    EXPECT_EQ(repaired(R"({"city": "Par)"), R"({"city":"Par"})");
    EXPECT_EQ(repaired(R"({"city")"), R"({"city":null})");
    EXPECT_EQ(repaired(R"({"city":)"), R"({"city":null})");
    EXPECT_EQ(repaired(R"({"a": 1,)"), R"({"a":1})");
    EXPECT_EQ(repaired(R"({"a": [1, 2)"), R"({"a":[1,2]})");
    EXPECT_EQ(repaired(R"({"a": {"b": tr)"), R"({"a":{"b":true}})");
    EXPECT_EQ(repaired(R"({"a": 1.)"), R"({"a":1})");
    EXPECT_EQ(repaired(R"({"a": "x\)"), R"({"a":"x"})");
    EXPECT_EQ(repaired(R"({"a": "\u00)"), R"({"a":""})");
    EXPECT_EQ(repaired("{"), "{}");
    EXPECT_EQ(repaired("[1]"), "<none>");
    EXPECT_EQ(dump(tool_input_object("garbage")), "{}");
    EXPECT_EQ(dump(tool_input_object("")), "{}");
}

TEST(ModelSupportSchema, FlattenInlinesRefsAndStopsCycles) {
    auto schema = parse(R"({"type":"object","properties":{
        "p":{"$ref":"#/$defs/P","description":"override"},
        "n":{"$ref":"#/definitions/Node"}},
      "$defs":{"P":{"type":"string","description":"orig"}},
      "definitions":{"Node":{"type":"object","properties":{"next":{"$ref":"#/definitions/Node"}}}}})")
                      .as_object();
    EXPECT_EQ(dump(flatten_json_schema(schema)), dump(parse(R"J({"type":"object","properties":{
        "p":{"type":"string","description":"override"},
        "n":{"type":"object","properties":{"next":{"type":"object","description":"(circular: Node)"}}}}})J")));
    auto plain = parse(R"({"type":"object","properties":{"x":{"$ref":"#/$defs/X"}}})").as_object();
    EXPECT_EQ(dump(flatten_json_schema(plain)), dump(plain));  // no definitions: unchanged
}

TEST(ModelSupportResponseBuilder, OneTextOneThinkingAndToolOrder) {
    ResponseBuilder b;
    ModelChunk c;
    b.add_text("a", c);
    b.add_tool_call("t1", "f", "{", c);
    b.add_thinking("x", c);
    b.add_text("b", c);
    b.add_tool_call("t1", "", "}", c);
    auto r = b.build();
    ASSERT_EQ(r.content.size(), 3u);
    EXPECT_EQ(r.content[0].at("text"), "ab");
    EXPECT_EQ(r.content[1].at("input"), "{}");
    EXPECT_EQ(r.content[1].at("name"), "f");
    EXPECT_EQ(r.content[2].at("thinking"), "x");
    EXPECT_EQ(c.text, "ab");
    ASSERT_EQ(c.tool_calls.size(), 2u);
    EXPECT_EQ(c.tool_calls[1].name, "f");  // filled from the first delta
    ResponseBuilder other;
    EXPECT_TRUE(other.build().content.empty());
}

TEST(ModelSupportMedia, Base64AndGlobs) {
    for (const std::string& s :
         std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\x00\xff\x10", 3)})
        EXPECT_EQ(*base64_decode(base64_encode(s)), s);
    EXPECT_EQ(base64_encode("abcd"), "YWJjZA==");
    EXPECT_FALSE(base64_decode("a$==").has_value());
    EXPECT_EQ(streaming_wav_header().size(), 44u);
    MediaPolicy p({"text/plain", "image/*", "application/pdf"});
    EXPECT_TRUE(p.accepts("image/png"));
    EXPECT_FALSE(p.accepts("Image/png"));
    EXPECT_FALSE(p.accepts("text/plain"));
    EXPECT_TRUE(p.accepts("application/pdf"));
    EXPECT_FALSE(p.accepts_thinking());
}

TEST(ModelSupportMedia, FileUrlsAreConfinedToTheWorkspace) {
    EXPECT_EQ(confined_file_path("file:///ws/a/b.png", "/ws"), "/ws/a/b.png");
    EXPECT_FALSE(confined_file_path("file:///ws/../etc/passwd", "/ws").has_value());
    EXPECT_FALSE(confined_file_path("file:///etc/passwd", "/ws").has_value());
    EXPECT_FALSE(confined_file_path("file:///ws/a.png", "").has_value());
    EXPECT_EQ(confined_file_path("file://a.png", "/ws"), "/ws/a.png");
}

TEST(ModelSupportStructuredOutput, RequestRewriteAndLadder) {
    ChatRequest req = testing::worked_example_request();
    req.structured_schema =
        parse(R"({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]})")
            .as_object();
    auto ladder = structured_strategies(req, true);
    EXPECT_EQ(ladder, (std::vector<StructuredStrategy>{
                          StructuredStrategy::kForced, StructuredStrategy::kAuto,
                          StructuredStrategy::kNoThinking, StructuredStrategy::kNone}));
    EXPECT_EQ(structured_strategies(req, false).size(), 3u);

    auto forced = structured_request(req, StructuredStrategy::kForced);
    ASSERT_EQ(forced.tools.size(), 1u);
    EXPECT_EQ(forced.tools[0].name, "generate_structured_output");
    EXPECT_EQ(forced.tool_choice, "generate_structured_output");
    EXPECT_FALSE(forced.structured_schema.has_value());
    const auto& last = forced.messages.back().as_object().at("content").as_array();
    ASSERT_EQ(last.size(), 2u);  // appended to the last user message
    EXPECT_NE(std::string(last[1].at("text").as_string()).find("generate_structured_output"),
              std::string::npos);
    EXPECT_FALSE(structured_request(req, StructuredStrategy::kNone).tool_choice.has_value());

    ModelResponse resp;
    resp.content.push_back(parse(
        R"({"type":"tool_call","id":"c","name":"generate_structured_output","input":"{\"n\": 3"})"));
    EXPECT_EQ(dump(*read_structured_output(resp, *req.structured_schema)), R"({"n":3})");
    resp.content[0].as_object()["input"] = R"({"n": "three"})";
    EXPECT_FALSE(read_structured_output(resp, *req.structured_schema).has_value());
}

TEST(ModelSupportStructuredOutput, SchemaSubset) {
    auto s = parse(R"({"type":"object","required":["a"],"additionalProperties":false,
        "properties":{"a":{"type":"array","items":{"enum":["x","y"]},"minItems":1},
                      "b":{"anyOf":[{"type":"string"},{"type":"null"}]},
                      "c":{"$ref":"#/$defs/C"}},
        "$defs":{"C":{"type":"number","maximum":5}}})")
                 .as_object();
    EXPECT_TRUE(json_schema_accepts(s, parse(R"({"a":["x"],"b":null,"c":4.5})")));
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"a":[]})")));
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"a":["z"]})")));
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"a":["x"],"extra":1})")));
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"a":["x"],"c":6})")));
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"b":"s"})")));
}

// minLength/maxLength count characters (code points), not UTF-8 bytes.
TEST(ModelSupportStructuredOutput, StringLengthsCountCodePoints) {
    auto s =
        parse(
            R"({"type":"object","properties":{"s":{"type":"string","minLength":2,"maxLength":3}}})")
            .as_object();
    EXPECT_TRUE(json_schema_accepts(s, parse(R"({"s":"héé"})")));   // 3 code points, 5 bytes
    EXPECT_TRUE(json_schema_accepts(s, parse(R"({"s":"日本"})")));  // 2 code points, 6 bytes
    EXPECT_TRUE(json_schema_accepts(s, parse(R"({"s":"😀😀😀"})")));   // 3 code points, 12 bytes
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"s":"é"})")));    // 1 code point, 2 bytes
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"s":"日本語!"})")));
}

// enum and const compare numbers by value (1 == 1.0) but never a boolean with a number.
TEST(ModelSupportStructuredOutput, EnumAndConstCompareNumbersByValue) {
    auto e =
        parse(R"({"type":"object","properties":{"n":{"enum":[1,2.5,[3],{"k":4}]}}})").as_object();
    EXPECT_TRUE(json_schema_accepts(e, parse(R"({"n":1.0})")));
    EXPECT_TRUE(json_schema_accepts(e, parse(R"({"n":1})")));
    EXPECT_TRUE(json_schema_accepts(e, parse(R"({"n":[3.0]})")));
    EXPECT_TRUE(json_schema_accepts(e, parse(R"({"n":{"k":4.0}})")));
    EXPECT_FALSE(json_schema_accepts(e, parse(R"({"n":true})")));
    EXPECT_FALSE(json_schema_accepts(e, parse(R"({"n":2})")));
    EXPECT_FALSE(json_schema_accepts(e, parse(R"({"n":[true]})")));

    auto c = parse(R"({"type":"object","properties":{"n":{"const":1.0},"b":{"const":true}}})")
                 .as_object();
    EXPECT_TRUE(json_schema_accepts(c, parse(R"({"n":1})")));
    EXPECT_TRUE(json_schema_accepts(c, parse(R"({"b":true})")));
    EXPECT_FALSE(json_schema_accepts(c, parse(R"({"n":true})")));
    EXPECT_FALSE(json_schema_accepts(c, parse(R"({"b":1})")));
    auto big =
        parse(R"({"type":"object","properties":{"n":{"const":9007199254740993}}})").as_object();
    EXPECT_FALSE(json_schema_accepts(big, parse(R"({"n":9007199254740992.0})")));  // exact
    EXPECT_TRUE(json_schema_accepts(big, parse(R"({"n":9007199254740993})")));
}

TEST(StructuredOutput, TheAnswerIsCheckedWithTheToolValidatorsKeywords) {
    // Keywords the structured answer is held to as the reference's jsonschema holds it.
    auto s = parse(R"({"type":"object","properties":{
        "even":{"type":"integer","multipleOf":2},
        "one":{"oneOf":[{"type":"integer"},{"minimum":0}]},
        "word":{"not":{"const":"forbidden"}}}})").as_object();
    EXPECT_TRUE(json_schema_accepts(s, parse(R"({"even":4,"one":-1,"word":"fine"})")));
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"even":3})")));
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"one":5})")));  // valid under both: not one of
    EXPECT_FALSE(json_schema_accepts(s, parse(R"({"word":"forbidden"})")));
}

}  // namespace
}  // namespace agentd::model
