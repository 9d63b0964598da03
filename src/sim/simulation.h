// Simulation: one deterministic run of an Aspen cluster from one seed
// (docs/SIMULATOR.md).
//
//   1. The seed seeds the run's one Rng; the swarm draw (options.h) picks this
//      seed's fault regime.
//   2. Safety phase (options.safety_ms of simulated time): clients run the
//      workload while the network loses, duplicates, delays and reorders
//      messages, partitions come and go (symmetric, one-way, isolated
//      leader), nodes crash (losing unsynced writes) and restart, disks fail
//      writes, voters are removed and new nodes added. Raft's safety
//      properties are checked after every simulated millisecond.
//   3. Liveness phase: the network heals and calms, every node restarts; a
//      write invoked after healing must complete within options.liveness_ms,
//      then the clients stop and every member must converge (same applied
//      index and the same HashKV) within the same bound.
//   4. The client history must be linearizable.
//
// Run() answers the first failure (safety violation, liveness timeout,
// divergence, non-linearizable history, linearizability bound exceeded, or an
// internal error) with a message; a passing run has ok == true. Nothing
// outside the seed influences a run: one Rng, ordered containers, no clock,
// no threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/history.h"
#include "sim/lease_check.h"
#include "sim/network.h"
#include "sim/node_replica.h"
#include "sim/options.h"
#include "sim/raft_safety.h"
#include "sim/replica.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace aspen::sim {

struct RunStats {
  std::uint64_t ops_ok = 0;
  std::uint64_t ops_unknown = 0;
  std::uint64_t leaders = 0;  // distinct terms with a leader
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t conf_changes = 0;
  std::uint64_t compactions = 0;
  std::uint64_t snapshots = 0;  // MSG_SNAP delivered to a running node
  // Node runtime: MSG_SNAP handed to the transport with their state, raft
  // snapshots installed by receivers, and transfers reported failed to the
  // sender (lost, cut, crashed peer, state no longer kept).
  std::uint64_t snapshots_sent = 0;
  std::uint64_t snapshots_installed = 0;
  std::uint64_t snapshots_failed = 0;
  std::uint64_t messages = 0;
  std::uint64_t committed = 0;  // highest committed index
  std::size_t lin_states = 0;
  // Leases (node runtime; lease_check.h).
  std::uint64_t lease_grants = 0;
  std::uint64_t lease_revokes = 0;
  std::uint64_t lease_expiries = 0;
  std::uint64_t lease_keepalives = 0;
  std::uint64_t lease_keepalives_waited = 0;  // answered after a wait (lessor.h)
  std::uint64_t lease_refused_puts = 0;
  std::size_t max_in_flight = 0;  // packets in the network at once
  std::int64_t end_ms = 0;
};

struct RunResult {
  bool ok = true;
  std::string failure;  // empty when ok
  SimOptions options;   // the drawn options
  RunStats stats;
};

// The largest node id a run creates (initial voters plus added nodes).
inline constexpr std::uint64_t kMaxNodeId = 9;

class Simulation {
 public:
  // `base` sets seed, nodes, phase lengths, bug and trace; the rest is drawn.
  explicit Simulation(const SimOptions& base);

  RunResult Run();
  const Trace& trace() const { return trace_; }
  const History& history() const { return history_; }

 private:
  // One simulated millisecond. Answers false when the run must stop.
  bool Step(bool faults, bool issue);
  // `faults`: a snapshot's arrival may make the receiver's next write fail.
  void Deliver(bool faults);
  // `faults`: a node that installed a snapshot may crash right after.
  void ProcessNodes(bool faults);
  void InjectFaults();
  void Partition();
  void ChangeMembership();
  void CrashNode(std::uint64_t id, const std::string& why);
  void RestartDue(bool all);
  void Decommission();
  // Node runtime: starts each added node once the leader has applied its
  // addition.
  void StartJoiners();
  // Creates and starts a node added to the cluster; `voters` is the
  // configuration that includes it (node runtime).
  void StartNewNode(std::uint64_t id, const std::vector<raft::NodeId>& voters);
  bool RunLiveness();
  bool Converged(std::string* why);
  // Lease bookkeeping after each step: leaders seen, answers checked,
  // replicas audited every kLeaseAuditMs.
  void TrackLeases();
  // The history to check: unknown puts/CAS resolved with applied_values_.
  History ResolveUnknownWrites() const;
  void Fail(const std::string& why);
  Replica* Leader();
  // A replica of the run's runtime.
  std::unique_ptr<Replica> NewReplica(raft::NodeId id);
  std::vector<std::uint64_t> RunningIds() const;
  std::vector<std::uint64_t> RequestTargets() const;

  Rng rng_;
  SimOptions options_;
  Trace trace_;
  SimClock clock_;
  Network net_;
  SafetyChecker checker_;
  LeaseChecker leases_;
  LeaseBook lease_book_;
  // Node -> the term it was last seen leading in (0: not leading).
  std::map<std::uint64_t, std::uint64_t> leading_;
  // History entries already passed to leases_.OnAnswered.
  std::size_t answered_ = 0;
  // Expirations already traced.
  std::size_t expiries_traced_ = 0;
  std::map<std::uint64_t, std::unique_ptr<Replica>> nodes_;
  std::map<std::uint64_t, std::int64_t> restart_at_;  // down nodes -> restart time
  // Nodes whose removal was proposed -> the log index of that proposal.
  std::map<std::uint64_t, std::uint64_t> removing_;
  std::set<std::uint64_t> decommissioned_;
  // Node runtime: added nodes not started yet (their addition is not applied).
  std::set<std::uint64_t> joining_;
  std::map<std::uint64_t, std::int64_t> tick_offset_;
  std::int64_t partition_until_ = -1;
  std::vector<Client> clients_;
  History history_;
  // Value written -> first time a replica applied it (history.h).
  std::map<std::string, std::int64_t> applied_values_;
  std::uint64_t next_request_id_ = 1;
  std::uint64_t next_node_id_ = 0;
  std::int64_t now_ = 0;
  RunResult result_;
};

}  // namespace aspen::sim
