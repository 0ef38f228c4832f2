#include "tool/builtin/reset_tools.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "domain/session.hpp"

namespace agentd::tool {
namespace {

namespace bj = boost::json;

constexpr std::string_view kPreamble =
    "The tool instructions are a collection of suggestions, rules and notifications about how to "
    "use the tools "
    "in the activated groups.";

class ResetToolsTest : public ::testing::Test {
protected:
    ResetToolsTest() {
        groups_ = {
            agent::ToolGroup{"web", "Search and browse the web", "Cite every page you use.", {}},
            agent::ToolGroup{"schedule_tools", "Create and manage schedules", std::nullopt, {}},
            agent::ToolGroup{"mail", "Send mail", "Never send without asking.", {}}};
        tool_ = make_reset_tools(groups_);
        domain::set_activated_groups(state_, {"mail"});
    }

    /// Runs the tool with `input` (JSON text); returns {state, text}.
    std::pair<std::string, std::string> call(std::string_view input) {
        const bj::object args = bj::parse(input).as_object();
        agent::ToolContext ctx{"s", state_, nullptr};
        std::string streamed;
        std::function<void(const agent::ToolChunk&)> emit = [&](const agent::ToolChunk& c) {
            streamed += c.text;
        };
        boost::asio::io_context io;
        auto future =
            boost::asio::co_spawn(io, tool_->run(args, ctx, emit), boost::asio::use_future);
        io.run();
        auto outcome = future.get();
        std::string text(outcome.output.as_string());
        EXPECT_EQ(streamed, text);
        return {outcome.state, text};
    }

    std::vector<agent::ToolGroup> groups_;
    std::shared_ptr<agent::Tool> tool_;
    domain::SessionState state_ = domain::SessionState::fresh();
};

TEST_F(ResetToolsTest, SchemaHasOneBooleanPerGroupInRegistrationOrder) {
    EXPECT_EQ(tool_->schema().name, "reset_tools");
    EXPECT_FALSE(tool_->schema().description.empty());
    EXPECT_EQ(
        bj::serialize(tool_->schema().parameters),
        R"({"properties":{)"
        R"("web":{"default":false,"description":"Search and browse the web","type":"boolean"},)"
        R"("schedule_tools":{"default":false,"description":"Create and manage schedules","type":"boolean"},)"
        R"("mail":{"default":false,"description":"Send mail","type":"boolean"}},"type":"object"})");
    EXPECT_TRUE(tool_->concurrency_safe());
    EXPECT_FALSE(tool_->read_only());
    EXPECT_FALSE(tool_->external());
}

TEST_F(ResetToolsTest, AllowedInEveryModeButDenyRulesStillApply) {
    for (const char* mode : {"default", "accept_edits", "explore", "bypass", "dont_ask"}) {
        auto ctx = permission::Context::from_json(bj::object{{"mode", mode}});
        EXPECT_EQ(permission::evaluate(*tool_, bj::object{{"web", true}}, ctx).behavior,
                  permission::Behavior::kAllow)
            << mode;
    }
    auto ctx = permission::Context::from_json(
        bj::parse(
            R"({"mode": "default", "deny_rules": {"reset_tools": [{"tool_name": "reset_tools", "rule_content": null,
            "behavior": "deny", "source": "user"}]}})")
            .as_object());
    EXPECT_EQ(permission::evaluate(*tool_, bj::object{}, ctx).behavior,
              permission::Behavior::kDeny);
}

TEST_F(ResetToolsTest, TheInputIsTheWholeNewStateAndTheAnswerListsGroupsInRegistrationOrder) {
    auto [state, text] = call(R"({"mail": true, "schedule_tools": true, "web": true})");
    EXPECT_EQ(state, "success");
    // Stored in argument order ...
    EXPECT_EQ(domain::activated_groups(state_),
              (std::vector<std::string>{"mail", "schedule_tools", "web"}));
    // ... reported in registration order; only groups with instructions get an element.
    EXPECT_EQ(
        text,
        "The currently activated tool group(s): web, schedule_tools, mail.\n<tool-instructions>\n" +
            std::string(kPreamble) +
            "\n<group name=\"web\">Cite every page you use.</group>"
            "<group name=\"mail\">Never send without asking.</group>\n</tool-instructions>");
}

TEST_F(ResetToolsTest, OmittedAndFalseGroupsAreDeactivated) {
    auto [state, text] = call(R"({"web": false, "schedule_tools": true})");
    EXPECT_EQ(state, "success");
    EXPECT_EQ(domain::activated_groups(state_), (std::vector<std::string>{"schedule_tools"}));
    EXPECT_EQ(
        text,
        "The currently activated tool group(s): schedule_tools.");  // no instructions, no block
    std::tie(state, text) = call("{}");
    EXPECT_EQ(state, "success");
    EXPECT_TRUE(domain::activated_groups(state_).empty());
    EXPECT_EQ(text, "All tool groups are currently deactivated.");
    EXPECT_TRUE(state_.tool_context.at("activated_groups").is_array());
}

TEST_F(ResetToolsTest, UnknownGroupsAreRejectedFirstAndChangeNothing) {
    auto [state, text] = call(R"({"zeta": true, "web": 3, "basic": true})");
    EXPECT_EQ(state, "error");
    EXPECT_EQ(text,
              "Invalid group name(s): zeta, basic. The current available groups are: web, "
              "schedule_tools, mail");
    EXPECT_EQ(domain::activated_groups(state_), (std::vector<std::string>{"mail"}));
}

TEST_F(ResetToolsTest, NonBooleanValuesAreRejectedWithPythonsTypeName) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"web": true, "mail": 1})",
         "Invalid arguments: the argument 'mail' should be a bool value, but got <class 'int'>."},
        {R"({"web": "yes"})",
         "Invalid arguments: the argument 'web' should be a bool value, but got <class 'str'>."},
        {R"({"web": null})",
         "Invalid arguments: the argument 'web' should be a bool value, but got <class "
         "'NoneType'>."},
        {R"({"web": 0.5})",
         "Invalid arguments: the argument 'web' should be a bool value, but got <class 'float'>."},
        {R"({"web": []})",
         "Invalid arguments: the argument 'web' should be a bool value, but got <class 'list'>."},
    };
    for (const auto& [input, expected] : cases) {
        auto [state, text] = call(input);
        EXPECT_EQ(state, "error") << input;
        EXPECT_EQ(text, expected);
        EXPECT_EQ(domain::activated_groups(state_), (std::vector<std::string>{"mail"})) << input;
    }
}

TEST(ResetToolsResponse, EmptyInstructionsOpenTheBlockButAddNoElement) {
    agent::ToolGroup quiet{"quiet", "d", std::string(""), {}};
    EXPECT_EQ(reset_tools_response({&quiet}),
              "The currently activated tool group(s): quiet.\n<tool-instructions>\n" +
                  std::string(kPreamble) + "\n\n</tool-instructions>");
}

}  // namespace
}  // namespace agentd::tool
