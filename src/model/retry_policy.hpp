#pragma once
// When and how long to wait before re-sending a failed model request: capped
// exponential backoff with "equal" jitter, overridden by a provider's Retry-After.
// The sleeper is injectable so tests never wait.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "common/cancellation.hpp"
#include "net/http_client.hpp"

namespace agentd::model {

struct RetryPolicy {
    /// Extra attempts after the first. The reference retries in two layers (the
    /// provider SDK's 2 retries inside 4 attempts of its own, 1 s apart): up to 12
    /// sends over about 10 s. Five retries spaced by the backoff below cover a
    /// similar stretch of a provider's overload (11.5-23 s) with fewer requests.
    int max_retries = 5;
    std::chrono::milliseconds base_delay{1000};
    std::chrono::milliseconds max_delay{8000};
    /// A Retry-After longer than this is ignored (the backoff applies instead).
    std::chrono::milliseconds max_retry_after{60000};
};

/// The wait before retry `attempt` (0 = the first retry): uniform in [c/2, c]
/// with c = min(base · 2^attempt, max) — jittered, so that sessions failing
/// together do not retry together, but never next to nothing, so that an
/// overloaded provider gets its pause. `unit_random` is in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double unit_random);

/// `retry-after-ms` or `retry-after` (delta-seconds) of a response, when
/// 0 < value ≤ `max`. HTTP-date values are not honoured.
std::optional<std::chrono::milliseconds> retry_after(const net::HttpResponseHead& head,
                                                     std::chrono::milliseconds max);

/// The provider's explicit `x-should-retry: true|false`, when present.
std::optional<bool> should_retry_header(const net::HttpResponseHead& head);

/// Waits `delay`, returning early when `cancel` fires (the caller checks it).
using Sleeper = std::function<boost::asio::awaitable<void>(std::chrono::milliseconds delay,
                                                           CancellationPtr cancel)>;

/// A steady_timer on the awaiting coroutine's executor.
Sleeper timer_sleeper();

}  // namespace agentd::model
