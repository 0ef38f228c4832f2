#include "agent/toolkit.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace agentd::agent {
namespace {

/// A tool that only has a name (and a tag telling instances apart).
class NamedTool final : public Tool {
public:
    NamedTool(std::string name, std::string tag = "")
        : schema_{std::move(name), std::move(tag), {}} {}
    const model::ToolSchema& schema() const override { return schema_; }
    boost::asio::awaitable<ToolOutcome> run(const bj::object&, ToolContext&,
                                            const std::function<void(const ToolChunk&)>&) override {
        co_return ToolOutcome{};
    }

private:
    model::ToolSchema schema_;
};

std::shared_ptr<Tool> tool(std::string name, std::string tag = "") {
    return std::make_shared<NamedTool>(std::move(name), std::move(tag));
}

std::vector<std::string> names(const std::vector<model::ToolSchema>& schemas) {
    std::vector<std::string> out;
    for (const auto& s : schemas) out.push_back(s.name);
    return out;
}

ToolGroup group(std::string name, std::vector<std::shared_ptr<Tool>> tools = {}) {
    return ToolGroup{name, "About " + name, std::nullopt, std::move(tools)};
}

std::string throw_text(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no std::invalid_argument)";
}

TEST(Toolkit, BasicOnlyOffersNoMetaTool) {
    Toolkit kit;
    EXPECT_TRUE(kit.empty());
    kit.add(tool("Bash"));
    kit.add(tool("Read", "first"));
    kit.add(tool("Read", "second"));  // replaced in place
    kit.add(tool("Write"));
    auto schemas = kit.schemas();
    EXPECT_EQ(names(schemas), (std::vector<std::string>{"Bash", "Read", "Write"}));
    EXPECT_EQ(schemas[1].description, "second");
    ASSERT_EQ(kit.groups().size(), 1u);
    EXPECT_EQ(kit.groups()[0].name, "basic");
    EXPECT_EQ(kit.find("reset_tools", {}).error,
              "ToolNotFoundError: The tool named 'reset_tools' doesn't exist.");
}

TEST(Toolkit, SchemasStartWithResetToolsThenBasicThenActiveGroupsInRegistrationOrder) {
    Toolkit kit;
    kit.add(tool("Bash"));
    kit.add_group(group("web", {tool("Search"), tool("Fetch")}));
    kit.add_group(group("schedule_tools", {tool("ScheduleCreate")}));
    kit.add(tool("TaskList"));  // basic, after a group was registered
    EXPECT_EQ(names(kit.schemas()), (std::vector<std::string>{"reset_tools", "Bash", "TaskList"}));
    // Activation order does not matter, registration order does; unknown names are ignored.
    EXPECT_EQ(names(kit.schemas({"schedule_tools", "gone", "web"})),
              (std::vector<std::string>{"reset_tools", "Bash", "TaskList", "Search", "Fetch",
                                        "ScheduleCreate"}));
    EXPECT_EQ(names(kit.schemas({"schedule_tools"})),
              (std::vector<std::string>{"reset_tools", "Bash", "TaskList", "ScheduleCreate"}));
    // The meta tool's schema follows the groups.
    EXPECT_EQ(
        bj::serialize(kit.schemas()[0].parameters),
        R"({"properties":{"web":{"default":false,"description":"About web","type":"boolean"},)"
        R"("schedule_tools":{"default":false,"description":"About schedule_tools","type":"boolean"}},)"
        R"("type":"object"})");
}

TEST(Toolkit, ALaterToolOfTheSameNameShadowsTheEarlierButKeepsItsPlace) {
    Toolkit kit;
    kit.add(tool("Search", "basic"));
    kit.add(tool("Bash"));
    kit.add_group(group("web", {tool("Search", "web")}));
    auto inactive = kit.schemas();
    EXPECT_EQ(names(inactive), (std::vector<std::string>{"reset_tools", "Search", "Bash"}));
    EXPECT_EQ(inactive[1].description, "basic");
    auto active = kit.schemas({"web"});
    EXPECT_EQ(names(active), (std::vector<std::string>{"reset_tools", "Search", "Bash"}));
    EXPECT_EQ(active[1].description, "web");
    EXPECT_EQ(kit.find("Search", {}).tool->schema().description, "basic");
    EXPECT_EQ(kit.find("Search", {"web"}).tool->schema().description, "web");
}

TEST(Toolkit, FindTellsAvailableFromInactiveFromUnknown) {
    Toolkit kit;
    kit.add(tool("Bash"));
    kit.add_group(group("schedule_tools", {tool("ScheduleCreate")}));
    auto bash = kit.find("Bash", {});
    ASSERT_NE(bash.tool, nullptr);
    EXPECT_EQ(bash.error, "");
    auto meta = kit.find("reset_tools", {});
    ASSERT_NE(meta.tool, nullptr);
    EXPECT_EQ(meta.tool->schema().name, "reset_tools");
    auto inactive = kit.find("ScheduleCreate", {});
    EXPECT_EQ(inactive.tool, nullptr);
    EXPECT_EQ(inactive.error,
              "ToolGroupInactiveError: The tool 'ScheduleCreate' in group 'schedule_tools' is "
              "currently inactive. "
              "You should first activate the group by calling the 'reset_tools' tool.");
    EXPECT_NE(kit.find("ScheduleCreate", {"schedule_tools"}).tool, nullptr);
    auto unknown = kit.find("Nope", {"schedule_tools"});
    EXPECT_EQ(unknown.tool, nullptr);
    EXPECT_EQ(unknown.error, "ToolNotFoundError: The tool named 'Nope' doesn't exist.");
    // Batching looks at every registered tool, active or not.
    EXPECT_NE(kit.find_registered("ScheduleCreate"), nullptr);
    EXPECT_NE(kit.find_registered("reset_tools"), nullptr);
    EXPECT_EQ(kit.find_registered("Nope"), nullptr);
}

TEST(Toolkit, GroupRegistrationRules) {
    Toolkit kit;
    kit.add_group(group("web"));
    EXPECT_EQ(throw_text([&] { kit.add_group(group("basic")); }),
              "The tool group name 'basic' is reserved for the always-active group.");
    EXPECT_EQ(throw_text([&] { kit.add_group(group("web")); }),
              "A tool group named 'web' is already registered.");
    EXPECT_EQ(
        throw_text([&] {
            kit.add_group(ToolGroup{"mail", "", "use it well", {}});
        }),
        "The tool group 'mail' needs a description (only the 'basic' group may go without one).");
    EXPECT_EQ(throw_text([&] { kit.add(tool("x"), "mail"); }),
              "Cannot find group 'mail' in the toolkit; the groups are 'basic', 'web'.");
    ASSERT_EQ(kit.groups().size(), 2u);  // nothing rejected was registered
    kit.add(tool("Search"), "web");
    kit.add(tool("Bash"), "basic");
    EXPECT_EQ(names(kit.schemas({"web"})),
              (std::vector<std::string>{"reset_tools", "Bash", "Search"}));
}

TEST(Toolkit, RemoveTakesTheNameOutOfEveryGroup) {
    Toolkit kit;
    kit.add(tool("Out"));
    kit.add(tool("Bash"));
    kit.add_group(group("web", {tool("Out"), tool("Search")}));
    kit.remove("Out");
    EXPECT_EQ(names(kit.schemas({"web"})),
              (std::vector<std::string>{"reset_tools", "Bash", "Search"}));
    EXPECT_EQ(kit.find_registered("Out"), nullptr);
}

TEST(Toolkit, ACopyKeepsItsOwnGroups) {
    Toolkit kit;
    kit.add_group(group("web"));
    Toolkit copy = kit;
    copy.add_group(group("mail"));
    EXPECT_EQ(
        bj::serialize(kit.schemas()[0].parameters),
        R"({"properties":{"web":{"default":false,"description":"About web","type":"boolean"}},"type":"object"})");
    EXPECT_EQ(copy.schemas()[0].parameters.at("properties").as_object().size(), 2u);
}

}  // namespace
}  // namespace agentd::agent
