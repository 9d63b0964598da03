// WorkerPool: a fixed set of threads draining a bounded task queue. The gRPC
// services run reads and forwarded calls here, off gRPC's callback threads and
// off the node's Ready loop (whose callbacks must not block).
//
// Thread safety: Submit from any thread; Stop from any thread but a worker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace aspen::server {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t max_queued);
  // Stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (and `task` is not run) when max_queued tasks wait
  // or the pool is stopped.
  [[nodiscard]] bool Submit(std::function<void()> task);
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop();
  // True once Stop has begun (Submit refuses from then on).
  bool stopping() const;

 private:
  void Run();

  const std::size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                    // guarded by mu_
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace aspen::server
