// StreamThreads: the threads that produce long client streams (the
// Maintenance.Snapshot writer), so that stopping the server can end them
// before the node and the store they read go away.
//
// Each thread runs a task given a cancel flag; the task checks it between
// units of work (a snapshot frame) and ends its stream with Unavailable
// "server stopping" once it is set. Stop sets the flag, refuses new tasks and
// joins every thread; Server::Parts::Stop calls it before stopping the node.
// Finished threads are joined by the next Start, so at most the running
// tasks plus the ones finished since the last Start are held.
//
// Thread safety: every method from any thread; Stop must not be called from
// a task.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace aspen::server {

class StreamThreads {
 public:
  using Task = std::function<void(const std::atomic<bool>& cancelled)>;

  StreamThreads() = default;
  // Stop().
  ~StreamThreads();
  StreamThreads(const StreamThreads&) = delete;
  StreamThreads& operator=(const StreamThreads&) = delete;

  // Runs task(cancelled) on a new thread. False (task not run) after Stop.
  bool Start(Task task);
  // Cancels every task, refuses new ones, joins every thread. Idempotent.
  void Stop();
  // True once Stop has begun: a stream still being answered ends.
  bool stopping() const { return cancelled_.load(); }

 private:
  struct Running {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };

  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  bool stopped_ = false;          // guarded by mu_
  std::vector<Running> threads_;  // guarded by mu_
};

}  // namespace aspen::server
