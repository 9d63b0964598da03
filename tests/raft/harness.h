// A deterministic in-memory cluster of RawNodes for scenario and property
// tests. One thread, ordered containers only, no clock: the same calls give
// the same run. Each node persists its Ready into a MemoryStorage before its
// messages enter the network (ready.h rule 2 in its strictest form), applies
// committed entries (conf changes through ApplyConfChange) and checks Raft's
// safety properties after every step.
//
// Fluent use:
//   Cluster c({.voters = 3});
//   c.Elect(1).Propose(1, "x").Stabilize();
//   c.Isolate(1).TickAll(30).Stabilize();
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raw_node.h"

namespace aspen::raft::testing {

struct ClusterOptions {
  std::size_t voters = 3;    // ids 1..voters
  std::size_t learners = 0;  // ids voters+1..voters+learners
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  std::uint64_t max_size_per_msg = 1 << 20;
  std::size_t max_inflight_msgs = 256;
  std::uint64_t max_uncommitted_entries_size = 64 << 20;
  std::uint64_t seed = 1;
};

// One entry applied by a node.
struct Applied {
  std::uint64_t term = 0;
  std::string data;
  bool operator==(const Applied&) const = default;
};

struct TestNode {
  NodeId id = kNone;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> raw;
  // Normal entries applied, by index (the leader's empty entries included).
  std::map<std::uint64_t, Applied> applied;
  std::uint64_t applied_index = 0;
  pb::ConfState conf_state;
  std::vector<ReadState> read_states;
  std::vector<SoftState> soft_states;  // every soft state change seen
  bool may_send_before_persist_seen = false;
};

class Cluster {
 public:
  explicit Cluster(const ClusterOptions& opts);

  // --- nodes -------------------------------------------------------------
  RawNode& raw(NodeId id);
  TestNode& node(NodeId id);
  const Raft& raft(NodeId id) { return raw(id).raft(); }
  std::vector<NodeId> ids() const;
  // Adds a node with empty storage and no configuration (it learns both from
  // the leader's snapshot once a conf change adds it).
  Cluster& AddNode(NodeId id);
  // Crash and restart from what was persisted; unsent messages are lost.
  Cluster& Restart(NodeId id);
  // The node that is leader in the highest term, or kNone.
  NodeId Leader();

  // --- network -----------------------------------------------------------
  Cluster& Isolate(NodeId id);
  // Splits the cluster: messages cross only within a group.
  Cluster& Partition(const std::set<NodeId>& a, const std::set<NodeId>& b);
  Cluster& Cut(NodeId from, NodeId to);  // one direction
  Cluster& Heal();
  // Drops every queued message.
  Cluster& DropAll();
  // Drops queued messages of this type.
  Cluster& DropType(pb::MessageType t);
  std::deque<pb::Message>& queue() { return queue_; }

  // --- driving -----------------------------------------------------------
  // Handles every pending Ready, then delivers queued messages in order, until
  // nothing is left (bounded; fails the test if it does not settle).
  Cluster& Stabilize();
  // Handles node id's Ready if it has one; answers whether it did.
  bool HandleReady(NodeId id);
  // If node id's Ready allows sending before persisting (a leader's), sends
  // its messages and then crashes the node before anything is persisted
  // (thesis §10.2.1 with the worst timing). Answers whether it crashed.
  bool SendThenCrashBeforePersist(NodeId id);
  // Delivers the k-th queued message (dropping it if the link is cut).
  void DeliverAt(std::size_t k);
  // Queues a copy of the k-th message (the network duplicated it).
  void DuplicateAt(std::size_t k);
  Cluster& Tick(NodeId id, int n = 1);
  Cluster& TickAll(int n = 1);
  // Campaigns on id, then stabilizes; asserts id won.
  Cluster& Elect(NodeId id);
  Cluster& Propose(NodeId id, const std::string& data);
  Error TryPropose(NodeId id, const std::string& data);
  Cluster& ProposeConfChange(NodeId id, pb::ConfChangeType type, NodeId target);
  // Snapshots node id's state at its applied index and compacts its log there.
  Cluster& Compact(NodeId id);

  // --- checks --------------------------------------------------------------
  // Raft's safety properties; ADD_FAILUREs when one breaks. Run after every
  // step by Stabilize/DeliverAt/Tick.
  void CheckSafety();
  // Every node holds the same applied entries up to the smallest applied index.
  bool Converged();
  std::uint64_t Committed(NodeId id) { return raft(id).log().committed(); }

 private:
  void Deliver(const pb::Message& m);
  bool LinkUp(NodeId from, NodeId to) const;
  void ApplyCommitted(TestNode& n, const EntryVec& ents);
  std::unique_ptr<RawNode> NewRawNode(TestNode& n, std::uint64_t applied);

  ClusterOptions opts_;
  std::map<NodeId, TestNode> nodes_;
  std::deque<pb::Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  // Safety bookkeeping: who led each term; what was applied at each index.
  std::map<std::uint64_t, NodeId> leader_of_term_;
  std::map<std::uint64_t, Applied> applied_by_index_;
};

std::string DescribeMessage(const pb::Message& m);

}  // namespace aspen::raft::testing
