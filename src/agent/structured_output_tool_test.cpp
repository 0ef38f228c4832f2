#include "agent/structured_output_tool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <stdexcept>

#include "common/json.hpp"

namespace agentd::agent {
namespace {

const bj::object kSchema = bj::parse(R"({
    "title": "Verdict",
    "type": "object",
    "properties": {
        "answer": {"title": "Answer", "type": "string"},
        "confidence": {"type": "number", "default": 0.5},
        "sources": {"type": "array", "items": {"type": "string"}}
    },
    "required": ["answer"]
})")
                               .as_object();

class StructuredOutputToolTest : public ::testing::Test {
protected:
    std::pair<std::string, std::string> call(std::string_view input) {
        const bj::object args = bj::parse(input).as_object();
        ToolContext ctx{"s", state_, nullptr};
        std::string streamed;
        std::function<void(const ToolChunk&)> emit = [&](const ToolChunk& c) {
            streamed += c.text;
        };
        boost::asio::io_context io;
        auto future =
            boost::asio::co_spawn(io, tool_.run(args, ctx, emit), boost::asio::use_future);
        io.run();
        auto outcome = future.get();
        std::string text(outcome.output.as_string());
        EXPECT_EQ(streamed, text);
        return {outcome.state, text};
    }

    StructuredOutputTool tool_{kSchema};
    domain::SessionState state_ = domain::SessionState::fresh();
};

TEST_F(StructuredOutputToolTest, SchemaAndFlags) {
    EXPECT_EQ(tool_.schema().name, "GenerateStructuredOutput");
    EXPECT_FALSE(tool_.schema().description.empty());
    // The input schema is the required one without titles.
    EXPECT_EQ(
        json::write(tool_.schema().parameters),
        R"({"type":"object","properties":{"answer":{"type":"string"},"confidence":{"type":"number","default":0.5},)"
        R"("sources":{"type":"array","items":{"type":"string"}}},"required":["answer"]})");
    EXPECT_TRUE(tool_.read_only());
    EXPECT_TRUE(tool_.concurrency_safe());
    EXPECT_FALSE(tool_.external());
    for (const char* mode : {"default", "explore", "dont_ask"}) {
        auto ctx = permission::Context::from_json(bj::object{{"mode", mode}});
        EXPECT_EQ(permission::evaluate(tool_, bj::object{}, ctx).behavior,
                  permission::Behavior::kAllow)
            << mode;
    }
}

TEST_F(StructuredOutputToolTest, NothingRequiredNothingStored) {
    auto [state, text] = call(R"({"answer": "x"})");
    EXPECT_EQ(state, "success");
    EXPECT_EQ(text, "No structured output is required for now.");
    EXPECT_TRUE(state_.reply_context.at("structured_output").is_null());
}

TEST_F(StructuredOutputToolTest, AValidOutputIsStoredWithItsDefaults) {
    state_.reply_context["structured_schema"] = kSchema;
    auto [state, text] = call(R"({"answer": "42", "sources": ["a"]})");
    EXPECT_EQ(state, "success");
    EXPECT_EQ(text, "Structured output generated successfully.");
    EXPECT_EQ(json::write(state_.reply_context.at("structured_output")),
              R"({"answer":"42","sources":["a"],"confidence":0.5})");
}

TEST_F(StructuredOutputToolTest, AnInvalidOutputIsAValidationErrorAndNotStored) {
    state_.reply_context["structured_schema"] = kSchema;
    auto [state, text] = call(R"({"confidence": "high", "sources": [1]})");
    EXPECT_EQ(state, "error");
    EXPECT_EQ(
        text,
        "ValidationError: Structured output validation failed with error: "
        "$.confidence: 'high' is not of type 'number'; $.sources[0]: 1 is not of type 'string'; "
        "$: 'answer' is a required property");
    EXPECT_TRUE(state_.reply_context.at("structured_output").is_null());
}

TEST(StructuredSchema, OnlyObjectSchemasAreAccepted) {
    EXPECT_NO_THROW(check_structured_schema(kSchema));
    EXPECT_NO_THROW(
        check_structured_schema(bj::parse(R"({"type": "object", "properties": {}})").as_object()));
    for (const char* bad : {R"({"type": "string"})", R"({"type": "object"})",
                            R"({"properties": {}})", R"({"type": "object", "properties": []})"})
        EXPECT_THROW(check_structured_schema(bj::parse(bad).as_object()), std::invalid_argument)
            << bad;
}

}  // namespace
}  // namespace agentd::agent
