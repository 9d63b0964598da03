// Replica: one member of a simulated cluster, as the Simulation drives it.
//
// Two runtimes implement it (docs/SIMULATOR.md, "Runtimes"):
//   - NodeReplica (node_replica.h, the default, --runtime=node): the product's
//     node::Node in manual-drive mode (Tick/RunOnce, no thread) with a
//     simulated Clock and Transport, on a MemStore. The simulator runs the
//     same Ready loop, proposal forwarding, ReadIndex batching and recovery
//     as `aspen serve`.
//   - SimNode (sim_node.h, --runtime=raw): the simulator's own minimal Ready
//     loop around raft::RawNode, with compaction at random moments and
//     modelled snapshot data (snapshot.h). node::Node compacts by its own
//     policy and ships real snapshots (node_replica.h).
//
// Both persist into a storage::MemStore the replica owns, whose Crash() loses
// every write since the last synced one; Crash() also drops every volatile
// state and pending request (their clients time out).
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "raft/raft.h"
#include "raft/types.h"
#include "sim/network.h"
#include "storage/mem_store.h"

namespace aspen::sim {

// Wall-clock origin of the simulated clock (ms since the Unix epoch), so the
// state machine's now_ms looks like a real time.
inline constexpr std::int64_t kEpochMs = 1'700'000'000'000;

class Replica {
 public:
  virtual ~Replica() = default;

  // Prepares the store of a node of a new cluster of `voters` (before the
  // first Start).
  virtual Status Bootstrap(const std::vector<raft::NodeId>& voters) = 0;
  // Prepares a brand-new node that joins a running cluster whose
  // configuration, once the leader applies the addition, is `voters` (which
  // includes this node). Before the first Start.
  virtual Status PrepareJoin(const std::vector<raft::NodeId>& voters) = 0;
  // Opens (recovers) the node from its store.
  virtual Status Start(std::uint64_t rand_seed) = 0;
  // Loses unsynced writes and all volatile state.
  virtual void Crash() = 0;
  virtual bool up() const = 0;

  virtual void Tick() = 0;
  // A message from a peer.
  virtual void Step(const raft::pb::Message& m) = 0;
  // Serves (or starts serving) a client request; replies go to `out` (now
  // or from a later Process).
  virtual void HandleRequest(const ClientRequest& req, Endpoint from, std::int64_t now_ms,
                             std::vector<Packet>* out) = 0;
  // Proposes a membership change (leader only); answers whether it was
  // submitted.
  virtual bool ProposeConfChange(const raft::pb::ConfChange& cc) = 0;
  // Compacts the log to `keep` entries below the applied index; false when
  // there is too little log or the runtime compacts by its own policy.
  virtual Result<bool> Compact(std::uint64_t keep) = 0;
  // A MSG_SNAP whose state (the sender's store view at the snapshot index)
  // travelled with it; runtimes that carry the state in the message (raw)
  // ignore `state`.
  virtual void StepSnapshot(const raft::pb::Message& m,
                            std::shared_ptr<const storage::Snapshot> /*state*/) {
    Step(m);
  }
  // Snapshot and compaction counters since the replica was created (over
  // restarts); zero for runtimes that do not count them.
  struct SnapshotCounters {
    std::uint64_t sent = 0;
    std::uint64_t installed = 0;
    std::uint64_t failed = 0;
    std::uint64_t compactions = 0;
  };
  virtual SnapshotCounters snapshot_counters() const { return {}; }
  // How many times the replica was started: a snapshot stream from an earlier
  // incarnation of its sender is lost (the stream dies with the process).
  virtual std::uint64_t incarnation() const { return 0; }
  // The outcome of a snapshot sent to `to` (raft's ReportSnapshot).
  virtual void ReportSnapshot(raft::NodeId to, bool failed) = 0;
  // Carries out every pending Ready; messages and replies go to `out`. A
  // failed store write is IOError (the caller crashes the node, as a real
  // node stops); anything else is a bug (Internal, Unimplemented...).
  virtual Status Process(std::int64_t now_ms, std::vector<Packet>* out) = 0;

  virtual raft::NodeId id() const = 0;
  // Requires up().
  virtual const raft::Raft& raft() const = 0;
  bool is_leader() const { return up() && raft().role() == raft::Role::kLeader; }
  virtual storage::MemStore& store() = 0;
  virtual std::uint64_t applied_index() const = 0;
  // The voters of the configuration this node last applied.
  virtual std::vector<raft::NodeId> voters() const = 0;
};

}  // namespace aspen::sim
