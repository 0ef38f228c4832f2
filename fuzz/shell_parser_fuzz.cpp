// libFuzzer target: the Bash parser and every Bash permission check must
// terminate without crashing or tripping a sanitizer on any input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "permission/bash_analysis.hpp"
#include "permission/shell_parser.hpp"
#include "permission/tool_rules.hpp"

using namespace agentd::permission;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)parse_shell(input);
    static const PathEnvironment env{"/work/proj", "/home/u"};
    Context ctx;
    ctx.mode = Mode::kAcceptEdits;
    ctx.working_directories = {"/work/proj"};
    (void)bash_check_permissions(input, ctx, env);
    (void)bash_read_only(input);
    (void)bash_suggestions(input);
    // Split the input into a rule and a command so rule matching sees both roles.
    const auto cut = input.find('\n');
    if (cut != std::string_view::npos) {
        (void)bash_rule_matches(input.substr(0, cut), input.substr(cut + 1));
        (void)path_glob_matches(input.substr(0, cut), input.substr(cut + 1));
    }
    return 0;
}
