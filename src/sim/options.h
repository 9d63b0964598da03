// SimOptions: everything that parameterizes one simulation run, and the
// swarm draw that picks a seed's own fault regime.
//
// Swarm testing: instead of one fixed mix of faults, each seed draws its own
// rates (DrawSwarm), so some seeds run with heavy loss and no crashes, others
// with frequent crashes and a perfect network, and so on. Everything is drawn
// from the run's Rng, so the seed alone determines the options.
#pragma once

#include <cstdint>
#include <string>

#include "sim/rng.h"

namespace aspen::sim {

// A bug injected on purpose, to prove the checkers catch it (docs/SIMULATOR.md).
enum class SimBug {
  kNone,
  // The node writes its Ready with sync=false: votes and appended entries are
  // acknowledged before they are durable, so a crash forgets them.
  kSkipSync,
  // raft::Config::testing_bug = kVoteWithoutLogCheck.
  kRaftVoteWithoutLogCheck,
  // Gets are served from the replica's local state without a read barrier
  // (as etcd's `serializable` reads): a partitioned or lagging replica answers
  // stale values. Node runtime only (the raw runtime serves gets on the leader
  // alone).
  kStaleRead,
  // The node runtime's snapshot transfer delivers the sender's state without
  // its kv column family: the receiver resumes from the snapshot index with
  // its applied index and revision right but no keys. Node runtime only.
  kSnapshotDropKv,
  // Lease bugs (node runtime only), one per lease check (docs/SIMULATOR.md,
  // "Leases"). A revocation's store write keeps one of the lease's keys.
  kRevokeKeepsAKey,
  // A revocation's store write keeps the lease's row (its keys go): a later
  // put with the revoked lease is accepted.
  kRevokeKeepsLeaseRow,
  // The node's steady clock runs three times too fast: the leader expires
  // leases long before their TTL.
  kFastLeaseClock,
  // The snapshot transfer leaves out the rows of leases no key is attached
  // to: the receiver's lease set differs from its peers'.
  kSnapshotDropIdleLeases,
  // A client's revocation is acknowledged ("found") as soon as it is
  // proposed, before it is committed and applied: a read after the answer
  // still sees the lease's keys (or the revocation never happens).
  kRevokeAckedBeforeApplied,
};

// Which code runs each replica (replica.h).
enum class Runtime {
  kNode,  // node::Node, the product's runtime (default)
  kRaw,   // the simulator's own Ready loop around raft::RawNode (SimNode)
};

struct SimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;  // 3 or 5 voters at start; 0: drawn per seed
  int clients = 3;
  int keys = 3;
  // Simulated milliseconds of the safety phase (faults on) and the bound of
  // the liveness phase (faults healed; a new write must commit within it).
  std::int64_t safety_ms = 3000;
  std::int64_t liveness_ms = 3000;
  std::int64_t tick_ms = 10;  // one raft tick
  int election_tick = 10;
  bool pre_vote = true;
  bool check_quorum = true;
  // raft::Config::max_size_per_msg: small values split replication into
  // many messages (wider windows between acknowledgements).
  std::uint64_t max_size_per_msg = 64 << 10;

  // Network (per message).
  std::int64_t latency_min_ms = 1;
  std::int64_t latency_max_ms = 10;
  double loss = 0;
  double duplicate = 0;
  // Probability a message is held back by an extra delay (reordering).
  double reorder = 0;
  std::int64_t reorder_delay_max_ms = 50;

  // Faults (per simulated millisecond).
  double partition_rate = 0;  // start a partition (symmetric, one-way or leader isolation)
  std::int64_t partition_ms_max = 500;
  double crash_rate = 0;  // crash a running node
  std::int64_t down_ms_max = 500;
  double disk_fail_rate = 0;   // the next write of a node fails (the node then crashes)
  double membership_rate = 0;  // remove a voter or add one back
  double compact_rate = 0;     // a node snapshots its state and compacts its log
  // Node runtime: node::NodeOptions::snapshot_count and
  // snapshot_catchup_entries (log compaction by policy; a follower behind the
  // compacted log gets a raft snapshot). 0: no compaction.
  std::uint64_t snapshot_count = 0;
  std::uint64_t snapshot_catchup_entries = 0;
  // Node runtime: probability a node that just installed a snapshot crashes
  // right after (recovery from an installed snapshot; unsynced writes lost).
  double crash_after_install = 0;
  // Node runtime: probability that a node's next store write fails when a
  // snapshot reaches it (the write is usually the install batch; the node
  // then stops and is crashed, as after any disk failure).
  double fail_install_write = 0;
  // Node runtime: simulated snapshot transfer speed (state bytes per ms).
  std::uint64_t snapshot_bytes_per_ms = 0;

  // Leases (node runtime): how many lease slots the clients use (0: no lease
  // operations; history.h), the share of operations on a slot, and how often
  // the leader looks for expired leases (NodeOptions::expiry_interval_ms).
  int lease_slots = 0;
  double lease_share = 0;
  std::int64_t expiry_interval_ms = 500;

  // Clients.
  std::int64_t client_timeout_ms = 300;
  std::int64_t think_ms_max = 20;

  // Linearizability search bound (memoized states per key).
  std::size_t lin_states = 1'000'000;

  Runtime runtime = Runtime::kNode;
  SimBug bug = SimBug::kNone;
  bool trace = false;
};

// Draws a seed's fault regime on top of `base` (which sets nodes, phase
// lengths, runtime, bug and trace). Deterministic in rng. The node runtime
// compacts by policy (snapshot_count), not by compact_rate.
SimOptions DrawSwarm(const SimOptions& base, Rng& rng);

// Whether `bug` is one of the lease bugs, and its --bug name.
bool IsLeaseBug(SimBug bug);
std::string LeaseBugName(SimBug bug);

// One line naming every drawn option, for traces and failure reports.
std::string DescribeOptions(const SimOptions& o);

}  // namespace aspen::sim
