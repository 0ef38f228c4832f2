#include "tool/builtin/task_tools.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <regex>

namespace agentd::tool {
namespace {

namespace bj = boost::json;

class TaskTools : public ::testing::Test {
protected:
    TaskTools() {
        for (auto& t : make_task_tools()) tools_[t->schema().name] = t;
    }

    /// Runs `name` with `input` (JSON text); returns {state, text}.
    std::pair<std::string, std::string> call(const std::string& name, std::string_view input) {
        const bj::object args = bj::parse(input).as_object();
        agent::ToolContext ctx{"s", state_, nullptr};
        std::string streamed;
        std::function<void(const agent::ToolChunk&)> emit = [&](const agent::ToolChunk& c) { streamed += c.text; };
        boost::asio::io_context io;
        auto future = boost::asio::co_spawn(io, tools_.at(name)->run(args, ctx, emit), boost::asio::use_future);
        io.run();
        auto outcome = future.get();
        std::string text(outcome.output.as_string());
        EXPECT_EQ(streamed, text);
        return {outcome.state, text};
    }
    std::string ok(const std::string& name, std::string_view input) {
        auto [state, text] = call(name, input);
        EXPECT_EQ(state, "success") << text;
        return text;
    }
    const bj::array& tasks() { return state_.tasks_context.at("tasks").as_array(); }

    domain::SessionState state_;
    std::map<std::string, std::shared_ptr<agent::Tool>> tools_;
};

TEST_F(TaskTools, FactoryOrderAndFlags) {
    auto list = make_task_tools();
    ASSERT_EQ(list.size(), 4u);
    EXPECT_EQ(list[0]->schema().name, "TaskCreate");
    EXPECT_EQ(list[1]->schema().name, "TaskList");
    EXPECT_EQ(list[2]->schema().name, "TaskGet");
    EXPECT_EQ(list[3]->schema().name, "TaskUpdate");
    for (const auto& t : list) {
        EXPECT_TRUE(t->concurrency_safe());
        EXPECT_FALSE(t->read_only());
        EXPECT_FALSE(t->check_read_only(bj::object{}));
        auto d = t->check_permissions(bj::object{}, permission::Context{});
        EXPECT_EQ(d.behavior, permission::Behavior::kAllow);
        EXPECT_EQ(d.message, t->schema().name + " is always allowed to be called.");
        EXPECT_FALSE(t->schema().description.empty());
    }
}

TEST_F(TaskTools, Schemas) {
    EXPECT_EQ(bj::value(tools_.at("TaskCreate")->schema().parameters), bj::parse(R"({
        "description":"The params of the creating task tool.",
        "properties":{"subject":{"description":"A brief title for the task","type":"string"},
                      "description":{"description":"What needs to be done","type":"string"},
                      "metadata":{"anyOf":[{"additionalProperties":true,"type":"object"},{"type":"null"}],
                                  "default":null,"description":"Arbitrary metadata to attach to the task"}},
        "required":["subject","description"],"type":"object"})"));
    EXPECT_EQ(bj::value(tools_.at("TaskGet")->schema().parameters), bj::parse(R"({
        "description":"The params of the get task.",
        "properties":{"task_id":{"description":"The ID of the task to retrieve","type":"string"}},
        "required":["task_id"],"type":"object"})"));
    EXPECT_EQ(bj::value(tools_.at("TaskList")->schema().parameters),
              bj::parse(R"({"description":"The params of the list task params.","properties":{},"type":"object"})"));
    const auto& update = tools_.at("TaskUpdate")->schema().parameters;
    EXPECT_EQ(update.at("required"), bj::parse(R"(["task_id"])"));
    EXPECT_EQ(update.at("properties").at("status"), bj::parse(R"({"anyOf":[{"enum":["pending","in_progress","completed","deleted"],"type":"string"},{"type":"null"}],"default":null,"description":"New status for the task"})"));
    EXPECT_EQ(update.at("properties").at("add_blocks"), bj::parse(R"({"anyOf":[{"items":{"type":"string"},"type":"array"},{"type":"null"}],"default":null,"description":"Task IDs that this task blocks"})"));
    std::vector<std::string> keys;
    for (const auto& kv : update.at("properties").as_object()) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"task_id", "subject", "description", "add_blocks", "status",
                                              "add_blocked_by", "owner", "metadata"}));
}

TEST_F(TaskTools, CreateStoresTheTaskLayout) {
    EXPECT_EQ(ok("TaskCreate", R"({"subject":"Write code","description":"all of it"})"),
              "Task (id=1) created successfully: Write code");
    ASSERT_EQ(tasks().size(), 1u);
    const auto& t = tasks()[0].as_object();
    std::vector<std::string> keys;
    for (const auto& kv : t) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"subject", "description", "metadata", "created_at", "state", "id",
                                              "owner", "blocks", "blocked_by"}));
    EXPECT_EQ(t.at("metadata"), bj::object{});
    EXPECT_EQ(t.at("state"), "pending");
    EXPECT_EQ(t.at("id"), "1");
    EXPECT_TRUE(t.at("owner").is_null());
    EXPECT_TRUE(std::regex_match(std::string(t.at("created_at").as_string()),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?)")));
}

TEST_F(TaskTools, IdsAreMaxNumericPlusOne) {
    ok("TaskCreate", R"({"subject":"a","description":""})");
    ok("TaskCreate", R"({"subject":"b","description":""})");
    EXPECT_EQ(ok("TaskCreate", R"({"subject":"c","description":""})"), "Task (id=3) created successfully: c");
    EXPECT_EQ(ok("TaskUpdate", R"({"task_id":"3","status":"deleted"})"), "Task (id=3) has been deleted.");
    EXPECT_EQ(ok("TaskCreate", R"({"subject":"d","description":""})"), "Task (id=3) created successfully: d");
    // Non-numeric ids are ignored; Python's int() accepts " 7 " and "1_0".
    state_.tasks_context["tasks"].as_array().push_back(bj::object{{"id", "legacy-uuid"}});
    state_.tasks_context["tasks"].as_array().push_back(bj::object{{"id", " 1_0 "}});
    EXPECT_EQ(ok("TaskCreate", R"({"subject":"e","description":""})"), "Task (id=11) created successfully: e");
}

TEST_F(TaskTools, ListAndGet) {
    EXPECT_EQ(ok("TaskList", "{}"), "No tasks available.");
    ok("TaskCreate", R"({"subject":"First","description":"one","metadata":{"priority":"high","n":1,"ok":true,"x":null,"f":2.5,"l":["it's"]}})");
    ok("TaskCreate", R"({"subject":"Second","description":"two"})");
    ok("TaskUpdate", R"({"task_id":"2","add_blocked_by":["1"],"owner":"bob"})");
    EXPECT_EQ(ok("TaskList", "{}"), "1 [pending] First\n2 [pending] Second(bob)[blocked by 1]");
    EXPECT_EQ(ok("TaskGet", R"({"task_id":"1"})"),
              "Task (id=1): First\nStatus: pending\nDescription: one\nBlocks: #2\n"
              "Metadata: {'priority': 'high', 'n': 1, 'ok': True, 'x': None, 'f': 2.5, 'l': [\"it's\"]}");
    EXPECT_EQ(ok("TaskGet", R"({"task_id":"2"})"),
              "Task (id=2): Second\nStatus: pending\nDescription: two\nOwner: bob\nBlocked by: #1");
    EXPECT_EQ(call("TaskGet", R"({"task_id":"9"})"), std::make_pair(std::string("error"), std::string("Task not found")));
}

TEST_F(TaskTools, UpdateFieldsInOrder) {
    ok("TaskCreate", R"({"subject":"a","description":"d","metadata":{"keep":1,"drop":2}})");
    ok("TaskCreate", R"({"subject":"b","description":"d"})");
    EXPECT_EQ(ok("TaskUpdate", R"({"task_id":"1","subject":"A","description":"","add_blocks":["2","9"],"status":"in_progress","owner":"me","metadata":{"drop":null,"new":"v"}})"),
              "Update task (id=1) subject, description, add_blocks, status, owner, metadata.");
    const auto& t = tasks()[0].as_object();
    EXPECT_EQ(t.at("subject"), "A");
    EXPECT_EQ(t.at("description"), "");
    EXPECT_EQ(t.at("blocks"), bj::parse(R"(["2"])"));
    EXPECT_EQ(tasks()[1].at("blocked_by"), bj::parse(R"(["1"])"));
    EXPECT_EQ(t.at("state"), "in_progress");
    EXPECT_EQ(t.at("owner"), "me");
    EXPECT_EQ(t.at("metadata"), bj::parse(R"({"keep":1,"new":"v"})"));
}

TEST_F(TaskTools, UpdateEdgeCases) {
    ok("TaskCreate", R"({"subject":"a","description":"d"})");
    EXPECT_EQ(ok("TaskUpdate", R"({"task_id":"1","subject":"","add_blocks":["1"]})"),
              "Update task (id=1) add_blocks.");  // empty subject ignored; self-reference allowed
    EXPECT_EQ(ok("TaskUpdate", R"({"task_id":"1","add_blocks":["1"],"add_blocked_by":["7"],"metadata":{}})"),
              "No updates were made to the task (id=1). Make sure you provided at least one field to update and the "
              "values are correct.");
    EXPECT_EQ(ok("TaskUpdate", R"({"task_id":"1","status":"completed"})"),
              "Update task (id=1) status.\n\nTask completed. Call TaskList now to find your next available task or see "
              "if your work unblocked others.");
    EXPECT_EQ(ok("TaskUpdate", R"({"task_id":"1","owner":"x"})"),
              "Update task (id=1) owner.\n\nTask completed. Call TaskList now to find your next available task or see "
              "if your work unblocked others.");
    EXPECT_EQ(call("TaskUpdate", R"({"task_id":"5","status":"completed"})"),
              std::make_pair(std::string("error"), std::string("TaskNotFoundError: The task (id=5) does not exist.")));
}

TEST_F(TaskTools, DeleteUnlinksAndSkipsTheRest) {
    ok("TaskCreate", R"({"subject":"a","description":""})");
    ok("TaskCreate", R"({"subject":"b","description":""})");
    ok("TaskUpdate", R"({"task_id":"2","add_blocked_by":["1"]})");
    EXPECT_EQ(ok("TaskUpdate", R"({"task_id":"1","status":"deleted","owner":"ignored"})"), "Task (id=1) has been deleted.");
    ASSERT_EQ(tasks().size(), 1u);
    EXPECT_EQ(tasks()[0].at("blocked_by"), bj::array{});
    EXPECT_EQ(ok("TaskList", "{}"), "2 [pending] b");
}

TEST_F(TaskTools, InputErrors) {
    struct Case {
        const char* tool;
        const char* input;
        const char* text;
    };
    const Case cases[] = {
        {"TaskCreate", R"({"subject":"a"})", "Input validation failed for tool 'TaskCreate': 'description' is a required property"},
        {"TaskCreate", R"({"subject":1,"description":""})", "Input validation failed for tool 'TaskCreate': 1 is not of type 'string'"},
        {"TaskCreate", R"({"subject":"a","description":"","metadata":[1]})", "Input validation failed for tool 'TaskCreate': [1] is not valid under any of the given schemas"},
        {"TaskCreate", R"({"subject":"a","description":"","extra":1})", "TaskCreate.call() got an unexpected keyword argument 'extra'"},
        {"TaskUpdate", R"({"task_id":"1","status":"done"})", "Input validation failed for tool 'TaskUpdate': 'done' is not valid under any of the given schemas"},
        {"TaskUpdate", R"({"status":"pending"})", "Input validation failed for tool 'TaskUpdate': 'task_id' is a required property"},
        {"TaskList", R"({"x":1})", "TaskList.call() got an unexpected keyword argument 'x'"},
    };
    for (const auto& c : cases) {
        auto [state, text] = call(c.tool, c.input);
        EXPECT_EQ(state, "error") << c.input;
        EXPECT_EQ(text, c.text);
    }
}

TEST(PythonRepr, Strings) {
    EXPECT_EQ(python_repr(bj::value("plain")), "'plain'");
    EXPECT_EQ(python_repr(bj::value("it's")), "\"it's\"");
    EXPECT_EQ(python_repr(bj::value("both ' and \"")), "'both \\' and \"'");
    EXPECT_EQ(python_repr(bj::value("a\nb\t\\\x01")), "'a\\nb\\t\\\\\\x01'");
    EXPECT_EQ(python_repr(bj::value("h\xc3\xa9 \xe2\x80\xa8")), "'h\xc3\xa9 \\u2028'");
    EXPECT_EQ(python_repr(bj::parse(R"({"a":[1,2.0,false,null,{}]})")), "{'a': [1, 2.0, False, None, {}]}");
}

}  // namespace
}  // namespace agentd::tool
