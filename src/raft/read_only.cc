#include "raft/read_only.h"

#include "raft/raft_assert.h"

namespace aspen::raft {

void ReadOnly::Add(std::uint64_t index, const pb::Message& request) {
  RAFT_ASSERT(request.entries_size() == 1);
  const std::string& ctx = request.entries(0).data();
  if (pending_.count(ctx) != 0) return;
  pending_.emplace(ctx, Pending{request, index, {}});
  queue_.push_back(ctx);
  RAFT_ASSERT(queue_.size() == pending_.size());
}

const std::set<NodeId>* ReadOnly::RecvAck(NodeId from, const std::string& ctx) {
  auto it = pending_.find(ctx);
  if (it == pending_.end()) return nullptr;
  it->second.acks.insert(from);
  return &it->second.acks;
}

std::vector<ReadOnly::Pending> ReadOnly::Advance(const std::string& ctx) {
  std::vector<Pending> out;
  if (pending_.count(ctx) == 0) return out;
  while (!queue_.empty()) {
    const std::string head = queue_.front();
    queue_.pop_front();
    auto it = pending_.find(head);
    RAFT_ASSERT(it != pending_.end());
    out.push_back(std::move(it->second));
    pending_.erase(it);
    if (head == ctx) break;
  }
  RAFT_ASSERT(queue_.size() == pending_.size());
  return out;
}

std::string ReadOnly::LastPendingCtx() const {
  return queue_.empty() ? "" : queue_.back();
}

void ReadOnly::Clear() {
  pending_.clear();
  queue_.clear();
}

}  // namespace aspen::raft
