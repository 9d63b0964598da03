#include "sim/network.h"

#include <utility>

namespace aspen::sim {

void Network::Enqueue(Packet p, std::int64_t now_ms) {
  std::int64_t at = now_ms + rng_->Range(options_.latency_min_ms, options_.latency_max_ms);
  if (!calm_ && rng_->Chance(options_.reorder)) {
    at += rng_->Range(1, options_.reorder_delay_max_ms);
  }
  queue_.emplace(std::make_pair(at, seq_++), std::move(p));
}

void Network::Send(Packet p, std::int64_t now_ms) {
  ++sent_;
  if (!calm_ && rng_->Chance(options_.loss)) {
    ++dropped_;
    return;
  }
  // Client traffic runs over TCP in a real deployment: lost (a dropped
  // connection) but never duplicated. Raft messages may be duplicated.
  if (p.kind == Packet::Kind::kRaft && !calm_ && rng_->Chance(options_.duplicate)) {
    Enqueue(p, now_ms);
  }
  Enqueue(std::move(p), now_ms);
}

std::vector<Packet> Network::DeliverDue(std::int64_t now_ms) {
  std::vector<Packet> out;
  while (!queue_.empty() && queue_.begin()->first.first <= now_ms) {
    auto node = queue_.extract(queue_.begin());
    Packet& p = node.mapped();
    if (LinkUp(p.from, p.to)) {
      out.push_back(std::move(p));
    } else {
      ++dropped_;
    }
  }
  return out;
}

}  // namespace aspen::sim
