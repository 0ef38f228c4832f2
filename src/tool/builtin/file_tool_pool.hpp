#pragma once
// Where the file tools do their blocking work (stat, read, write, directory
// walks): a small process-wide thread pool, so that no filesystem call runs on
// an io thread. The tools are built per toolkit with only a workspace, so they
// cannot borrow the HTTP server's pool.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <type_traits>

#include "common/run_on.hpp"

namespace agentd::tool {

/// The pool (created on first use, never destroyed).
boost::asio::thread_pool& file_tool_pool();

/// Runs `fn()` on the file-tool pool and resumes the caller on its own executor
/// with the result (exceptions propagate). `fn` must outlive the call.
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> on_file_tool_pool(F& fn) {
    co_return co_await run_on(file_tool_pool(), fn);
}

}  // namespace agentd::tool
