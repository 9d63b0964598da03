// Fault injection of the safety phase: crashes, disk write failures,
// partitions and membership changes (see options.h for the rates).
#include <algorithm>
#include <utility>

#include "sim/simulation.h"

namespace aspen::sim {
void Simulation::InjectFaults() {
  const std::vector<std::uint64_t> running = RunningIds();
  if (!running.empty() && rng_.Chance(options_.crash_rate)) {
    CrashNode(running[rng_.Uniform(running.size())], "fault");
  }
  if (!running.empty() && rng_.Chance(options_.disk_fail_rate)) {
    const std::uint64_t id = running[rng_.Uniform(running.size())];
    nodes_.at(id)->store().FailNextWrites(1, Status::IOError("injected disk write failure"));
    trace_.Line(now_, "node " + std::to_string(id) + ": its next disk write will fail");
  }
  if (partition_until_ >= 0 && now_ >= partition_until_) {
    net_.HealAll();
    partition_until_ = -1;
    trace_.Line(now_, "partition healed");
  }
  if (partition_until_ < 0 && rng_.Chance(options_.partition_rate)) Partition();
  if (rng_.Chance(options_.membership_rate)) ChangeMembership();
  if (!running.empty() && rng_.Chance(options_.compact_rate)) {
    const std::uint64_t id = running[rng_.Uniform(running.size())];
    Replica& n = *nodes_.at(id);
    if (!n.up()) return;
    const Result<bool> done = n.Compact(static_cast<std::uint64_t>(rng_.Range(0, 20)));
    if (!done.ok() && done.status().code() == Code::kIOError) {
      CrashNode(id, done.status().message());
    } else if (!done.ok()) {
      Fail("node " + std::to_string(id) + " failed to compact: " + done.status().ToString());
    } else if (*done) {
      ++result_.stats.compactions;
      trace_.Line(now_, "node " + std::to_string(id) + " compacted its log below applied index " +
                            std::to_string(n.applied_index()) + " and compacted its log");
    }
  }
}

void Simulation::Partition() {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, n] : nodes_) {
    if (decommissioned_.count(id) == 0) ids.push_back(id);
  }
  if (ids.size() < 2) return;
  const std::uint64_t kind = rng_.Uniform(3);
  std::string what;
  if (kind == 0) {
    // Symmetric split into two random sides (each node flips a coin).
    std::set<std::uint64_t> side;
    for (std::uint64_t id : ids) {
      if (rng_.Chance(0.5)) side.insert(id);
    }
    for (std::uint64_t a : ids) {
      for (std::uint64_t b : ids) {
        if (side.count(a) != side.count(b)) net_.Cut(a, b);
      }
    }
    what = "symmetric partition, one side:";
    for (std::uint64_t id : side) what += " " + std::to_string(id);
  } else if (kind == 1) {
    const std::uint64_t a = ids[rng_.Uniform(ids.size())];
    const std::uint64_t b = ids[rng_.Uniform(ids.size())];
    if (a == b) return;
    net_.Cut(a, b);
    what = "one-way cut " + std::to_string(a) + " -> " + std::to_string(b);
  } else {
    Replica* leader = Leader();
    if (leader == nullptr) return;
    for (std::uint64_t id : ids) {
      if (id == leader->id()) continue;
      net_.Cut(leader->id(), id);
      net_.Cut(id, leader->id());
    }
    what = "leader " + std::to_string(leader->id()) + " isolated";
  }
  partition_until_ = now_ + rng_.Range(1, options_.partition_ms_max);
  ++result_.stats.partitions;
  trace_.Line(now_, what + " until " + std::to_string(partition_until_) + "ms");
}

void Simulation::ChangeMembership() {
  Replica* leader = Leader();
  if (leader == nullptr) return;
  const std::vector<raft::NodeId> voters = leader->voters();
  raft::pb::ConfChange cc;
  if (voters.size() >= static_cast<std::size_t>(options_.nodes)) {
    std::vector<raft::NodeId> others;
    for (raft::NodeId v : voters) {
      if (v != leader->id()) others.push_back(v);
    }
    if (others.empty()) return;
    const raft::NodeId victim = others[rng_.Uniform(others.size())];
    cc.set_type(raft::pb::CONF_CHANGE_REMOVE_NODE);
    cc.set_node_id(victim);
    if (!leader->ProposeConfChange(cc)) return;
    removing_[victim] = leader->raft().log().LastIndex();
    trace_.Line(now_, "leader " + std::to_string(leader->id()) + " proposes removing node " +
                          std::to_string(victim));
  } else {
    if (next_node_id_ > kMaxNodeId) return;
    const std::uint64_t id = next_node_id_;
    cc.set_type(raft::pb::CONF_CHANGE_ADD_NODE);
    cc.set_node_id(id);
    if (!leader->ProposeConfChange(cc)) return;
    ++next_node_id_;
    trace_.Line(now_, "leader " + std::to_string(leader->id()) + " proposes adding new node " +
                          std::to_string(id));
    if (options_.runtime == Runtime::kNode) {
      // As with etcd, the operator starts the new member once the addition is
      // applied (its initial configuration is then a committed one).
      joining_.insert(id);
    } else {
      StartNewNode(id, {});  // learns the configuration from the log
    }
  }
  ++result_.stats.conf_changes;
}

void Simulation::StartNewNode(std::uint64_t id, const std::vector<raft::NodeId>& voters) {
  auto node = NewReplica(id);
  Status st = node->PrepareJoin(voters);
  if (st.ok()) st = node->Start(rng_.Next());
  if (!st.ok()) {
    Fail("new node " + std::to_string(id) + " failed to start: " + st.ToString());
    return;
  }
  tick_offset_[id] = rng_.Range(0, options_.tick_ms - 1);
  nodes_.emplace(id, std::move(node));
  trace_.Line(now_, "new node " + std::to_string(id) + " started");
}

void Simulation::StartJoiners() {
  if (joining_.empty()) return;
  Replica* leader = Leader();
  if (leader == nullptr) return;
  const std::vector<raft::NodeId> voters = leader->voters();
  for (auto it = joining_.begin(); it != joining_.end();) {
    if (std::find(voters.begin(), voters.end(), *it) == voters.end()) {
      ++it;
      continue;
    }
    StartNewNode(*it, voters);
    it = joining_.erase(it);
  }
}

void Simulation::Decommission() {
  if (removing_.empty()) return;
  Replica* leader = Leader();
  if (leader == nullptr) return;
  const std::vector<raft::NodeId> voters = leader->voters();
  for (auto it = removing_.begin(); it != removing_.end();) {
    const auto [id, index] = *it;
    if (leader->applied_index() < index ||
        std::find(voters.begin(), voters.end(), id) != voters.end()) {
      ++it;
      continue;
    }
    // The removal is applied: the operator stops the node for good.
    auto node = nodes_.find(id);
    if (node != nodes_.end() && node->second->up()) node->second->Crash();
    joining_.erase(id);
    restart_at_.erase(id);
    decommissioned_.insert(id);
    trace_.Line(now_, "node " + std::to_string(id) + " removed from the cluster and stopped");
    it = removing_.erase(it);
  }
}

}  // namespace aspen::sim
