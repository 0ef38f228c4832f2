#include "model/retry_policy.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <memory>
#include <string>

namespace agentd::model {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        double unit_random) {
    double cap = static_cast<double>(policy.max_delay.count());
    double ceiling = std::min(
        cap, static_cast<double>(policy.base_delay.count()) * std::pow(2.0, std::max(0, attempt)));
    unit_random = std::clamp(unit_random, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(ceiling * (0.5 + 0.5 * unit_random)));
}

namespace {
std::optional<double> parse_number(const std::string& s) {
    std::string trimmed;
    for (char c : s)
        if (!std::isspace(static_cast<unsigned char>(c))) trimmed.push_back(c);
    if (trimmed.empty()) return std::nullopt;
    double v = 0;
    auto [ptr, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), v);
    if (ec != std::errc() || ptr != trimmed.data() + trimmed.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}
}  // namespace

std::optional<std::chrono::milliseconds> retry_after(const net::HttpResponseHead& head,
                                                     std::chrono::milliseconds max) {
    std::optional<double> ms;
    if (const auto* v = head.header("retry-after-ms")) ms = parse_number(*v);
    if (!ms)
        if (const auto* v = head.header("retry-after"))
            if (auto s = parse_number(*v)) ms = *s * 1000.0;
    if (!ms || *ms <= 0 || *ms > static_cast<double>(max.count())) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(*ms)));
}

std::optional<bool> should_retry_header(const net::HttpResponseHead& head) {
    const auto* v = head.header("x-should-retry");
    if (!v) return std::nullopt;
    if (*v == "true") return true;
    if (*v == "false") return false;
    return std::nullopt;
}

Sleeper timer_sleeper() {
    return [](std::chrono::milliseconds delay,
              CancellationPtr cancel) -> boost::asio::awaitable<void> {
        auto executor = co_await boost::asio::this_coro::executor;
        auto timer = std::make_shared<boost::asio::steady_timer>(executor, delay);
        // The cancel callback runs on whichever thread requested it: hop to the timer's executor.
        auto registration = Cancellation::on_cancel(cancel, [timer, executor] {
            boost::asio::post(executor, [timer] { timer->cancel(); });
        });
        boost::system::error_code ec;
        co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    };
}

}  // namespace agentd::model
