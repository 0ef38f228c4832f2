#pragma once
// The permission engine's vocabulary (spec/runtime.md §7.1) and its entry point.
//
// The engine is pure: it sees a tool only through PermissionSubject, and a
// session's permission_context only through Context, so every decision is
// testable from a table without a run, a workspace or a socket.
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::permission {

namespace bj = boost::json;

enum class Mode { kDefault, kAcceptEdits, kExplore, kBypass, kDontAsk };
enum class Behavior { kAllow, kDeny, kAsk, kPassthrough };

std::optional<Mode> parse_mode(std::string_view text);
std::string_view to_string(Mode m);
std::optional<Behavior> parse_behavior(std::string_view text);
std::string_view to_string(Behavior b);

/// PermissionRule JSON: {tool_name, rule_content: str|null, behavior, source}.
struct Rule {
    std::string tool_name;
    std::optional<std::string> rule_content;  ///< null or "" matches every input
    Behavior behavior = Behavior::kAllow;
    std::string source = "suggested";

    bj::object to_json() const;
    /// Lenient reader for rules a client sends back; nullopt when unusable.
    static std::optional<Rule> from_json(const bj::value& v);
};

/// The parsed view of a session's permission_context JSON.
struct Context {
    Mode mode = Mode::kDefault;
    std::vector<std::string> working_directories;  ///< absolute paths (keys of the JSON map)
    std::map<std::string, std::vector<Rule>> allow_rules;
    std::map<std::string, std::vector<Rule>> deny_rules;
    std::map<std::string, std::vector<Rule>> ask_rules;

    static Context from_json(const bj::object& permission_context);
};

/// Appends `rule` to its behaviour's list in the persisted permission_context JSON.
void add_rule(bj::object& permission_context, const Rule& rule);
/// Adds `path` to working_directories (idempotent) with the given source.
void add_working_directory(bj::object& permission_context, const std::string& path, std::string_view source);

struct Decision {
    Behavior behavior = Behavior::kPassthrough;
    std::string message;
    std::optional<std::string> reason;
    std::vector<Rule> suggested_rules;
    bool bypass_immune = false;  ///< a "safety ask": not silenced by allow rules or bypass

    static Decision allow(std::string message = {}) { return make(Behavior::kAllow, std::move(message)); }
    static Decision deny(std::string message) { return make(Behavior::kDeny, std::move(message)); }
    static Decision ask(std::string message = {}) { return make(Behavior::kAsk, std::move(message)); }
    static Decision safety_ask(std::string message) {
        Decision d = make(Behavior::kAsk, std::move(message));
        d.bypass_immune = true;
        return d;
    }
    static Decision passthrough() { return {}; }

private:
    static Decision make(Behavior b, std::string message) {
        Decision d;
        d.behavior = b;
        d.message = std::move(message);
        return d;
    }
};

/// What the engine needs to know about a tool.
class PermissionSubject {
public:
    virtual ~PermissionSubject() = default;
    virtual const std::string& subject_name() const = 0;
    /// Static read-only flag, or per input (Bash).
    virtual bool check_read_only(const bj::object& input) const = 0;
    /// The tool's own opinion (step 4). Default for unknown tools: a plain ask.
    virtual Decision check_permissions(const bj::object& input, const Context& ctx) const = 0;
    /// Whether a non-empty rule content matches this input.
    virtual bool match_rule(const std::string& rule_content, const bj::object& input) const = 0;
    /// Rules offered to the user with an ask.
    virtual std::vector<Rule> suggestions(const bj::object& input) const = 0;
};

/// Evaluates a call in the order of spec/runtime.md §7.2. Never returns passthrough.
Decision evaluate(const PermissionSubject& tool, const bj::object& input, const Context& ctx);

}  // namespace agentd::permission
