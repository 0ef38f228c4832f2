#include "tool/builtin/reset_tools.hpp"

#include <algorithm>

#include "domain/session.hpp"

namespace agentd::tool {

namespace bj = boost::json;

namespace {

constexpr std::string_view kDescription =
    "Switches your tool groups on and off to fit the task at hand. The tools are organised in "
    "groups; "
    "give one boolean per group.\n\n"
    "**The booleans are the complete new state of the groups, not changes.** A group you leave out "
    "or "
    "set to false is deactivated, whatever its state before.\n\n"
    "**Keep it lean**: activate only the groups the current task needs, and deactivate them as "
    "soon as "
    "they are no longer needed, to save context space.\n\n"
    "The result carries the usage instructions of the active groups, which you **MUST read and "
    "follow**; call this tool again whenever you need to re-read them.";

/// Python's type(value) repr for a JSON value, as the reference's error shows it.
std::string python_type(const bj::value& v) {
    switch (v.kind()) {
        case bj::kind::null:
            return "<class 'NoneType'>";
        case bj::kind::bool_:
            return "<class 'bool'>";
        case bj::kind::int64:
        case bj::kind::uint64:
            return "<class 'int'>";
        case bj::kind::double_:
            return "<class 'float'>";
        case bj::kind::string:
            return "<class 'str'>";
        case bj::kind::array:
            return "<class 'list'>";
        case bj::kind::object:
            return "<class 'dict'>";
    }
    return "<class 'object'>";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += ", ";
        out += s;
    }
    return out;
}

class ResetTools final : public agent::Tool {
public:
    explicit ResetTools(std::vector<agent::ToolGroup> groups) : groups_(std::move(groups)) {
        for (auto& g : groups_)
            g.tools.clear();  // only the names, descriptions and instructions matter
        bj::object properties;
        for (const auto& g : groups_)
            properties[g.name] =
                bj::object{{"default", false}, {"description", g.description}, {"type", "boolean"}};
        schema_ = model::ToolSchema{
            std::string(kResetToolsName), std::string(kDescription),
            bj::object{{"properties", std::move(properties)}, {"type", "object"}}};
    }

    const model::ToolSchema& schema() const override { return schema_; }
    bool concurrency_safe() const override { return true; }
    bool uses_session_state() const override { return true; }  // the activated groups
    bool check_read_only(const bj::object&) const override { return true; }  // see the header
    permission::Decision check_permissions(const bj::object&,
                                           const permission::Context&) const override {
        return permission::Decision::allow("The meta tool is always allowed to be called.");
    }

    boost::asio::awaitable<agent::ToolOutcome> run(
        const bj::object& input, agent::ToolContext& ctx,
        const std::function<void(const agent::ToolChunk&)>& emit) override {
        auto answer = [&](std::string state, std::string text) {
            emit(agent::ToolChunk{text, std::nullopt});
            return agent::ToolOutcome{std::move(state), bj::value(std::move(text)), {}};
        };
        std::vector<std::string> names, unknown;
        for (const auto& g : groups_) names.push_back(g.name);
        for (const auto& kv : input)
            if (std::find(names.begin(), names.end(), kv.key()) == names.end())
                unknown.emplace_back(kv.key());
        if (!unknown.empty())
            co_return answer("error", "Invalid group name(s): " + join(unknown) +
                                          ". The current available groups are: " + join(names));
        std::vector<std::string> activate;
        for (const auto& kv : input) {
            if (!kv.value().is_bool())
                co_return answer("error", "Invalid arguments: the argument '" +
                                              std::string(kv.key()) +
                                              "' should be a bool value, but got " +
                                              python_type(kv.value()) + ".");
            if (kv.value().get_bool()) activate.emplace_back(kv.key());
        }
        domain::set_activated_groups(ctx.state, activate);  // the input is the whole new state
        std::vector<const agent::ToolGroup*> active;
        for (const auto& g : groups_)
            if (std::find(activate.begin(), activate.end(), g.name) != activate.end())
                active.push_back(&g);
        co_return answer("success", reset_tools_response(active));
    }

private:
    std::vector<agent::ToolGroup> groups_;
    model::ToolSchema schema_;
};

}  // namespace

std::string reset_tools_response(const std::vector<const agent::ToolGroup*>& groups) {
    if (groups.empty()) return "All tool groups are currently deactivated.";
    std::vector<std::string> names;
    for (const auto* g : groups) names.push_back(g->name);
    std::string out = "The currently activated tool group(s): " + join(names) + ".";
    // The block appears when an active group has instructions at all; a group's
    // element only when they are non-empty (the reference template's two tests).
    const bool any = std::any_of(groups.begin(), groups.end(),
                                 [](const auto* g) { return g->instructions.has_value(); });
    if (!any) return out;
    out +=
        "\n<tool-instructions>\nThe tool instructions are a collection of suggestions, rules and "
        "notifications "
        "about how to use the tools in the activated groups.\n";
    for (const auto* g : groups)
        if (g->instructions && !g->instructions->empty())
            out += "<group name=\"" + g->name + "\">" + *g->instructions + "</group>";
    out += "\n</tool-instructions>";
    return out;
}

std::shared_ptr<agent::Tool> make_reset_tools(std::vector<agent::ToolGroup> groups) {
    return std::make_shared<ResetTools>(std::move(groups));
}

}  // namespace agentd::tool
