// Shared tool schemas, their cached renderings, the tools members built from
// them and the request body that carries those as text.
#include "model/shared_schema.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include <set>
#include <thread>
#include <vector>

#include "model/anthropic/anthropic_formatter.hpp"
#include "model/model_test_support.hpp"
#include "model/ollama/ollama_formatter.hpp"
#include "model/openai/openai_formatter.hpp"
#include "model/request_body.hpp"
#include "model/tool_schema.hpp"

namespace agentd::model {
namespace {

using testing::dump;
using testing::parse;

const char* kWithDefs = R"({"type":"object","properties":{"p":{"$ref":"#/$defs/P"},"q":{"const":"x"}},
    "$defs":{"P":{"anyOf":[{"type":"string"},{"type":"null"}],"description":"a \"quoted\" name"}},
    "additionalProperties":false})";

TEST(SharedSchema, CopiesShareOneObjectAndItsRenderings) {
    SharedSchema a(parse(kWithDefs).as_object());
    SharedSchema b = a;
    ToolSchema tool{"t", "d", a};
    EXPECT_EQ(&a.object(), &b.object());
    EXPECT_EQ(&a.object(), &tool.parameters.object());
    const std::string& first = a.text(SchemaForm::kAsIs);
    EXPECT_EQ(&first, &tool.parameters.text(SchemaForm::kAsIs));  // rendered once, kept
    EXPECT_EQ(first, dump(parse(kWithDefs)));
    // A separately built schema with the same content has its own renderings.
    SharedSchema c(parse(kWithDefs).as_object());
    EXPECT_NE(&c.text(SchemaForm::kAsIs), &first);
    EXPECT_EQ(c.text(SchemaForm::kAsIs), first);
}

TEST(SharedSchema, EachFormIsTheTransformOfTheSchema) {
    const auto object = parse(kWithDefs).as_object();
    SharedSchema s(object);
    EXPECT_EQ(s.text(SchemaForm::kAsIs), dump(object));
    EXPECT_EQ(s.text(SchemaForm::kFlattened), dump(flatten_json_schema(object)));
    EXPECT_EQ(s.text(SchemaForm::kGemini), dump(sanitize_schema_for_gemini(flatten_json_schema(object))));
    EXPECT_EQ(s.text(SchemaForm::kFlattened).find("$defs"), std::string::npos);
    EXPECT_EQ(s.text(SchemaForm::kGemini).find("additionalProperties"), std::string::npos);
    EXPECT_EQ(s.text(SchemaForm::kPython), json::write(object, json::Style::kPython));
    EXPECT_EQ(SharedSchema(parse(R"({"a":[1,2],"b":{}})").as_object()).text(SchemaForm::kPython),
              R"({"a": [1, 2], "b": {}})");
    // The default schema is the empty object, shared, and renders as such.
    SharedSchema empty;
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(empty.text(SchemaForm::kGemini), "{}");
    EXPECT_EQ(&SharedSchema().object(), &empty.object());
}

TEST(SharedSchema, ThreadsAskingAtOnceGetOneRendering) {
    SharedSchema s(parse(kWithDefs).as_object());
    std::vector<const std::string*> seen(8, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i)
        threads.emplace_back([&s, &seen, i] { seen[i] = &s.text(SchemaForm::kFlattened); });
    for (auto& t : threads) t.join();
    EXPECT_EQ(std::set<const std::string*>(seen.begin(), seen.end()).size(), 1u);
    EXPECT_EQ(*seen[0], dump(flatten_json_schema(parse(kWithDefs).as_object())));
}

ToolsText text(const char* json) { return std::make_shared<const std::string>(json); }

std::vector<ToolSchema> two_tools() {
    return {ToolSchema{"first", "Says \"hi\"\n\ttabbed \x01 and é", parse(kWithDefs).as_object()},
            ToolSchema{"second", "", bj::object{}}};
}

TEST(ToolsJson, EveryProviderShapeParsesToTheObjectForm) {
    const auto tools = two_tools();
    const auto params = parse(kWithDefs).as_object();
    bj::array openai;
    for (const auto& t : tools)
        openai.push_back(bj::object{
            {"type", "function"},
            {"function", bj::object{{"name", t.name}, {"description", t.description}, {"parameters", t.parameters.object()}}}});
    EXPECT_EQ(parse(*openai_tools_json(tools, false)), bj::value(openai));
    openai[0].as_object()["function"].as_object()["parameters"] = flatten_json_schema(params);
    EXPECT_EQ(parse(*openai_tools_json(tools, true)), bj::value(openai));

    auto anthropic = parse(*anthropic_tools_json(tools)).as_array();
    ASSERT_EQ(anthropic.size(), 2u);
    EXPECT_EQ(anthropic[0].at("description"), "Says \"hi\"\n\ttabbed \x01 and é");
    EXPECT_EQ(anthropic[0].at("input_schema"), bj::value(params));
    EXPECT_EQ(dump(anthropic[1]), R"({"name":"second","description":"","input_schema":{}})");

    auto gemini = parse(*gemini_tools_json(tools)).as_array();
    ASSERT_EQ(gemini.size(), 1u);
    const auto& declarations = gemini[0].at("functionDeclarations").as_array();
    ASSERT_EQ(declarations.size(), 2u);
    EXPECT_EQ(declarations[0].at("parameters"), sanitize_schema_for_gemini(flatten_json_schema(params)));

    EXPECT_EQ(*openai_tools_json({}, false), "[]");
}

TEST(ToolsJson, AListSentAgainIsServedFromTheCacheAndAnyChangeRendersAnew) {
    const auto tools = two_tools();
    const auto first = openai_tools_json(tools, false);
    EXPECT_EQ(openai_tools_json(tools, false), first) << "the same list: the same shared text";
    // Equal content in separate schema objects is the same list.
    auto rebuilt = two_tools();
    EXPECT_EQ(openai_tools_json(rebuilt, false), first);
    EXPECT_NE(*openai_tools_json(tools, true), *first) << "another form is another text";
    EXPECT_NE(*anthropic_tools_json(tools), *first);

    auto described = tools;
    described[1].description = "now described";
    EXPECT_EQ(parse(*openai_tools_json(described, false)).as_array()[1].at("function").at("description"),
              "now described");
    auto reschema = tools;
    reschema[1].parameters = bj::object{{"type", "object"}};
    EXPECT_EQ(parse(*openai_tools_json(reschema, false)).as_array()[1].at("function").at("parameters"),
              parse(R"({"type":"object"})"));
    auto fewer = tools;
    fewer.pop_back();
    EXPECT_EQ(parse(*openai_tools_json(fewer, false)).as_array().size(), 1u);
    EXPECT_EQ(*openai_tools_json(tools, false), *first) << "the original list is unchanged";
}

TEST(ToolsJson, ConcurrentCallersAllGetTheRightText) {
    std::vector<std::vector<ToolSchema>> lists;
    for (int i = 0; i < 40; ++i)  // more lists than the cache keeps
        lists.push_back({ToolSchema{"tool" + std::to_string(i), "d", bj::object{{"i", i}}}});
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&lists, &wrong, t] {
            for (int round = 0; round < 50; ++round)
                for (std::size_t n = 0; n < lists.size(); ++n) {
                    const std::size_t i = (n + static_cast<std::size_t>(t) * 7) % lists.size();
                    auto got = parse(*anthropic_tools_json(lists[i])).as_array();
                    if (got.size() != 1 || got[0].at("name") != bj::value("tool" + std::to_string(i))) ++wrong;
                }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(RequestBody, ToolsTextIsTheLastMember) {
    RequestBody body{parse(R"({"model":"m","stream":true})").as_object(), text(R"([{"name":"x"}])")};
    EXPECT_EQ(body.write(), R"({"model":"m","stream":true,"tools":[{"name":"x"}]})");
    EXPECT_EQ(dump(body.to_object()), body.write());
    RequestBody only_tools{bj::object{}, text("[]")};
    EXPECT_EQ(only_tools.write(), R"({"tools":[]})");
    // In pieces: the prefix is the body's own, the tool list is the shared text itself.
    std::vector<std::shared_ptr<const std::string>> tail;
    std::string prefix = body.write_prefix(tail);
    ASSERT_EQ(tail.size(), 2u);
    EXPECT_EQ(tail[0], body.tools_json);
    EXPECT_EQ(prefix + *tail[0] + *tail[1], body.write());
    RequestBody no_tools{parse(R"({"a":[1,{"b":null}]})").as_object(), nullptr};
    EXPECT_EQ(no_tools.write(), R"({"a":[1,{"b":null}]})");
    EXPECT_FALSE(no_tools.to_object().contains("tools"));
}

// Who wins when the caller's extra body names `tools` is each formatter's
// rule from before the tools became text: OpenAI merges the extra body last,
// Anthropic and Ollama put their tools after it.
TEST(RequestBody, ExtraBodyToolsKeepEachProvidersPrecedence) {
    ChatRequest request = testing::worked_example_request();
    const auto extra = parse(R"({"tools":"from the caller"})").as_object();

    openai::FormatOptions openai_options;
    openai_options.extra_body = extra;
    auto openai_body = openai::format_body(request, "gpt-4.1", {}, openai_options);
    EXPECT_FALSE(openai_body.tools_json);
    EXPECT_EQ(parse(openai_body.write()).at("tools"), "from the caller");

    anthropic::FormatOptions anthropic_options;
    anthropic_options.extra_body = extra;
    const std::string anthropic_text =
        anthropic::format_body(request, "claude-sonnet-4-5", {}, anthropic_options).write();
    EXPECT_EQ(parse(anthropic_text).at("tools").at(0).at("name"), "get_weather");
    EXPECT_EQ(anthropic_text.find("from the caller"), std::string::npos);  // one `tools` member only

    ollama::FormatOptions ollama_options;
    ollama_options.extra_body = extra;
    const std::string ollama_text = ollama::format_body(request, "qwen3", {}, ollama_options).write();
    EXPECT_EQ(parse(ollama_text).at("tools").at(0).at("function").at("name"), "get_weather");
    EXPECT_EQ(ollama_text.find("from the caller"), std::string::npos);
}

}  // namespace
}  // namespace agentd::model
