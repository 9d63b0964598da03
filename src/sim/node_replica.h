// NodeReplica: the node runtime (--runtime=node, the default; replica.h). The
// replica is the product's node::Node, driven by hand: the Simulation calls
// Tick() on the node's tick schedule and RunOnce() until it has nothing left
// to do; no thread is started. Around it the simulator supplies:
//   - SimClock: wall and steady time are the simulated millisecond (wall time
//     offset by kEpochMs), shared by every node;
//   - a Transport that turns each raft message into a network Packet; a
//     MSG_SNAP carries the sending node's OutgoingSnapshot(index) view and
//     takes simulated time proportional to the state's size, the receiver
//     gets ReceiveSnapshot(message, loader) and the sender ReportSnapshot (as
//     the peer port: server/peer_transport.cc, peer_snapshot.cc);
//   - a MemStore (crashes, failed writes), optionally behind SkipSyncStore
//     (the kSkipSync bug: every write is acknowledged unsynced);
//   - a node::Observer feeding the SafetyChecker (persisted entries, applied
//     entries) and the history resolver (values applied), and noticing the
//     node's fatal stop after a failed write.
//
// Client requests reach the node through its public API, as the gRPC server
// does: a write is Propose() (on any node: a follower forwards it to the
// leader), a get is ReadBarrier() then a Range on GetSnapshot() (on any node).
// An answer that certainly did not take effect ("no leader", a dropped or
// overwritten proposal, a bound reached) is kRefused and the client retries;
// every other failure is kUnknown.
//
// Thread safety: none (the node runs on the simulator's thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/node.h"
#include "node/observer.h"
#include "sim/lease_check.h"
#include "sim/options.h"
#include "sim/raft_safety.h"
#include "sim/replica.h"
#include "sim/trace.h"

namespace aspen::sim {

// The simulated clock, advanced by the Simulation.
class SimClock final : public node::Clock {
 public:
  std::int64_t NowMs() const override { return kEpochMs + now_ms; }
  std::int64_t SteadyMs() const override { return now_ms; }
  std::int64_t now_ms = 0;
};

// The kFastLeaseClock bug: the node's steady clock runs three times too fast
// (its wall clock, which commands carry, is right).
class FastSteadyClock final : public node::Clock {
 public:
  explicit FastSteadyClock(const SimClock* clock) : clock_(clock) {}
  std::int64_t NowMs() const override { return clock_->NowMs(); }
  std::int64_t SteadyMs() const override { return 3 * clock_->now_ms; }

 private:
  const SimClock* clock_;
};

class NodeReplica final : public Replica, private node::Observer, private node::Transport {
 public:
  // Values written by applied puts and successful CAS are recorded in
  // `applied_values` with the first time any node applied them (history.h).
  // Not owned; all must outlive the replica.
  // `leases` gets the lease events (lease_check.h).
  NodeReplica(raft::NodeId id, const SimOptions& options, SimClock* clock, SafetyChecker* checker,
              LeaseChecker* leases, Trace* trace,
              std::map<std::string, std::int64_t>* applied_values);
  ~NodeReplica() override;

  Status Bootstrap(const std::vector<raft::NodeId>& voters) override;
  Status PrepareJoin(const std::vector<raft::NodeId>& voters) override;
  Status Start(std::uint64_t rand_seed) override;
  void Crash() override;
  bool up() const override { return node_ != nullptr; }

  void Tick() override { node_->Tick(); }
  void Step(const raft::pb::Message& m) override;
  void HandleRequest(const ClientRequest& req, Endpoint from, std::int64_t now_ms,
                     std::vector<Packet>* out) override;
  bool ProposeConfChange(const raft::pb::ConfChange& cc) override;
  // node::Node compacts by its own policy (SimOptions::snapshot_count).
  Result<bool> Compact(std::uint64_t) override { return false; }
  void StepSnapshot(const raft::pb::Message& m,
                    std::shared_ptr<const storage::Snapshot> state) override;
  void ReportSnapshot(raft::NodeId to, bool failed) override;
  SnapshotCounters snapshot_counters() const override;
  std::uint64_t incarnation() const override { return incarnation_; }
  Status Process(std::int64_t now_ms, std::vector<Packet>* out) override;

  raft::NodeId id() const override { return id_; }
  const raft::Raft& raft() const override { return node_->RaftForTesting(); }
  storage::MemStore& store() override { return store_; }
  std::uint64_t applied_index() const override;
  std::vector<raft::NodeId> voters() const override;

 private:
  // node::Observer
  void OnPersist(const raft::Raft& raft, const raft::EntryVec& entries) override;
  void OnApply(const raft::pb::Entry& e, const sm::v1::Response* response) override;
  void OnFatal(const Status& why) override;
  // node::Transport
  void Send(std::vector<raft::pb::Message> messages) override;

  void Reply(Endpoint to, ClientReply r);
  void ServeRead(const ClientRequest& req, Endpoint from);
  void ServeWrite(const ClientRequest& req, Endpoint from);
  // Keep-alive as the gRPC server's LeaseKeepAlive calls Node::KeepAlive
  // (its callback form; it may wait, node/lessor.h).
  void ServeKeepAlive(const ClientRequest& req, Endpoint from);
  // Reloads the lessor mirror from the applied state (after an open or a
  // snapshot install).
  void ReloadLessorMirror();
  // Whether the mirror holds `lease`, reloading it first if the node
  // installed a snapshot since (a keep-alive's barrier may complete in the
  // RunOnce that installed one).
  bool MirrorHas(std::int64_t lease);
  void Answer(const ClientRequest& req, Endpoint from, const Status& failure);
  void Line(const std::string& text) const;

  const raft::NodeId id_;
  const SimOptions& options_;
  SimClock* clock_;
  SafetyChecker* checker_;
  LeaseChecker* leases_;
  Trace* trace_;
  std::map<std::string, std::int64_t>* applied_values_;
  storage::MemStore store_;
  // The store the node writes through: a bug's wrapper, or null for store_.
  std::unique_ptr<storage::Store> buggy_store_;
  std::unique_ptr<node::Clock> fast_clock_;  // the kFastLeaseClock bug
  std::map<raft::NodeId, std::string> initial_cluster_;
  std::unique_ptr<node::Node> node_;
  // Set while the node is being destroyed: answers it gives then are dropped
  // (a crashed server answers nobody; the clients time out).
  bool crashing_ = false;
  std::optional<Status> fatal_;
  // A reply the simulator could not build (a bug of the simulator or sm/).
  std::optional<Status> internal_;
  std::vector<Packet> outbox_;
  // Snapshots the node asked to send whose state it no longer keeps: reported
  // failed after the current RunOnce (not from inside its Send).
  std::vector<raft::NodeId> snap_unsendable_;
  // Counters of earlier incarnations (a restart starts the node's at 0).
  SnapshotCounters counters_;
  std::uint64_t incarnation_ = 0;
  std::uint64_t installed_before_ = 0;
  // The leases the node's Lessor holds, as far as the simulator can tell: the
  // applied state's leases when the node opened or installed a snapshot, then
  // every grant and revocation it applied (node/ready.cc mirrors them the same
  // way). A keep-alive answered "not found" for a lease in the mirror fails
  // the seed (the Lessor lost a lease the state holds).
  std::set<std::int64_t> lessor_mirror_;
  std::uint64_t mirror_installs_ = 0;  // snapshots_installed at the last reload
  // True while Process runs (phased times, lease_check.h).
  bool processing_ = false;
  std::uint64_t compactions_before_ = 0;
};

}  // namespace aspen::sim
