#include "server/stream_threads.h"

#include <utility>

#include "base/thread_name.h"

namespace aspen::server {

StreamThreads::~StreamThreads() {
  Stop();
}

bool StreamThreads::Start(Task task) {
  std::vector<Running> done;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    for (auto it = threads_.begin(); it != threads_.end();) {
      if (it->finished->load()) {
        done.push_back(std::move(*it));
        it = threads_.erase(it);
      } else {
        ++it;
      }
    }
    auto finished = std::make_shared<std::atomic<bool>>(false);
    threads_.push_back(Running{std::thread([this, finished, task = std::move(task)] {
                                 SetThreadName("aspen-stream");
                                 task(cancelled_);
                                 finished->store(true);
                               }),
                               finished});
  }
  for (Running& r : done) r.thread.join();  // past their task: returns at once
  return true;
}

void StreamThreads::Stop() {
  std::vector<Running> threads;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cancelled_.store(true);
    threads.swap(threads_);
  }
  for (Running& r : threads) r.thread.join();
}

}  // namespace aspen::server
