#include "tool/builtin/json_schema.hpp"

#include <gtest/gtest.h>

namespace agentd::tool {
namespace {

namespace bj = boost::json;

/// The violations of `instance` (JSON text) against `schema` (JSON text), described.
std::string check(std::string_view schema, std::string_view instance) {
    bj::value v = bj::parse(instance);
    return describe(validate_filling_defaults(bj::parse(schema).as_object(), v));
}

constexpr std::string_view kPerson = R"({
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "color": {"enum": ["red", "green"]},
        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null}
    },
    "required": ["name", "age"]
})";

TEST(JsonSchema, AValidInstanceHasNoViolations) {
    EXPECT_EQ(check(kPerson,
                    R"({"name": "Ann", "age": 3, "tags": ["a"], "color": "red", "nickname": "A"})"),
              "");
}

TEST(JsonSchema, MessagesAndPathsAreThoseOfJsonschema) {
    EXPECT_EQ(check(kPerson, R"({"age": 3})"), "$: 'name' is a required property");
    EXPECT_EQ(check(kPerson, R"({"name": "Ann", "age": "3"})"),
              "$.age: '3' is not of type 'integer'");
    EXPECT_EQ(
        check(kPerson, R"({"name": "Ann", "age": 3, "tags": ["a", 3, {"k": true}]})"),
        "$.tags[1]: 3 is not of type 'string'; $.tags[2]: {'k': True} is not of type 'string'");
    EXPECT_EQ(check(kPerson, R"({"name": "Ann", "age": 3, "color": "purple"})"),
              "$.color: 'purple' is not one of ['red', 'green']");
    EXPECT_EQ(check(kPerson, R"({"name": "Ann", "age": 3, "nickname": 5})"),
              "$.nickname: 5 is not valid under any of the given schemas");
    EXPECT_EQ(check(kPerson, "[1]"), "$: [1] is not of type 'object'");
    EXPECT_EQ(check(R"({"type": ["string", "integer"]})", "null"),
              "$: None is not of type 'string', 'integer'");
    EXPECT_EQ(check(R"({"const": "x"})", R"("y")"), "$: 'x' was expected");
}

TEST(JsonSchema, ViolationsComeInTheSchemasKeyOrder) {
    // properties before required: the bad property is reported first ...
    EXPECT_EQ(check(kPerson, R"({"name": 1})"),
              "$.name: 1 is not of type 'string'; $: 'age' is a required property");
    // ... and the other way round when required comes first.
    EXPECT_EQ(
        check(R"({"required": ["b"], "properties": {"a": {"type": "string"}}})", R"({"a": 1})"),
        "$: 'b' is a required property; $.a: 1 is not of type 'string'");
}

TEST(JsonSchema, NumbersFollowPythonsTypeChecker) {
    EXPECT_EQ(check(R"({"type": "integer"})", "2.0"), "");
    EXPECT_EQ(check(R"({"type": "integer"})", "2.5"), "$: 2.5 is not of type 'integer'");
    EXPECT_EQ(check(R"({"type": "integer"})", "true"), "$: True is not of type 'integer'");
    EXPECT_EQ(check(R"({"type": "number"})", "false"), "$: False is not of type 'number'");
    EXPECT_EQ(check(R"({"type": "number"})", "7"), "");
    EXPECT_EQ(check(R"({"type": "boolean"})", "0"), "$: 0 is not of type 'boolean'");
    // enum compares 1 and 1.0 equal, but True and 1 not.
    EXPECT_EQ(check(R"({"enum": [1]})", "1.0"), "");
    EXPECT_EQ(check(R"({"enum": [1]})", "true"), "$: True is not one of [1]");
}

TEST(JsonSchema, DefaultsAreFilledIntoEveryObjectWalked) {
    auto schema = bj::parse(R"({
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "opts": {"type": "object", "default": {}, "properties": {"depth": {"type": "integer", "default": 2}}},
            "list": {"type": "array", "default": [1]}
        }
    })")
                      .as_object();
    bj::value v = bj::parse(R"({"a": 1})");
    EXPECT_TRUE(validate_filling_defaults(schema, v).empty());
    // Filled defaults are appended in property order; a filled object is walked too.
    EXPECT_EQ(bj::serialize(v), R"({"a":1,"opts":{"depth":2},"list":[1]})");
    // A given value is kept; the schema's default is copied, never shared.
    bj::value w = bj::parse(R"({"list": [9]})");
    EXPECT_TRUE(validate_filling_defaults(schema, w).empty());
    EXPECT_EQ(bj::serialize(w), R"({"list":[9],"opts":{"depth":2}})");
    EXPECT_TRUE(schema.at("properties").at("opts").at("default").as_object().empty());
}

TEST(JsonSchema, AFilledDefaultSatisfiesRequired) {
    EXPECT_EQ(check(R"({"properties": {"n": {"default": 1}}, "required": ["n"]})", "{}"), "");
}

TEST(JsonSchema, AdditionalPropertiesAndReferences) {
    EXPECT_EQ(check(R"({"properties": {"a": {}}, "additionalProperties": false})",
                    R"({"z": 1, "a": 1, "b": 2})"),
              "$: Additional properties are not allowed ('b', 'z' were unexpected)");
    EXPECT_EQ(check(R"({"properties": {}, "additionalProperties": false})", R"({"z": 1})"),
              "$: Additional properties are not allowed ('z' was unexpected)");
    EXPECT_EQ(check(R"({"additionalProperties": {"type": "integer"}})", R"({"x": "1"})"),
              "$.x: '1' is not of type 'integer'");
    constexpr std::string_view kNested = R"({
        "type": "object",
        "properties": {"owner": {"$ref": "#/$defs/Person"}},
        "$defs": {"Person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}
    })";
    EXPECT_EQ(check(kNested, R"({"owner": {"name": "x"}})"), "");
    EXPECT_EQ(check(kNested, R"({"owner": {}})"), "$.owner: 'name' is a required property");
    EXPECT_EQ(check(R"({"$ref": "#/$defs/Nope"})", "1"),
              "$: Unresolvable reference '#/$defs/Nope'");
    EXPECT_EQ(check(R"({"items": false})", "[1]"), "$[0]: False schema does not allow 1");
}

TEST(JsonSchema, TitlesAreStrippedWhereTheReferenceStripsThem) {
    auto schema = bj::parse(R"({
        "title": "Top",
        "type": "object",
        "properties": {
            "title": {"title": "Title", "type": "string"},
            "list": {"title": "List", "type": "array", "items": {"title": "Item", "type": "integer"}},
            "map": {"additionalProperties": {"title": "Value"}},
            "either": {"anyOf": [{"title": "A"}], "title": "Either"}
        },
        "$defs": {"D": {"title": "D", "type": "object"}}
    })")
                      .as_object();
    EXPECT_EQ(
        bj::serialize(without_titles(schema)),
        R"({"type":"object","properties":{"title":{"type":"string"},"list":{"type":"array","items":{"type":"integer"}},)"
        R"("map":{"additionalProperties":{}},"either":{"anyOf":[{"title":"A"}]}},"$defs":{"D":{"type":"object"}}})");
}

}  // namespace
}  // namespace agentd::tool
