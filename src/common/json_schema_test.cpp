#include "common/json_schema.hpp"

#include <gtest/gtest.h>

namespace agentd::json_schema {
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

TEST(JsonSchema, BoundsLengthsAndCombinatorsSayWhatJsonschemaSays) {
    // Expected texts from jsonschema 4.26 (Draft202012Validator.iter_errors).
    EXPECT_EQ(check(R"({"type": "integer", "minimum": 0})", "-1"), "$: -1 is less than the minimum of 0");
    EXPECT_EQ(check(R"({"maximum": 10})", "10.5"), "$: 10.5 is greater than the maximum of 10");
    EXPECT_EQ(check(R"({"exclusiveMinimum": 0})", "0"), "$: 0 is less than or equal to the minimum of 0");
    EXPECT_EQ(check(R"({"exclusiveMaximum": 1.5})", "2"), "$: 2 is greater than or equal to the maximum of 1.5");
    EXPECT_EQ(check(R"({"multipleOf": 2})", "3"), "$: 3 is not a multiple of 2");
    EXPECT_EQ(check(R"({"multipleOf": 0.5})", "0.75"), "$: 0.75 is not a multiple of 0.5");
    EXPECT_EQ(check(R"({"multipleOf": 0.5})", "7"), "");
    EXPECT_EQ(check(R"({"minLength": 1})", R"("")"), "$: '' should be non-empty");
    EXPECT_EQ(check(R"({"minLength": 3})", "\"\u00e9\u00e9\""), "$: '\u00e9\u00e9' is too short");
    EXPECT_EQ(check(R"({"maxLength": 2})", "\"\u00e9\u00e9\""), "");  // code points, not bytes
    EXPECT_EQ(check(R"({"maxLength": 0})", R"("a")"), "$: 'a' is expected to be empty");
    EXPECT_EQ(check(R"({"minItems": 2})", "[1]"), "$: [1] is too short");
    EXPECT_EQ(check(R"({"maxItems": 1})", "[1, 2]"), "$: [1, 2] is too long");
    EXPECT_EQ(check(R"({"oneOf": [{"type": "integer"}, {"minimum": 1}]})", "5"),
              "$: 5 is valid under each of {'minimum': 1}, {'type': 'integer'}");
    EXPECT_EQ(check(R"({"not": {"type": "integer"}})", "5"), "$: 5 should not be valid under {'type': 'integer'}");
    EXPECT_EQ(check(R"({"allOf": [{"type": "integer"}, {"minimum": 9}]})", "5"), "$: 5 is less than the minimum of 9");
    EXPECT_EQ(check(R"({"maximum": 9223372036854775807})", "18446744073709551615"),
              "$: 18446744073709551615 is greater than the maximum of 9223372036854775807");
    EXPECT_EQ(check(R"({"minimum": 3})", "true"), "");  // a boolean is no number
}

/// What the reference's jsonschema.validate raises: best_match's message.
std::string best(std::string_view schema, std::string_view instance) {
    bj::value v = bj::parse(instance);
    auto violations = validate_filling_defaults(bj::parse(schema).as_object(), v);
    const auto* worst = best_match(violations);
    return worst ? worst->message : "";
}

TEST(JsonSchema, TheReportedViolationIsTheOneJsonschemasBestMatchPicks) {
    // Expected texts from jsonschema 4.26 (exceptions.best_match).
    constexpr std::string_view kEdit = R"({"type": "object", "properties": {"file_path": {"type": "string"},
        "old_string": {"type": "string"}, "new_string": {"type": "string"}},
        "required": ["file_path", "old_string", "new_string"]})";
    constexpr std::string_view kTask = R"({"type": "object", "properties": {"task_id": {"type": "string"},
        "status": {"anyOf": [{"type": "string", "enum": ["pending", "in_progress", "completed", "deleted"]},
                             {"type": "null"}], "default": null},
        "add_blocks": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}], "default": null}},
        "required": ["task_id"]})";
    // The shallowest failure wins over the first one found.
    EXPECT_EQ(best(kEdit, R"({"file_path": 5, "old_string": "a"})"), "'new_string' is a required property");
    // Inside an anyOf, the failure of the alternative whose type fits.
    EXPECT_EQ(best(kTask, R"({"task_id": "1", "status": "done"})"),
              "'done' is not one of ['pending', 'in_progress', 'completed', 'deleted']");
    EXPECT_EQ(best(kTask, R"({"task_id": "1", "add_blocks": [1]})"), "1 is not of type 'string'");
    // Two alternatives that fail alike: the anyOf itself.
    EXPECT_EQ(best(kTask, R"({"task_id": "1", "add_blocks": "x"})"), "'x' is not valid under any of the given schemas");
    EXPECT_EQ(best(R"({"properties": {"a": {"anyOf": [{"enum": ["p", "q"]}, {"type": "null"}]}}})", R"({"a": "done"})"),
              "'done' is not valid under any of the given schemas");
    // Siblings at one depth: the later path, as Python's max over the keys.
    EXPECT_EQ(best(R"({"properties": {"a": {"type": "string"}, "b": {"type": "string"}}})", R"({"a": 1, "b": 2})"),
              "2 is not of type 'string'");
    EXPECT_EQ(best(R"({"type": "integer", "minimum": 3})", "2.5"), "2.5 is not of type 'integer'");
    EXPECT_EQ(best(kEdit, R"({"file_path": "f", "old_string": "a", "new_string": "b"})"), "");
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
}  // namespace agentd::json_schema
