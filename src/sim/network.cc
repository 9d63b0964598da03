#include "sim/network.h"

#include <algorithm>
#include <utility>

namespace aspen::sim {

void Network::Enqueue(Packet p, std::int64_t now_ms) {
  std::int64_t at =
      now_ms + p.transfer_ms + rng_->Range(options_.latency_min_ms, options_.latency_max_ms);
  if (!calm_ && rng_->Chance(options_.reorder)) {
    at += rng_->Range(1, options_.reorder_delay_max_ms);
  }
  queue_.emplace(std::make_pair(at, seq_++), std::move(p));
}

void Network::Send(Packet p, std::int64_t now_ms) {
  ++sent_;
  if (!calm_ && rng_->Chance(options_.loss)) {
    RecordLoss(p);
    return;
  }
  // Client traffic runs over TCP in a real deployment: lost (a dropped
  // connection) but never duplicated. Raft messages may be duplicated, except
  // a forwarded proposal (MSG_PROP): raft, like etcd, appends every one it
  // receives, so a duplicate would apply the command twice. The peer
  // transport (gRPC streams over TCP) never duplicates a message.
  if (p.kind == Packet::Kind::kRaft && p.raft.type() != raft::pb::MSG_PROP && !calm_ &&
      rng_->Chance(options_.duplicate)) {
    Enqueue(p, now_ms);
  }
  Enqueue(std::move(p), now_ms);
}

std::string Network::DescribeInFlight() const {
  std::map<std::string, std::size_t> counts;
  for (const auto& [at, p] : queue_) {
    std::string name = p.kind == Packet::Kind::kRaft      ? raft::MessageTypeName(p.raft.type())
                       : p.kind == Packet::Kind::kRequest ? "client request"
                                                          : "client reply";
    name += " " + std::to_string(p.from) + "->" + std::to_string(p.to);
    ++counts[name];
  }
  std::vector<std::pair<std::size_t, std::string>> sorted;
  for (const auto& [name, n] : counts) sorted.emplace_back(n, name);
  std::sort(sorted.rbegin(), sorted.rend());
  std::string out;
  for (std::size_t i = 0; i < sorted.size() && i < 6; ++i) {
    out += (i ? ", " : "") + sorted[i].second + " x" + std::to_string(sorted[i].first);
  }
  return out;
}

std::vector<Packet> Network::DeliverDue(std::int64_t now_ms) {
  std::vector<Packet> out;
  while (!queue_.empty() && queue_.begin()->first.first <= now_ms) {
    auto node = queue_.extract(queue_.begin());
    Packet& p = node.mapped();
    if (LinkUp(p.from, p.to)) {
      out.push_back(std::move(p));
    } else {
      RecordLoss(p);
    }
  }
  return out;
}

}  // namespace aspen::sim
