#pragma once
// Runs blocking work on another executor (the blocking pool) from a coroutine
// and resumes on the caller's executor.
//
// Not co_spawn: a coroutine spawned on the pool that finishes without having
// switched threads posts itself to the pool once more before it hands its
// result back (Asio's co_spawn_entry_point), so under load every caller's
// result waited behind all the work queued on the pool meanwhile (a burst of
// 200 `POST /chat/` got all its answers after the last launch), and each call
// took two trips through the pool's queue. Here the work is posted once, and
// its result goes straight to the caller's executor.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace agentd {

namespace detail {

/// Calls fn on `executor` and completes `token` on the token's own executor
/// with (exception, result); a result is optional so it needs no default.
template <typename R>
struct PoolCompletion {
    using signature = void(std::exception_ptr, std::optional<R>);
};
template <>
struct PoolCompletion<void> {
    using signature = void(std::exception_ptr);
};

template <typename Executor, typename F>
auto post_and_return(Executor executor, F* fn) {
    using R = std::invoke_result_t<F>;
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, typename PoolCompletion<R>::signature>(
        [](auto handler, Executor ex, F* f) {
            auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
            boost::asio::post(ex, [handler = std::move(handler), work = std::move(work), f]() mutable {
                std::exception_ptr error;
                if constexpr (std::is_void_v<R>) {
                    try {
                        (*f)();
                    } catch (...) {
                        error = std::current_exception();
                    }
                    auto home = work.get_executor();
                    boost::asio::post(home, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
                } else {
                    std::optional<R> result;
                    try {
                        result.emplace((*f)());
                    } catch (...) {
                        error = std::current_exception();
                    }
                    auto home = work.get_executor();
                    boost::asio::post(home, [handler = std::move(handler), error, result = std::move(result)]() mutable {
                        std::move(handler)(error, std::move(result));
                    });
                }
                work.reset();
            });
        },
        boost::asio::use_awaitable, std::move(executor), fn);
}

}  // namespace detail

/// Calls `fn` on `executor`; `fn` must outlive the await (pass a named local).
/// An exception `fn` throws is rethrown here.
template <typename Target, typename F>
boost::asio::awaitable<std::invoke_result_t<F>> run_on(Target&& target, F& fn) {
    using R = std::invoke_result_t<F>;
    // An execution context (the pool itself) or an executor of one.
    auto ex = [&] {
        if constexpr (requires { target.get_executor(); }) return target.get_executor();
        else return std::decay_t<Target>(target);
    }();
    if constexpr (std::is_void_v<R>) {
        co_await detail::post_and_return(ex, &fn);
    } else {
        std::optional<R> result = co_await detail::post_and_return(ex, &fn);
        co_return std::move(*result);
    }
}

}  // namespace agentd
