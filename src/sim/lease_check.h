// LeaseChecker: the simulator's lease checks (docs/SIMULATOR.md, "Leases"),
// fed by the node runtime's replicas and the Simulation.
//
//   1. Atomicity: in every replica's applied state, a key attached to a lease
//      exists only while the lease does, and the lease_id index names exactly
//      the keys whose record names the lease (a revocation or expiry takes all
//      of a lease's keys with it, in one step). Audit().
//   2. A put with a lease that was already revoked or expired is refused: a
//      put invoked after some replica applied the lease's revocation must
//      answer "lease not found". OnAnswered().
//   3. A lease is never expired before its TTL: when the leader N proposes a
//      revocation for an expired lease at time p, N's own view of the lease
//      (the last of: N becoming leader, N applying the grant, a keep-alive N
//      acknowledged) must be at least TTL old; and a keep-alive acknowledged
//      after the proposal, by N or by a node that became leader after it,
//      must still get its TTL (the revocation may not take effect within TTL
//      of it). etcd's promise is one-sided: a lease may live longer (a new
//      leader extends every lease), and a leader deposed before the proposal
//      may still renew.
//   4. Replicas agree: any two replicas audited at the same applied index hold
//      the same leases (id, TTL) and the same keys attached to each. Audit().
// Linearizability of the lease model is checked on the history
// (linearizability.h); this class adds the expirations to it (expiries()).
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "raft/types.h"
#include "sim/history.h"
#include "storage/store.h"

namespace aspen::sim {

class LeaseChecker {
 public:
  // Times are simulated ms. "Phased" times order events inside one
  // millisecond: 2 * ms for events before the nodes' ticks (client requests
  // delivered), 2 * ms + 1 for events while the nodes process their Readies.
  static std::int64_t Phased(std::int64_t ms, bool processing) {
    return 2 * ms + (processing ? 1 : 0);
  }

  // `node` became leader of a new term at now_ms.
  void OnLeader(raft::NodeId node, std::int64_t now_ms);
  // `node` acknowledged a keep-alive of `lease` answering `ttl_s`.
  void OnKeepAliveOk(raft::NodeId node, std::int64_t lease, std::int64_t ttl_s,
                     std::int64_t phased_time);
  // A keep-alive was answered after a wait in the node (not at once).
  void OnKeepAliveWaited() { ++counters_.keepalives_waited; }
  // `node` applied a normal entry with `response` at now_ms.
  void OnApply(raft::NodeId node, const raft::pb::Entry& entry, const sm::v1::Response& response,
               std::int64_t now_ms);
  // A client operation was answered (check 2).
  void OnAnswered(const Operation& op);
  // Checks 1 and 4 on one replica's applied state at `applied_index`.
  void Audit(raft::NodeId node, std::uint64_t applied_index, const storage::Snapshot& state,
             std::int64_t now_ms);

  // The expirations (kLeaseExpire, unknown answer, applied_by_ms set) that
  // took effect, for the history.
  const History& expiries() const { return expiries_; }
  // When a replica first applied the lease's grant; -1 when none did.
  std::int64_t GrantAppliedAt(std::int64_t lease) const;

  struct Counters {
    std::uint64_t grants = 0;      // grants applied
    std::uint64_t revokes = 0;     // client revocations that took effect
    std::uint64_t expiries = 0;    // expirations that took effect
    std::uint64_t keepalives = 0;  // keep-alives acknowledged
    // Keep-alives the node answered after waiting (node/lessor.h), any answer.
    std::uint64_t keepalives_waited = 0;
    std::uint64_t refused_puts = 0;  // puts answered "lease not found"
    std::uint64_t audits = 0;
  };
  const Counters& counters() const { return counters_; }

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }

 private:
  struct Lease {
    std::int64_t ttl_s = 0;
    std::int64_t granted_at = -1;  // first apply anywhere
    std::int64_t revoked_at = -1;  // first apply (revocation or expiry) anywhere
  };
  // Per node: every time it became leader; per (node, lease): every time it
  // applied the grant, every phased time it acknowledged a keep-alive.
  struct NodeView {
    std::vector<std::int64_t> leader_since;
    std::map<std::int64_t, std::vector<std::int64_t>> granted;
    std::map<std::int64_t, std::vector<std::int64_t>> kept_alive;
  };

  void Fail(const std::string& why);
  void CheckExpiry(raft::NodeId proposer, std::int64_t lease, std::int64_t proposed_ms,
                   std::int64_t applied_ms);

  std::map<std::int64_t, Lease> leases_;
  std::map<raft::NodeId, NodeView> views_;
  // Log indexes of lease commands already seen applied (first apply counts).
  std::set<std::uint64_t> seen_indexes_;
  // Applied index -> (node, digest of its lease state), bounded.
  std::map<std::uint64_t, std::pair<raft::NodeId, std::string>> audited_;
  History expiries_;
  Counters counters_;
  std::string failure_;
};

}  // namespace aspen::sim
