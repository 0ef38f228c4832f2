#pragma once
// Shared helpers of the workspace tests (not part of the library).
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <string>

#include "workspace/workspace.hpp"

namespace agentd::workspace::testing {

/// A fresh directory under /tmp, removed with the object.
class TempDir {
public:
    TempDir() {
        std::string pattern = "/tmp/agentd-wstest-XXXXXX";
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// Runs one exec to completion on a private loop.
inline ExecResult exec_sync(Workspace& ws, ExecRequest request) {
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, ws.exec(std::move(request)), boost::asio::use_future);
    io.run();
    return future.get();
}

inline ExecResult sh(Workspace& ws, std::string command, std::optional<std::string> cwd = std::nullopt) {
    ExecRequest request;
    request.argv = {"/bin/sh", "-c", std::move(command)};
    request.cwd = std::move(cwd);
    request.timeout = std::chrono::seconds(20);
    return exec_sync(ws, std::move(request));
}

}  // namespace agentd::workspace::testing
