// CompletionRunner: one thread that runs the Ready loop's completions (the
// callbacks that answer clients) so the loop can start its next write while
// replies go out. On one node at 64 clients the replies' gRPC sends were a
// third of the loop's CPU (docs/BENCHMARKS.md).
//
// Batches run in the order they were submitted, each callback in its order.
// The queue holds at most `max_batches`; Submit refuses when it is full or
// the runner stopped, and the caller then runs the batch itself (the loop
// slows down instead of growing memory; nothing is dropped).
//
// Thread safety: Submit and Idle from one thread (the Ready loop); Stop from
// any thread but the runner's.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace aspen::node {

class CompletionRunner {
 public:
  using Completion = std::function<void()>;

  explicit CompletionRunner(std::size_t max_batches);
  // Stop().
  ~CompletionRunner();
  CompletionRunner(const CompletionRunner&) = delete;
  CompletionRunner& operator=(const CompletionRunner&) = delete;

  // Takes `*batch` (left empty) and returns true, or leaves it untouched and
  // returns false when the queue is full or the runner is stopped.
  [[nodiscard]] bool Submit(std::vector<Completion>* batch);
  // True when nothing is queued or running: a batch run by the caller now
  // cannot overtake an earlier one.
  bool Idle() const;
  // Runs every queued batch, then joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  const std::size_t max_batches_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                      // guarded by mu_
  bool running_ = false;                       // guarded by mu_; a batch is running
  std::deque<std::vector<Completion>> queue_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace aspen::node
