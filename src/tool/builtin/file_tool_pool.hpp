#pragma once
// Where the file tools do their blocking work (stat, read, write, directory
// walks): a small process-wide thread pool, so that no filesystem call runs on
// an io thread. The tools are built per toolkit with only a workspace, so they
// cannot borrow the HTTP server's pool.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace agentd::tool {

/// The pool (created on first use, never destroyed).
boost::asio::thread_pool& file_tool_pool();

namespace detail {
// A plain coroutine function, not a capturing coroutine lambda (GCC 12 may
// destroy a coroutine lambda's captures twice).
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> invoke_on_pool(F* fn) {
    co_return (*fn)();
}
}  // namespace detail

/// Runs `fn()` on the file-tool pool and resumes the caller on its own executor
/// with the result (exceptions propagate). `fn` must outlive the call.
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> on_file_tool_pool(F& fn) {
    auto task = detail::invoke_on_pool(&fn);
    co_return co_await boost::asio::co_spawn(file_tool_pool(), std::move(task), boost::asio::use_awaitable);
}

}  // namespace agentd::tool
