// permission_context codecs and the evaluation order of spec/runtime.md §7.2.
#include "permission/permission.hpp"

#include <algorithm>
#include <array>

#include "permission/shell_parser.hpp"

namespace agentd::permission {

namespace {

constexpr std::array<std::string_view, 5> kModeNames = {"default", "accept_edits", "explore",
                                                        "bypass", "dont_ask"};
constexpr std::array<std::string_view, 4> kBehaviorNames = {"allow", "deny", "ask", "passthrough"};

std::string_view rules_key(Behavior b) {
    switch (b) {
        case Behavior::kAllow:
            return "allow_rules";
        case Behavior::kDeny:
            return "deny_rules";
        case Behavior::kAsk:
            return "ask_rules";
        case Behavior::kPassthrough:
            break;
    }
    return {};
}

/// Reads one {tool: [rule…]} map; a rule's list decides its behaviour, and
/// a rule without a usable tool name takes the map key.
std::map<std::string, std::vector<Rule>> read_rules(const bj::object& ctx, std::string_view key,
                                                    Behavior behavior) {
    std::map<std::string, std::vector<Rule>> out;
    const auto* map = ctx.if_contains(key);
    if (!map || !map->is_object()) return out;
    for (const auto& [tool, list] : map->get_object()) {
        if (!list.is_array()) continue;
        auto& rules = out[std::string(tool)];
        for (const auto& item : list.get_array()) {
            if (!item.is_object()) continue;
            const auto& o = item.get_object();
            Rule r;
            r.tool_name = std::string(tool);
            r.behavior = behavior;
            if (const auto* c = o.if_contains("rule_content"); c && c->is_string()) {
                r.rule_content = std::string(c->get_string());
            }
            if (const auto* s = o.if_contains("source"); s && s->is_string()) {
                r.source = std::string(s->get_string());
            }
            rules.push_back(std::move(r));
        }
    }
    return out;
}

/// How a rule's content is held against a compound Bash command. The reference
/// matches the whole command string, so an allow rule `git:*` also allowed
/// `git status; curl … | sh`, and a deny rule `rm:*` missed `ls && rm -r x`.
/// Agentd splits compound commands: an allow rule must match every
/// subcommand, a deny or ask rule any of them (or the whole string).
enum class CompoundMatch { kEvery, kAny };

std::vector<std::string> bash_subcommands(const bj::object& input) {
    const auto it = input.find("command");
    if (it == input.end() || !it->value().is_string()) return {};
    auto parsed = parse_shell(std::string_view(it->value().get_string()));
    std::vector<std::string> out;
    if (!parsed.ok()) return out;
    for (const auto& c : parsed.script->commands) out.push_back(c.text);
    return out;
}

bool rule_matches(const PermissionSubject& tool, const Rule& rule, const bj::object& input, CompoundMatch how) {
    if (!rule.rule_content || rule.rule_content->empty()) return true;
    const std::string& content = *rule.rule_content;
    const bool whole = tool.match_rule(content, input);
    if (tool.subject_name() != "Bash") return whole;
    const auto parts = bash_subcommands(input);
    if (parts.size() <= 1) return whole;
    auto part_matches = [&](const std::string& part) {
        return tool.match_rule(content, bj::object{{"command", part}});
    };
    if (how == CompoundMatch::kEvery) return std::all_of(parts.begin(), parts.end(), part_matches);
    return whole || std::any_of(parts.begin(), parts.end(), part_matches);
}

const Rule* first_match(const std::map<std::string, std::vector<Rule>>& rules,
                        const PermissionSubject& tool, const bj::object& input, CompoundMatch how) {
    const auto it = rules.find(tool.subject_name());
    if (it == rules.end()) return nullptr;
    for (const auto& rule : it->second)
        if (rule_matches(tool, rule, input, how)) return &rule;
    return nullptr;
}

std::string rule_reason(const Rule& rule) {
    return "Rule: " + (rule.rule_content ? *rule.rule_content : std::string("None"));
}

/// dont_ask never asks: the ask becomes a denial that keeps its reason and
/// suggestions so an operator can see which rule would unblock it.
Decision ask_to_deny(const PermissionSubject& tool, const Decision& ask) {
    Decision d = Decision::deny("Permission denied for " + tool.subject_name() +
                                " (dont_ask mode - ASK converted to DENY, user not available)");
    d.reason = "DONT_ASK mode converted ASK to DENY. Original reason: " +
               ask.reason.value_or(ask.message);
    d.suggested_rules = ask.suggested_rules;
    return d;
}

}  // namespace

std::optional<Mode> parse_mode(std::string_view text) {
    for (std::size_t i = 0; i < kModeNames.size(); ++i)
        if (kModeNames[i] == text) return static_cast<Mode>(i);
    return std::nullopt;
}

std::string_view to_string(Mode m) { return kModeNames.at(static_cast<std::size_t>(m)); }

std::optional<Behavior> parse_behavior(std::string_view text) {
    for (std::size_t i = 0; i < kBehaviorNames.size(); ++i)
        if (kBehaviorNames[i] == text) return static_cast<Behavior>(i);
    return std::nullopt;
}

std::string_view to_string(Behavior b) { return kBehaviorNames.at(static_cast<std::size_t>(b)); }

bj::object Rule::to_json() const {
    bj::object o;
    o["tool_name"] = tool_name;
    if (rule_content) {
        o["rule_content"] = *rule_content;
    } else {
        o["rule_content"] = nullptr;
    }
    o["behavior"] = to_string(behavior);
    o["source"] = source;
    return o;
}

std::optional<Rule> Rule::from_json(const bj::value& v) {
    if (!v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    const auto* name = o.if_contains("tool_name");
    const auto* behavior = o.if_contains("behavior");
    if (!name || !name->is_string() || name->get_string().empty()) return std::nullopt;
    if (!behavior || !behavior->is_string()) return std::nullopt;
    const auto b = parse_behavior(behavior->get_string());
    if (!b || *b == Behavior::kPassthrough) return std::nullopt;
    Rule r;
    r.tool_name = std::string(name->get_string());
    r.behavior = *b;
    if (const auto* c = o.if_contains("rule_content"); c && c->is_string()) {
        r.rule_content = std::string(c->get_string());
    } else if (c && !c->is_null()) {
        return std::nullopt;
    }
    if (const auto* s = o.if_contains("source"); s && s->is_string()) {
        r.source = std::string(s->get_string());
    }
    return r;
}

Context Context::from_json(const bj::object& permission_context) {
    Context ctx;
    if (const auto* m = permission_context.if_contains("mode"); m && m->is_string()) {
        ctx.mode = parse_mode(m->get_string()).value_or(Mode::kDefault);
    }
    if (const auto* wd = permission_context.if_contains("working_directories");
        wd && wd->is_object()) {
        for (const auto& [path, entry] : wd->get_object()) {
            if (!path.empty()) ctx.working_directories.emplace_back(path);
        }
    }
    ctx.allow_rules = read_rules(permission_context, "allow_rules", Behavior::kAllow);
    ctx.deny_rules = read_rules(permission_context, "deny_rules", Behavior::kDeny);
    ctx.ask_rules = read_rules(permission_context, "ask_rules", Behavior::kAsk);
    return ctx;
}

void add_rule(bj::object& permission_context, const Rule& rule) {
    const std::string_view key = rules_key(rule.behavior);
    if (key.empty()) return;
    bj::value& map = permission_context[key];
    if (!map.is_object()) map = bj::object{};
    bj::value& list = map.get_object()[rule.tool_name];
    if (!list.is_array()) list = bj::array{};
    list.get_array().emplace_back(rule.to_json());
}

void add_working_directory(bj::object& permission_context, const std::string& path,
                           std::string_view source) {
    bj::value& map = permission_context["working_directories"];
    if (!map.is_object()) map = bj::object{};
    auto& dirs = map.get_object();
    if (const auto* existing = dirs.if_contains(path); existing && existing->is_object()) return;
    dirs[path] = bj::object{{"path", path}, {"source", source}};
}

Decision evaluate(const PermissionSubject& tool, const bj::object& input, const Context& ctx) {
    const std::string& name = tool.subject_name();

    // 1. Deny rules beat everything.
    if (const Rule* r = first_match(ctx.deny_rules, tool, input, CompoundMatch::kAny)) {
        Decision d = Decision::deny("Permission to use " + name + " has been denied");
        d.reason = rule_reason(*r);
        return d;
    }

    // 2. Ask rules beat read-only status and allow rules.
    if (const Rule* r = first_match(ctx.ask_rules, tool, input, CompoundMatch::kAny)) {
        Decision d = Decision::ask("Permission required for " + name);
        d.reason = rule_reason(*r);
        d.suggested_rules = tool.suggestions(input);
        return ctx.mode == Mode::kDontAsk ? ask_to_deny(tool, d) : d;
    }

    // 3. Read-only fast path, every mode.
    if (tool.check_read_only(input)) {
        Decision d = Decision::allow("Permission granted for " + name + " (read-only invocation)");
        d.reason = "Read-only operations are auto-allowed";
        return d;
    }

    // explore: the tool's opinion and allow rules cannot widen a read-only mode.
    if (ctx.mode == Mode::kExplore) {
        Decision d =
            Decision::deny("Permission denied for " + name + " (explore mode is read-only)");
        d.reason = "Explore mode does not allow modifications";
        return d;
    }

    // 4. The tool's own opinion.
    Decision own = tool.check_permissions(input, ctx);
    if (own.behavior == Behavior::kAllow || own.behavior == Behavior::kDeny) return own;
    const bool safety_ask = own.behavior == Behavior::kAsk && own.bypass_immune;
    if (safety_ask && ctx.mode != Mode::kBypass) {
        own.suggested_rules = tool.suggestions(input);
        return ctx.mode == Mode::kDontAsk ? ask_to_deny(tool, own) : own;
    }

    // 5. Allow rules.
    if (first_match(ctx.allow_rules, tool, input, CompoundMatch::kEvery)) {
        return Decision::allow("Permission granted for " + name);
    }

    // 6. The mode's fallback.
    switch (ctx.mode) {
        case Mode::kBypass: {
            Decision d = Decision::allow("Permission granted for " + name + " (bypass mode)");
            d.reason = "Bypass mode allows all operations";
            return d;
        }
        case Mode::kDontAsk: {
            Decision d = Decision::deny("Permission denied for " + name +
                                        " (dont_ask mode - user not available)");
            d.reason = "User is not available to answer permission prompts";
            return d;
        }
        default: {
            Decision d = Decision::ask("Permission required for " + name);
            d.reason = "Mode: " + std::string(to_string(ctx.mode));
            d.suggested_rules = tool.suggestions(input);
            return d;
        }
    }
}

}  // namespace agentd::permission
