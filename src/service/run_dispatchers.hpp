#pragma once
// The two per-process listeners of spec/runtime.md §10.2-10.3:
//
// * the wake-up dispatcher drains the shared trigger queue whenever it is
//   nudged (and once at start, for triggers queued while no process listened)
//   and starts the runs the triggers ask for, retrying every 0.1 s while the
//   session is busy;
// * the cancel dispatcher carries out, in this process, cancellations any
//   process broadcasts: a deleted session's run and background tasks, an
//   interrupted run, one background task.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bus/message_bus.hpp"
#include "service/background_tasks.hpp"
#include "service/bus_keys.hpp"
#include "service/chat_service.hpp"
#include "storage/storage.hpp"

namespace agentd::service {

/// Pause between two attempts of a trigger whose session is busy.
inline constexpr std::chrono::milliseconds kTriggerRetry{100};
/// Triggers one drain takes at most.
inline constexpr std::size_t kTriggerBatch = 64;

class RunDispatchers {
public:
    RunDispatchers(bus::MessageBus& bus, storage::Storage& storage, ChatService& chat, BackgroundTasks& tasks,
                   boost::asio::any_io_executor io, boost::asio::any_io_executor blocking);
    ~RunDispatchers();

    /// Subscribes (before returning, so nothing broadcast afterwards is missed),
    /// then drains the trigger queue once.
    void start();
    /// Ends the subscriptions; pending retries are dropped with the bus.
    void stop();
    /// Every listener ended (after stop()).
    bool idle() const { return active_.load() == 0; }

    enum class Dispatch { kDone, kRetry };
    /// Carries out one trigger (blocking). Public for tests.
    Dispatch dispatch(const std::string& raw);

private:
    using Strand = boost::asio::strand<boost::asio::any_io_executor>;
    /// Listens on channels_[slot] until stop(): drains the trigger queue on
    /// nudges, or carries out cancel signals.
    boost::asio::awaitable<void> listen(std::size_t slot);
    boost::asio::awaitable<void> drain();
    boost::asio::awaitable<void> retry_later(std::string raw);
    void on_cancel_signal(const std::string& channel, const std::string& payload);

    bus::MessageBus& bus_;
    storage::Storage& storage_;
    ChatService& chat_;
    BackgroundTasks& tasks_;
    Strand strand_;
    boost::asio::any_io_executor blocking_;
    std::vector<std::string> channels_;
    std::vector<std::unique_ptr<bus::Subscription>> subs_;  ///< one per channel; touched on strand_ once started
    std::atomic<bool> stopping_{false};
    std::atomic<int> active_{0};
};

}  // namespace agentd::service
