#include "workspace/local/local_workspace.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "workspace/process_runner.hpp"

namespace agentd::workspace {

namespace {

fs::path canonical_dir(const fs::path& dir) {
    return fs::canonical(fs::absolute(dir));  // throws when it does not exist
}

}  // namespace

LocalWorkspace::LocalWorkspace(std::string id, const fs::path& host_dir)
    : Workspace(std::move(id), canonical_dir(host_dir).string(), canonical_dir(host_dir)) {}

boost::asio::awaitable<ExecResult> LocalWorkspace::exec(ExecRequest request) {
    ProcessSpec spec = process_spec_for(request);
    spec.cwd = host_dir();
    if (request.cwd) {
        auto resolved = resolve(*request.cwd, /*allow_relative=*/true);
        if (!resolved) {
            ExecResult refused;
            refused.exit_code = 127;
            refused.stderr_bytes = resolved.error->message;
            co_return refused;
        }
        spec.cwd = *resolved.host;
    }
    spec.argv = std::move(request.argv);
    spec.env = server_environment(request.env);
    auto running = run_process(std::move(spec));
    ExecResult result = co_await std::move(running);
    co_return result;
}

std::string LocalWorkspace::home() const {
    if (const char* from_env = std::getenv("HOME"); from_env && *from_env) return from_env;
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_dir &&
        *found->pw_dir)
        return found->pw_dir;
    return workdir();
}

}  // namespace agentd::workspace
