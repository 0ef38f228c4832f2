#include "tool/builtin/task_tools.hpp"

#include <limits>
#include <optional>

#include "common/clock.hpp"
#include "common/json.hpp"

namespace agentd::tool {

namespace bj = boost::json;

namespace {

using Emit = std::function<void(const agent::ToolChunk&)>;

constexpr std::string_view kCreateDescription = R"(Adds a task to the task list of this session, to plan and track multi-step work and to show the user how it is going.

## When to use it
- Work that takes three or more distinct steps, or needs careful planning
- The user gives several things to do (a numbered or comma-separated list), or asks for a todo list
- New instructions arrive: capture the requirements as tasks right away
- Plan mode: record the plan as tasks
- Starting a task: mark it in_progress first; finishing one: mark it completed and add any follow-up tasks you discovered

## When not to use it
- A single, straightforward task, or one done in fewer than three trivial steps
- Purely conversational or informational requests
If there is only one trivial thing to do, just do it.

## Fields
- **subject**: a short imperative title (e.g. "Fix the login redirect bug")
- **description**: what has to be done
New tasks start as `pending`.

## Tips
- Make subjects specific about the outcome
- Set up dependencies afterwards with TaskUpdate (add_blocks / add_blocked_by)
- Look at TaskList first so you do not create duplicates)";

constexpr std::string_view kGetDescription = R"(Shows one task of the task list in full, by its id.

## When to use it
- Before starting on a task, to read its whole description and context
- To see its dependencies: which tasks it blocks and which block it
- After a task was assigned to you, to get all of its requirements

## Output
The subject, status ('pending', 'in_progress' or 'completed'), description, owner, the tasks it blocks, the tasks blocking it, and its metadata.

## Tips
- Start on a task only when nothing blocks it any more.
- TaskList gives a summary of every task.)";

constexpr std::string_view kListDescription = R"(Lists every task of the task list in short form.

## When to use it
- To find work that can be picked up: pending, without owner, not blocked
- To check overall progress
- To spot blocked tasks whose dependencies need resolving
- After finishing a task, to see what it unblocked or to claim the next one
- When several tasks are available, prefer the lowest id first: earlier tasks often prepare later ones

## Output
One line per task: its id (for TaskGet and TaskUpdate), status, subject, owner in parentheses when set, and the ids still blocking it.

Use TaskGet for a task's full details.)";

constexpr std::string_view kUpdateDescription = R"(Changes a task of the task list.

## When to use it
**Resolving tasks**
- Mark a task completed once its work is done, then call TaskList for the next one
- Only mark it completed when it is entirely done; with failing tests, a partial implementation, unresolved errors or missing files or dependencies, keep it in_progress (and add a task for whatever blocks you)

**Deleting tasks**
- A task that no longer matters or was created by mistake: set status `deleted` (it is removed for good)

**Editing tasks**
- Requirements changed or became clearer, or dependencies need recording

## Fields
- **status**: `pending` → `in_progress` → `completed`, or `deleted`
- **subject**, **description**: new title or text
- **owner**: who works on it (an agent name)
- **metadata**: keys merged into the task's metadata; a key set to null is removed
- **add_blocks**: tasks that cannot start before this one is done
- **add_blocked_by**: tasks that must be done before this one can start

Read the task's current state with TaskGet before changing it.

## Examples
Start a task: `{"task_id": "1", "status": "in_progress"}`
Finish it: `{"task_id": "1", "status": "completed"}`
Remove it: `{"task_id": "1", "status": "deleted"}`
Claim it: `{"task_id": "1", "owner": "my-name"}`
Add a dependency: `{"task_id": "2", "add_blocked_by": ["1"]}`)";

bj::object nullable(bj::object schema, std::string description) {
    return bj::object{{"anyOf", bj::array{std::move(schema), bj::object{{"type", "null"}}}},
                      {"default", nullptr},
                      {"description", std::move(description)}};
}

bj::object string_field(std::string description) {
    return bj::object{{"description", std::move(description)}, {"type", "string"}};
}

// --- the task list inside tasks_context -------------------------------------------

bj::array& tasks_of(domain::SessionState& state) {
    auto& slot = state.tasks_context["tasks"];
    if (!slot.is_array()) slot = bj::array{};
    return slot.get_array();
}

std::string_view str_field(const bj::value& task, std::string_view key) {
    if (!task.is_object()) return {};
    auto* v = task.get_object().if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

std::string_view id_of(const bj::value& task) { return str_field(task, "id"); }

bj::array& list_field(bj::object& task, std::string_view key) {
    auto& v = task[key];
    if (!v.is_array()) v = bj::array{};
    return v.get_array();
}

bool contains(const bj::array& list, std::string_view id) {
    for (const auto& v : list)
        if (v.is_string() && v.get_string() == id) return true;
    return false;
}

/// Python's int() of an id: optional whitespace and sign, digits with single underscores.
std::optional<long long> python_int(std::string_view text) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    bool negative = false;
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    if (text.empty() || text.front() == '_' || text.back() == '_') return std::nullopt;
    long long value = 0;
    char prev = 0;
    for (char c : text) {
        if (c == '_') {
            if (prev == '_') return std::nullopt;
        } else if (c >= '0' && c <= '9') {
            if (value > (std::numeric_limits<long long>::max() - (c - '0')) / 10) return std::nullopt;
            value = value * 10 + (c - '0');
        } else {
            return std::nullopt;
        }
        prev = c;
    }
    return negative ? -value : value;
}

// --- input checks, worded like the reference's validator ------------------------------

struct Field {
    enum class Kind { kString, kObject, kStringArray, kStatus };
    std::string_view name;
    Kind kind;
    bool required;
    bool nullable;
};

bool matches(const bj::value& v, Field::Kind kind) {
    switch (kind) {
        case Field::Kind::kString: return v.is_string();
        case Field::Kind::kObject: return v.is_object();
        case Field::Kind::kStringArray:
            if (!v.is_array()) return false;
            for (const auto& e : v.get_array())
                if (!e.is_string()) return false;
            return true;
        case Field::Kind::kStatus:
            return v.is_string() && (v.get_string() == "pending" || v.get_string() == "in_progress" ||
                                     v.get_string() == "completed" || v.get_string() == "deleted");
    }
    return false;
}

/// The error text for an input that the tool's schema or signature rejects.
std::optional<std::string> check_input(std::string_view tool, const bj::object& input, std::initializer_list<Field> fields) {
    for (const auto& kv : input) {
        bool known = false;
        for (const auto& f : fields) known = known || f.name == kv.key();
        if (!known) return std::string(tool) + ".call() got an unexpected keyword argument '" + std::string(kv.key()) + "'";
    }
    const std::string prefix = "Input validation failed for tool '" + std::string(tool) + "': ";
    for (const auto& f : fields) {
        const bj::value* v = input.if_contains(f.name);
        if (!v) {
            if (f.required) return prefix + "'" + std::string(f.name) + "' is a required property";
            continue;
        }
        if (f.nullable && v->is_null()) continue;
        if (matches(*v, f.kind)) continue;
        if (f.nullable) return prefix + python_repr(*v) + " is not valid under any of the given schemas";
        return prefix + python_repr(*v) + " is not of type 'string'";
    }
    return std::nullopt;
}

agent::ToolOutcome reply(const Emit& emit, std::string state, std::string text) {
    emit(agent::ToolChunk{text, std::nullopt});
    return agent::ToolOutcome{std::move(state), bj::value(std::move(text)), {}};
}

// --- the tools ---------------------------------------------------------------------

class TaskTool : public agent::Tool {
public:
    bool concurrency_safe() const override { return true; }
    bool uses_session_state() const override { return true; }  // the session's task list
    permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
        return permission::Decision::allow(schema().name + " is always allowed to be called.");
    }
};

class TaskCreateTool final : public TaskTool {
public:
    const model::ToolSchema& schema() const override {
        static const model::ToolSchema kSchema{
            "TaskCreate", std::string(kCreateDescription),
            bj::object{{"description", "The params of the creating task tool."},
                       {"properties",
                        bj::object{{"subject", string_field("A brief title for the task")},
                                   {"description", string_field("What needs to be done")},
                                   {"metadata", nullable(bj::object{{"additionalProperties", true}, {"type", "object"}},
                                                         "Arbitrary metadata to attach to the task")}}},
                       {"required", bj::array{"subject", "description"}},
                       {"type", "object"}}};
        return kSchema;
    }

    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const Emit& emit) override {
        using K = Field::Kind;
        if (auto bad = check_input("TaskCreate", input,
                                   {{"subject", K::kString, true, false},
                                    {"description", K::kString, true, false},
                                    {"metadata", K::kObject, false, true}}))
            co_return reply(emit, "error", std::move(*bad));
        auto& tasks = tasks_of(ctx.state);
        long long max_id = 0;
        for (const auto& t : tasks) {
            if (auto n = python_int(id_of(t))) max_id = std::max(max_id, *n);
        }
        const std::string id = std::to_string(max_id + 1);
        const bj::value* metadata = input.if_contains("metadata");
        bj::object task{{"subject", input.at("subject")},
                        {"description", input.at("description")},
                        {"metadata", metadata && metadata->is_object() ? *metadata : bj::object{}},
                        {"created_at", clock::iso_local(clock::now_us())},
                        {"state", "pending"},
                        {"id", id},
                        {"owner", nullptr},
                        {"blocks", bj::array{}},
                        {"blocked_by", bj::array{}}};
        tasks.push_back(std::move(task));
        co_return reply(emit, "success",
                        "Task (id=" + id + ") created successfully: " + std::string(input.at("subject").get_string()));
    }
};

class TaskGetTool final : public TaskTool {
public:
    const model::ToolSchema& schema() const override {
        static const model::ToolSchema kSchema{
            "TaskGet", std::string(kGetDescription),
            bj::object{{"description", "The params of the get task."},
                       {"properties", bj::object{{"task_id", string_field("The ID of the task to retrieve")}}},
                       {"required", bj::array{"task_id"}},
                       {"type", "object"}}};
        return kSchema;
    }

    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const Emit& emit) override {
        if (auto bad = check_input("TaskGet", input, {{"task_id", Field::Kind::kString, true, false}}))
            co_return reply(emit, "error", std::move(*bad));
        const std::string_view wanted = input.at("task_id").get_string();
        for (const auto& t : tasks_of(ctx.state)) {
            if (!t.is_object() || id_of(t) != wanted) continue;
            const auto& task = t.get_object();
            std::string text = "Task (id=" + std::string(id_of(t)) + "): " + std::string(str_field(t, "subject")) +
                               "\nStatus: " + std::string(str_field(t, "state")) +
                               "\nDescription: " + std::string(str_field(t, "description"));
            if (!str_field(t, "owner").empty()) text += "\nOwner: " + std::string(str_field(t, "owner"));
            auto ids = [&](std::string_view key) {
                std::string out;
                if (auto* list = task.if_contains(key); list && list->is_array()) {
                    for (const auto& id : list->get_array()) {
                        if (!out.empty()) out += ", ";
                        out += "#" + std::string(id.is_string() ? std::string_view(id.get_string()) : "");
                    }
                }
                return out;
            };
            if (auto blocked_by = ids("blocked_by"); !blocked_by.empty()) text += "\nBlocked by: " + blocked_by;
            if (auto blocks = ids("blocks"); !blocks.empty()) text += "\nBlocks: " + blocks;
            if (auto* md = task.if_contains("metadata"); md && md->is_object() && !md->get_object().empty())
                text += "\nMetadata: " + python_repr(*md);
            co_return reply(emit, "success", std::move(text));
        }
        co_return reply(emit, "error", "Task not found");
    }
};

class TaskListTool final : public TaskTool {
public:
    const model::ToolSchema& schema() const override {
        static const model::ToolSchema kSchema{
            "TaskList", std::string(kListDescription),
            bj::object{{"description", "The params of the list task params."},
                       {"properties", bj::object{}},
                       {"type", "object"}}};
        return kSchema;
    }

    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const Emit& emit) override {
        if (auto bad = check_input("TaskList", input, {})) co_return reply(emit, "error", std::move(*bad));
        const auto& tasks = tasks_of(ctx.state);
        if (tasks.empty()) co_return reply(emit, "success", "No tasks available.");
        std::string text;
        for (const auto& t : tasks) {
            if (!text.empty()) text += "\n";
            text += std::string(id_of(t)) + " [" + std::string(str_field(t, "state")) + "] " +
                    std::string(str_field(t, "subject"));
            if (!str_field(t, "owner").empty()) text += "(" + std::string(str_field(t, "owner")) + ")";
            if (t.is_object()) {
                if (auto* list = t.get_object().if_contains("blocked_by"); list && list->is_array() &&
                                                                            !list->get_array().empty()) {
                    std::string ids;
                    for (const auto& id : list->get_array()) {
                        if (!ids.empty()) ids += ", ";
                        if (id.is_string()) ids += std::string(id.get_string());
                    }
                    text += "[blocked by " + ids + "]";
                }
            }
        }
        co_return reply(emit, "success", std::move(text));
    }
};

class TaskUpdateTool final : public TaskTool {
public:
    const model::ToolSchema& schema() const override {
        static const model::ToolSchema kSchema{
            "TaskUpdate", std::string(kUpdateDescription),
            bj::object{
                {"description", "The params of the update task."},
                {"properties",
                 bj::object{
                     {"task_id", string_field("The task id.")},
                     {"subject", nullable(bj::object{{"type", "string"}}, "New subject for the task")},
                     {"description", nullable(bj::object{{"type", "string"}}, "New description for the task")},
                     {"add_blocks", nullable(bj::object{{"items", bj::object{{"type", "string"}}}, {"type", "array"}},
                                             "Task IDs that this task blocks")},
                     {"status", nullable(bj::object{{"enum", bj::array{"pending", "in_progress", "completed", "deleted"}},
                                                    {"type", "string"}},
                                         "New status for the task")},
                     {"add_blocked_by", nullable(bj::object{{"items", bj::object{{"type", "string"}}}, {"type", "array"}},
                                                 "Task IDs that block this task")},
                     {"owner", nullable(bj::object{{"type", "string"}}, "New owner for the task")},
                     {"metadata", nullable(bj::object{{"additionalProperties", true}, {"type", "object"}},
                                           "Metadata keys to merge into the task. Set a key to null to delete it.")}}},
                {"required", bj::array{"task_id"}},
                {"type", "object"}}};
        return kSchema;
    }

    boost::asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                                   const Emit& emit) override {
        using K = Field::Kind;
        if (auto bad = check_input("TaskUpdate", input,
                                   {{"task_id", K::kString, true, false},
                                    {"subject", K::kString, false, true},
                                    {"description", K::kString, false, true},
                                    {"add_blocks", K::kStringArray, false, true},
                                    {"status", K::kStatus, false, true},
                                    {"add_blocked_by", K::kStringArray, false, true},
                                    {"owner", K::kString, false, true},
                                    {"metadata", K::kObject, false, true}}))
            co_return reply(emit, "error", std::move(*bad));
        co_return reply_to(emit, update(input, tasks_of(ctx.state)));
    }

private:
    struct Result {
        bool error = false;
        std::string text;
    };
    static agent::ToolOutcome reply_to(const Emit& emit, Result r) {
        return reply(emit, r.error ? "error" : "success", std::move(r.text));
    }

    /// `blocker` blocks `blocked`: each side records the other once.
    static void relate(bj::array& tasks, const std::string& blocker, const std::string& blocked) {
        for (auto& t : tasks) {
            if (!t.is_object()) continue;
            auto& task = t.get_object();
            if (id_of(t) == blocker && !contains(list_field(task, "blocks"), blocked))
                list_field(task, "blocks").push_back(bj::string(blocked));
            if (id_of(t) == blocked && !contains(list_field(task, "blocked_by"), blocker))
                list_field(task, "blocked_by").push_back(bj::string(blocker));
        }
    }

    static void remove_first(bj::array& list, std::string_view id) {
        for (auto it = list.begin(); it != list.end(); ++it) {
            if (it->is_string() && it->get_string() == id) {
                list.erase(it);
                return;
            }
        }
    }

    static const bj::value* given(const bj::object& input, std::string_view key) {
        const bj::value* v = input.if_contains(key);
        return v && !v->is_null() ? v : nullptr;
    }

    static Result update(const bj::object& input, bj::array& tasks) {
        const std::string task_id(input.at("task_id").get_string());
        std::optional<std::size_t> index;
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            if (tasks[i].is_object() && id_of(tasks[i]) == task_id) index = i;  // the last match, as upstream
        }
        if (!index) return {true, "TaskNotFoundError: The task (id=" + task_id + ") does not exist."};
        std::vector<std::string> updated;
        auto task = [&]() -> bj::object& { return tasks[*index].get_object(); };

        if (auto* v = given(input, "subject"); v && !v->get_string().empty()) {
            updated.push_back("subject");
            task()["subject"] = v->get_string();
        }
        if (auto* v = given(input, "description")) {
            updated.push_back("description");
            task()["description"] = v->get_string();
        }
        std::vector<std::string> existing;
        for (const auto& t : tasks) existing.emplace_back(id_of(t));
        auto exists = [&](std::string_view id) { return std::find(existing.begin(), existing.end(), id) != existing.end(); };
        auto fresh_ids = [&](const bj::value& wanted, std::string_view own_list) {
            std::vector<std::string> out;
            const bj::array current = list_field(task(), own_list);  // as it was before this step
            for (const auto& id : wanted.get_array()) {
                std::string_view s = id.get_string();
                if (!contains(current, s) && exists(s)) out.emplace_back(s);
            }
            return out;
        };
        if (auto* v = given(input, "add_blocks"); v && !v->get_array().empty()) {
            auto fresh = fresh_ids(*v, "blocks");
            if (!fresh.empty()) {
                updated.push_back("add_blocks");
                for (const auto& id : fresh) relate(tasks, task_id, id);
            }
        }
        if (auto* v = given(input, "add_blocked_by")) {
            auto fresh = fresh_ids(*v, "blocked_by");
            if (!fresh.empty()) {
                updated.push_back("add_blocked_by");
                for (const auto& id : fresh) relate(tasks, id, task_id);
            }
        }
        if (auto* v = given(input, "status"); v && !v->get_string().empty()) {
            if (v->get_string() == "deleted") {
                tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(*index));
                for (auto& t : tasks) {
                    if (!t.is_object()) continue;
                    remove_first(list_field(t.get_object(), "blocks"), task_id);
                    remove_first(list_field(t.get_object(), "blocked_by"), task_id);
                }
                return {false, "Task (id=" + task_id + ") has been deleted."};
            }
            updated.push_back("status");
            task()["state"] = v->get_string();
        }
        if (auto* v = given(input, "owner")) {
            updated.push_back("owner");
            task()["owner"] = v->get_string();
        }
        if (auto* v = given(input, "metadata"); v && !v->get_object().empty()) {
            updated.push_back("metadata");
            auto& md = task()["metadata"];
            if (!md.is_object()) md = bj::object{};
            for (const auto& kv : v->get_object()) {
                if (kv.value().is_null()) {
                    md.get_object().erase(kv.key());
                } else {
                    md.get_object()[kv.key()] = kv.value();
                }
            }
        }

        std::string text;
        if (updated.empty()) {
            text = "No updates were made to the task (id=" + task_id +
                   "). Make sure you provided at least one field to update and the values are correct.";
        } else {
            text = "Update task (id=" + task_id + ") ";
            for (std::size_t i = 0; i < updated.size(); ++i) text += (i ? ", " : "") + updated[i];
            text += ".";
        }
        if (str_field(tasks[*index], "state") == "completed") {
            text += "\n\nTask completed. Call TaskList now to find your next available task or see if your work "
                    "unblocked others.";
        }
        return {false, std::move(text)};
    }
};

}  // namespace


std::vector<std::shared_ptr<agent::Tool>> make_task_tools() {
    return {std::make_shared<TaskCreateTool>(), std::make_shared<TaskListTool>(), std::make_shared<TaskGetTool>(),
            std::make_shared<TaskUpdateTool>()};
}

}  // namespace agentd::tool
