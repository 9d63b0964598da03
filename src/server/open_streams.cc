#include "server/open_streams.h"

#include <utility>
#include <vector>

namespace aspen::server {

std::uint64_t OpenStreams::Add(End end) {
  std::unique_lock lock(mu_);
  const std::uint64_t id = next_id_++;
  if (stopped_) {
    lock.unlock();
    end();
    return id;
  }
  ends_.emplace(id, std::move(end));
  return id;
}

void OpenStreams::Remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  ends_.erase(id);
}

void OpenStreams::EndAll() {
  std::vector<End> ends;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [id, end] : ends_) ends.push_back(end);
  }
  for (End& end : ends) end();
}

std::size_t OpenStreams::size() const {
  std::lock_guard lock(mu_);
  return ends_.size();
}

}  // namespace aspen::server
