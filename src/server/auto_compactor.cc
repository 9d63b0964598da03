#include "server/auto_compactor.h"

#include <chrono>

#include "base/thread_name.h"

namespace aspen::server {

namespace {
// Periodic mode keeps at most this many samples (older ones are dropped).
constexpr std::size_t kMaxSamples = 4096;

std::int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void AutoCompactor::Start() {
  if (settings_.mode == AutoCompaction::Mode::kOff || thread_.joinable()) return;
  thread_ = std::thread([this] {
    SetThreadName("auto-compact");
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(settings_.interval_ms));
      if (stopping_) return;
      lock.unlock();
      Check(SteadyMs());
      lock.lock();
    }
  });
}

void AutoCompactor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::int64_t AutoCompactor::Check(std::int64_t now_ms) {
  const node::NodeStatus st = node_->GetStatus();
  std::int64_t target = 0;
  if (settings_.mode == AutoCompaction::Mode::kRevision) {
    target = st.revision - settings_.retention_revisions;
  } else if (settings_.mode == AutoCompaction::Mode::kPeriodic) {
    samples_.emplace_back(now_ms, st.revision);
    if (samples_.size() > kMaxSamples) samples_.pop_front();
    while (samples_.size() >= 2 && samples_[1].first <= now_ms - settings_.retention_ms) {
      samples_.pop_front();
    }
    if (samples_.front().first <= now_ms - settings_.retention_ms) target = samples_.front().second;
  }
  if (st.role != node::Role::kLeader || target <= 1 || target <= last_proposed_) return 0;
  last_proposed_ = target;
  sm::v1::Command c;
  c.mutable_compact()->set_revision(target);
  node_->Propose(std::move(c), [](Result<sm::v1::Response>) {});
  return target;
}

}  // namespace aspen::server
