#pragma once
// Runs blocking work on another executor (the blocking pool) from a coroutine
// and resumes on the caller's executor.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace agentd {

namespace detail {
// A plain coroutine function, not a capturing coroutine lambda: GCC 12 may
// destroy a coroutine lambda's init-captures twice.
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> invoke_as_coroutine(F* fn) {
    co_return (*fn)();
}
}  // namespace detail

/// Calls `fn` on `executor`; `fn` must outlive the await (pass a named local).
template <typename Executor, typename F>
boost::asio::awaitable<std::invoke_result_t<F>> run_on(Executor&& executor, F& fn) {
    co_return co_await boost::asio::co_spawn(std::forward<Executor>(executor), detail::invoke_as_coroutine(&fn),
                                             boost::asio::use_awaitable);
}

}  // namespace agentd
