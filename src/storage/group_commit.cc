#include "storage/group_commit.h"

#include <string>

#include "base/assert.h"

namespace aspen::storage {

GroupCommit::GroupCommit(Store* store, Options options) : store_(store), options_(options) {
  ASPEN_ASSERT(store_ != nullptr);
  ASPEN_ASSERT(options_.max_group_writers >= 1);
  ASPEN_ASSERT(options_.max_queued_writers >= options_.max_group_writers);
}

std::size_t GroupCommit::BuildGroup(WriteBatch* merged) {
  // Invariant: called by the leader, queue_.front(), with mu_ held.
  std::size_t n = 0;
  for (Writer* w : queue_) {
    if (n == options_.max_group_writers) break;
    // The leader's own batch always goes in, whatever its size.
    if (n > 0 &&
        merged->approximate_bytes() + w->batch->approximate_bytes() > options_.max_group_bytes) {
      break;
    }
    merged->Append(*w->batch);
    ++n;
  }
  ASPEN_ASSERT(n >= 1);
  return n;
}

Status GroupCommit::Write(const WriteBatch& batch) {
  Writer self;
  self.batch = &batch;
  std::unique_lock<std::mutex> lock(mu_);
  if (queue_.size() >= options_.max_queued_writers) {
    return Status::ResourceExhausted("group commit queue is full (" +
                                     std::to_string(options_.max_queued_writers) +
                                     " writers waiting, limit max_queued_writers)");
  }
  queue_.push_back(&self);
  self.cv.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done) return self.status;

  // Leader: take a group, write it with one sync outside the lock.
  WriteBatch merged;
  const std::size_t n = BuildGroup(&merged);
  lock.unlock();
  Status status = store_->Write(merged, /*sync=*/true);
  lock.lock();

  for (std::size_t i = 0; i < n; ++i) {
    Writer* w = queue_.front();
    queue_.pop_front();
    w->status = status;
    w->done = true;
    if (w != &self) w->cv.notify_one();
  }
  if (status.ok()) {
    stats_.writes += n;
    stats_.groups += 1;
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();  // the next leader
  return status;
}

GroupCommit::Stats GroupCommit::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace aspen::storage
