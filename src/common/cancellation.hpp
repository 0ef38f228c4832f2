#pragma once
// A one-shot, thread-safe cancellation signal shared by a run and everything it
// awaits (model streams, tools). Callbacks run once, on the thread that calls
// request(); anything touching an I/O object must post to that object's executor.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace agentd {

class Cancellation {
public:
    bool requested() const { return requested_.load(std::memory_order_acquire); }

    /// Flags the cancellation and runs every registered callback (once).
    void request() {
        std::unordered_map<std::uint64_t, std::function<void()>> callbacks;
        {
            std::lock_guard lock(mutex_);
            if (requested_.exchange(true)) return;
            callbacks.swap(callbacks_);
        }
        for (auto& [id, cb] : callbacks) cb();
    }

    /// Registers `cb`; runs it at once when already cancelled. Keep the returned
    /// Registration alive for as long as the callback may run.
    class Registration {
    public:
        Registration() = default;
        Registration(std::shared_ptr<Cancellation> c, std::uint64_t id) : c_(std::move(c)), id_(id) {}
        Registration(Registration&& o) noexcept : c_(std::move(o.c_)), id_(o.id_) {}
        Registration& operator=(Registration&& o) noexcept {
            reset();
            c_ = std::move(o.c_);
            id_ = o.id_;
            return *this;
        }
        ~Registration() { reset(); }
        void reset() {
            if (c_) c_->unregister(id_);
            c_.reset();
        }

    private:
        std::shared_ptr<Cancellation> c_;
        std::uint64_t id_ = 0;
    };

    static Registration on_cancel(const std::shared_ptr<Cancellation>& self, std::function<void()> cb) {
        if (!self) return {};
        {
            std::lock_guard lock(self->mutex_);
            if (!self->requested_) {
                auto id = ++self->next_id_;
                self->callbacks_.emplace(id, std::move(cb));
                return Registration(self, id);
            }
        }
        cb();
        return {};
    }

private:
    void unregister(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        callbacks_.erase(id);
    }

    std::atomic<bool> requested_{false};
    std::mutex mutex_;  // guards callbacks_ and next_id_
    std::unordered_map<std::uint64_t, std::function<void()>> callbacks_;
    std::uint64_t next_id_ = 0;
};

using CancellationPtr = std::shared_ptr<Cancellation>;

}  // namespace agentd
