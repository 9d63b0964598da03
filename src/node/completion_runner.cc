#include "node/completion_runner.h"

#include <utility>

#include "base/assert.h"
#include "base/thread_name.h"

namespace aspen::node {

CompletionRunner::CompletionRunner(std::size_t max_batches) : max_batches_(max_batches) {
  ASPEN_ASSERT(max_batches > 0);
  thread_ = std::thread([this] {
    SetThreadName("aspen-replies");
    Run();
  });
}

CompletionRunner::~CompletionRunner() {
  Stop();
}

bool CompletionRunner::Submit(std::vector<Completion>* batch) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_batches_) return false;
    queue_.push_back(std::move(*batch));
  }
  batch->clear();
  cv_.notify_one();
  return true;
}

bool CompletionRunner::Idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && !running_;
}

void CompletionRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void CompletionRunner::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything ran
    std::vector<Completion> batch = std::move(queue_.front());
    queue_.pop_front();
    running_ = true;
    lock.unlock();
    for (Completion& c : batch) c();
    batch.clear();  // captured state goes before the next batch
    lock.lock();
    running_ = false;
  }
}

}  // namespace aspen::node
