#include "tool/builtin/bash_tool.hpp"

#include <cmath>

#include "permission/tool_rules.hpp"

namespace agentd::tool {

namespace {

constexpr std::string_view kInterruptedText =
    "<system-reminder>The tool call has been interrupted by the user.</system-reminder>";
constexpr std::string_view kTruncationMarker = "\n... (output truncated)";

constexpr std::string_view kDescription =
    R"(Runs a shell command (/bin/sh -c) in the workspace directory and returns what it printed.

Every call starts a new shell in the workspace directory: the current directory, variables and aliases are not kept from one call to the next, and no profile is loaded. Refer to files by absolute paths or paths relative to the workspace directory rather than relying on `cd`.

Prefer the dedicated tools to shell equivalents; their calls are easier for the user to review and approve:
 - finding files by name: Glob (not find or ls)
 - searching file contents: Grep (not grep or rg)
 - reading files: Read (not cat, head or tail)
 - changing files: Edit (not sed or awk)
 - creating files: Write (not echo or heredocs)
 - talking to the user: answer directly (not echo or printf)

Guidelines:
 - Before creating files or directories, check that the parent directory exists and is the intended place.
 - Put double quotes around paths that contain spaces.
 - `timeout` is in milliseconds: 120000 (2 minutes) by default, at most 600000 (10 minutes). A command that runs longer is stopped together with everything it started, and its output is lost.
 - Processes left running in the background are stopped when the command finishes.
 - Give a short `description` of what the command does: 5-10 words for a simple command, more context for pipelines or unusual flags.
 - Independent commands can be sent as several Bash calls in one message; commands that depend on each other belong in one call joined with `&&` (or `;` when an earlier failure does not matter). Do not separate commands with newlines.
 - Git: make new commits rather than amending; think twice before destructive operations (reset --hard, push --force, checkout --); never skip hooks or signing unless the user asked for it.
 - Avoid needless `sleep`: do not poll in a sleep loop, and keep unavoidable waits to a few seconds.
 - Output beyond 30000 characters is cut off.)";

bj::object make_parameters() {
    bj::object command{{"type", "string"}, {"description", "The shell command to run."}};
    bj::object description{
        {"type", "string"},
        {"description",
         "What the command does, in a few words (5-10 for simple commands; more context for complex ones)."}};
    bj::object timeout{{"type", "integer"},
                       {"description", "Timeout in milliseconds (default 120000, at most 600000)."},
                       {"default", BashTool::kDefaultTimeoutMs},
                       {"maximum", BashTool::kMaxTimeoutMs},
                       {"minimum", 0}};
    return bj::object{{"type", "object"},
                      {"properties", bj::object{{"command", std::move(command)},
                                                {"description", std::move(description)},
                                                {"timeout", std::move(timeout)}}},
                      {"required", bj::array{"command"}}};
}

std::string_view command_of(const bj::object& input) {
    auto it = input.find("command");
    if (it == input.end() || !it->value().is_string()) return {};
    return it->value().get_string();
}

using Emit = std::function<void(const agent::ToolChunk&)>;

/// Streams `text` (even an empty one: the result is then one empty text block)
/// and makes it the result.
agent::ToolOutcome reply(const Emit& emit, std::string state, std::string text) {
    emit(agent::ToolChunk{text, std::nullopt});
    return agent::ToolOutcome{std::move(state), bj::value(std::move(text)), {}};
}

std::string validation_error(std::string_view detail) {
    return "Input validation failed for tool 'Bash': " + std::string(detail);
}

/// The timeout in ms, or an error text when the value is not an integer in range.
std::optional<std::string> read_timeout(const bj::object& input, std::int64_t& timeout_ms) {
    timeout_ms = BashTool::kDefaultTimeoutMs;
    auto it = input.find("timeout");
    if (it == input.end()) return std::nullopt;
    const bj::value& v = it->value();
    if (v.is_int64()) {
        timeout_ms = v.get_int64();
    } else if (v.is_uint64()) {
        timeout_ms = std::numeric_limits<std::int64_t>::max();
    } else if (v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double() &&
               std::fabs(v.get_double()) < 9e18) {
        timeout_ms = static_cast<std::int64_t>(v.get_double());  // JSON Schema counts 5.0 as an integer
    } else {
        return validation_error(bj::serialize(v) + " is not of type 'integer'");
    }
    if (timeout_ms < 0) return validation_error(std::to_string(timeout_ms) + " is less than the minimum of 0");
    if (timeout_ms > BashTool::kMaxTimeoutMs)
        return validation_error(std::to_string(timeout_ms) + " is greater than the maximum of 600000");
    return std::nullopt;
}

/// Length of a well-formed UTF-8 sequence starting at `s[i]`, or 0 with
/// `consumed` set to the maximal invalid subpart (at least 1).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& consumed) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return 1;
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b == 0xE0) {
        need = 2, lo = 0xA0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        need = 2;
    } else if (b == 0xED) {
        need = 2, hi = 0x9F;
    } else if (b == 0xF0) {
        need = 3, lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
        need = 3;
    } else if (b == 0xF4) {
        need = 3, hi = 0x8F;
    } else {
        consumed = 1;
        return 0;
    }
    std::size_t j = i + 1;
    for (std::size_t k = 0; k < need; ++k, ++j) {
        if (j >= s.size()) break;
        const auto c = static_cast<unsigned char>(s[j]);
        if (c < (k == 0 ? lo : 0x80) || c > (k == 0 ? hi : 0xBF)) break;
    }
    if (j - i == need + 1) return need + 1;
    consumed = j - i;
    return 0;
}

}  // namespace

std::string decode_command_output(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::size_t consumed = 0;
        std::size_t len = utf8_sequence(bytes, i, consumed);
        if (len > 0) {
            if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') {
                out.push_back('\n');
                i += 2;
                continue;
            }
            out.append(bytes.substr(i, len));
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");
            i += consumed;
        }
    }
    return out;
}

std::string cap_output(std::string text, std::size_t max_chars) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
        if (chars == max_chars) {
            text.resize(i);
            text.append(kTruncationMarker);
            return text;
        }
        ++chars;
    }
    return text;
}

BashReply bash_reply(std::string_view command, std::int64_t timeout_ms, const workspace::ExecResult& result) {
    if (result.exit_code == -1 && result.stderr_bytes == "timed out") {
        return {"Command timed out after " + std::to_string(timeout_ms) + "ms: " + std::string(command), true};
    }
    const std::string out = decode_command_output(result.stdout_bytes);
    const std::string err = decode_command_output(result.stderr_bytes);
    if (result.exit_code == 0) {
        std::string text = out;
        if (!err.empty()) {
            if (!text.empty()) text.push_back('\n');
            text += err;
        }
        return {cap_output(std::move(text), BashTool::kMaxOutputChars), false};
    }
    std::string text = "Command failed: " + std::string(command) + "\n";
    if (!out.empty()) text += "\nStdout:\n" + out;
    if (!err.empty()) text += "\nStderr:\n" + err;
    return {cap_output(std::move(text), BashTool::kMaxOutputChars), true};
}

BashTool::BashTool(std::shared_ptr<workspace::Workspace> workspace) : workspace_(std::move(workspace)) {}

const model::ToolSchema& BashTool::schema() const {
    static const model::ToolSchema kSchema{"Bash", std::string(kDescription), make_parameters()};
    return kSchema;
}

bool BashTool::check_read_only(const bj::object& input) const {
    std::string_view command = command_of(input);
    if (command.empty()) return false;
    return permission::bash_read_only(command);
}

permission::Decision BashTool::check_permissions(const bj::object& input, const permission::Context& ctx) const {
    permission::PathEnvironment env;
    if (workspace_) env = {workspace_->workdir(), workspace_->home()};
    return permission::bash_check_permissions(command_of(input), ctx, env);
}

bool BashTool::match_rule(const std::string& rule_content, const bj::object& input) const {
    return permission::bash_rule_matches(rule_content, command_of(input));
}

std::vector<permission::Rule> BashTool::suggestions(const bj::object& input) const {
    return permission::bash_suggestions(command_of(input));
}

boost::asio::awaitable<agent::ToolOutcome> BashTool::run(const bj::object& input, agent::ToolContext& ctx,
                                                         const std::function<void(const agent::ToolChunk&)>& emit) {
    for (const auto& field : input) {
        if (field.key() != "command" && field.key() != "description" && field.key() != "timeout") {
            co_return reply(emit, "error", "Bash.call() got an unexpected keyword argument '" + std::string(field.key()) +
                                    "'");
        }
    }
    auto command_it = input.find("command");
    if (command_it == input.end()) co_return reply(emit, "error", validation_error("'command' is a required property"));
    if (!command_it->value().is_string())
        co_return reply(emit, "error", validation_error(bj::serialize(command_it->value()) + " is not of type 'string'"));
    const std::string command(command_it->value().get_string());
    if (auto it = input.find("description"); it != input.end() && !it->value().is_string())
        co_return reply(emit, "error", validation_error(bj::serialize(it->value()) + " is not of type 'string'"));
    std::int64_t timeout_ms = 0;
    if (auto bad = read_timeout(input, timeout_ms)) co_return reply(emit, "error", std::move(*bad));

    workspace::Workspace* ws = workspace_ ? workspace_.get() : ctx.workspace;
    if (!ws) co_return reply(emit, "error", "Command failed: " + command + "\nError: no workspace is attached to this run");

    workspace::ExecRequest request;
    request.argv = {"/bin/sh", "-c", command};
    request.timeout = std::chrono::milliseconds(timeout_ms);
    request.output_limit = kStreamLimit;
    request.cancel = ctx.cancel;

    workspace::ExecResult result;
    std::string failure;
    try {
        auto running = ws->exec(std::move(request));
        result = co_await std::move(running);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (result.interrupted || (ctx.cancel && ctx.cancel->requested()))
        co_return reply(emit, "interrupted", std::string(kInterruptedText));
    if (!failure.empty()) co_return reply(emit, "error", "Command failed: " + command + "\nError: " + failure);

    BashReply answer = bash_reply(command, timeout_ms, result);
    co_return reply(emit, answer.error ? "error" : "success", std::move(answer.text));
}

}  // namespace agentd::tool
