#include "storage/sqlite/group_commit.hpp"

namespace agentd::storage::sqlite {

void GroupCommit::run(const std::function<void(Connection&)>& work) {
    Caller me{&work, nullptr, false};
    std::unique_lock lock(mutex_);
    queue_.push_back(&me);
    while (!me.done) {
        if (leading_) {
            finished_.wait(lock);
            continue;
        }
        // No group is committing: this caller commits everyone queued, itself included.
        leading_ = true;
        std::vector<Caller*> group;
        group.swap(queue_);
        ++groups_;
        lock.unlock();
        commit(group);
        lock.lock();
        for (auto* caller : group) caller->done = true;
        leading_ = false;
        finished_.notify_all();
    }
    lock.unlock();
    if (me.error) std::rethrow_exception(me.error);
}

void GroupCommit::commit(const std::vector<Caller*>& group) {
    try {
        auto c = pool_.acquire();
        Transaction tx(*c);
        for (auto* caller : group) {
            c->prepare("SAVEPOINT step").exec();
            try {
                (*caller->work)(*c);
            } catch (...) {
                caller->error = std::current_exception();
                c->prepare("ROLLBACK TO step").exec();
            }
            c->prepare("RELEASE step").exec();
        }
        tx.commit();
    } catch (...) {
        // BEGIN, a savepoint statement or COMMIT failed: nothing of the group
        // is stored (the transaction rolls back), so every caller hears of it.
        const auto error = std::current_exception();
        for (auto* caller : group)
            if (!caller->error) caller->error = error;
    }
}

std::size_t GroupCommit::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::uint64_t GroupCommit::groups() const {
    std::lock_guard lock(mutex_);
    return groups_;
}

}  // namespace agentd::storage::sqlite
