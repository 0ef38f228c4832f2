#include "agent/toolkit.hpp"

#include <algorithm>
#include <stdexcept>

#include "tool/builtin/reset_tools.hpp"

namespace agentd::agent {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

void add_to(ToolGroup& group, std::shared_ptr<Tool> tool) {
    for (auto& t : group.tools) {
        if (t->schema().name == tool->schema().name) {
            t = std::move(tool);
            return;
        }
    }
    group.tools.push_back(std::move(tool));
}

}  // namespace

Toolkit::Toolkit() { groups_.push_back(ToolGroup{std::string(kBasicGroup), "", std::nullopt, {}}); }

void Toolkit::add(std::shared_ptr<Tool> tool) { add_to(groups_.front(), std::move(tool)); }

void Toolkit::add(std::shared_ptr<Tool> tool, std::string_view group) {
    ToolGroup* g = group_named(group);
    if (!g) {
        std::string known;
        for (const auto& x : groups_) known += (known.empty() ? "'" : ", '") + x.name + "'";
        throw std::invalid_argument("Cannot find group '" + std::string(group) +
                                    "' in the toolkit; the groups are " + known + ".");
    }
    add_to(*g, std::move(tool));
}

void Toolkit::add_group(ToolGroup group) {
    if (group.name == kBasicGroup)
        throw std::invalid_argument(
            "The tool group name 'basic' is reserved for the always-active group.");
    if (group_named(group.name))
        throw std::invalid_argument("A tool group named '" + group.name +
                                    "' is already registered.");
    if (group.description.empty())
        throw std::invalid_argument(
            "The tool group '" + group.name +
            "' needs a description (only the 'basic' group may go without one).");
    groups_.push_back(std::move(group));
    std::vector<ToolGroup> named(groups_.begin() + 1, groups_.end());
    meta_tool_ = tool::make_reset_tools(std::move(named));
}

void Toolkit::remove(std::string_view tool_name) {
    for (auto& g : groups_)
        std::erase_if(g.tools, [&](const auto& t) { return t->schema().name == tool_name; });
}

ToolGroup* Toolkit::group_named(std::string_view name) {
    for (auto& g : groups_)
        if (g.name == name) return &g;
    return nullptr;
}

std::vector<Toolkit::Entry> Toolkit::available(const std::vector<std::string>& activated,
                                               bool all_groups) const {
    std::vector<Entry> out;
    auto put = [&](Tool* tool, const std::string* group) {
        for (auto& e : out) {
            if (e.tool->schema().name == tool->schema().name) {
                e = Entry{tool, group};  // shadows the earlier one, keeps its place
                return;
            }
        }
        out.push_back(Entry{tool, group});
    };
    if (meta_tool_) put(meta_tool_.get(), &groups_.front().name);
    for (const auto& g : groups_) {
        if (!all_groups && g.name != kBasicGroup && !contains(activated, g.name)) continue;
        for (const auto& t : g.tools) put(t.get(), &g.name);
    }
    return out;
}

ToolLookup Toolkit::find(const std::string& name, const std::vector<std::string>& activated) const {
    for (const auto& e : available(activated, false))
        if (e.tool->schema().name == name) return ToolLookup{e.tool, {}};
    for (const auto& e : available({}, true))
        if (e.tool->schema().name == name)
            return ToolLookup{
                nullptr, "ToolGroupInactiveError: The tool '" + name + "' in group '" + *e.group +
                             "' is currently inactive. You should first activate the group by "
                             "calling the '" +
                             std::string(tool::kResetToolsName) + "' tool."};
    return ToolLookup{nullptr, "ToolNotFoundError: The tool named '" + name + "' doesn't exist."};
}

Tool* Toolkit::find_registered(const std::string& name) const {
    for (const auto& e : available({}, true))
        if (e.tool->schema().name == name) return e.tool;
    return nullptr;
}

std::vector<model::ToolSchema> Toolkit::schemas(const std::vector<std::string>& activated) const {
    std::vector<model::ToolSchema> out;
    const auto entries = available(activated, false);
    out.reserve(entries.size());
    for (const auto& e : entries) out.push_back(e.tool->schema());
    return out;
}

bool Toolkit::empty() const {
    return std::all_of(groups_.begin(), groups_.end(),
                       [](const ToolGroup& g) { return g.tools.empty(); });
}

std::shared_ptr<Tool> Toolkit::shared(const Tool* tool) const {
    if (meta_tool_.get() == tool) return meta_tool_;
    for (const auto& g : groups_)
        for (const auto& t : g.tools)
            if (t.get() == tool) return t;
    return nullptr;
}

}  // namespace agentd::agent
