// Lessor: the leader's in-memory lease deadlines (etcd's lessor).
//
// Which leases exist is replicated state (sm/, Cf::kLease): every node learns
// grants and revocations when it applies them. When a lease EXPIRES is not
// replicated: only the leader ("primary") keeps live deadlines, refreshes them
// on KeepAlive, and proposes LeaseRevoke once one passes. A node that becomes
// leader extends every lease by its full TTL (Promote), as etcd does, so a
// lease never expires early because leadership moved.
//
// Deadlines are in Clock::SteadyMs (monotonic): a wall-clock jump neither
// expires nor extends a lease.
//
// Thread safety: every method is thread-safe (one internal mutex). The Ready
// loop calls Grant/Revoke/Promote/Demote/Expired; gRPC threads call
// KeepAlive/TimeToLive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "node/env.h"

namespace aspen::node {

class Lessor {
 public:
  // `clock` is not owned and must outlive the Lessor.
  explicit Lessor(const Clock* clock);

  // A LeaseGrant was applied: the lease exists with `ttl_s`; its deadline is
  // now + ttl (on every node, so a follower that becomes leader has it).
  void Grant(std::int64_t id, std::int64_t ttl_s);
  // A LeaseRevoke was applied (or the lease is gone).
  void Revoke(std::int64_t id);
  // The state was replaced (a raft snapshot was installed): forgets every lease.
  void Clear();
  // This node became leader: every deadline becomes now + its TTL.
  void Promote();
  // This node stopped being leader: KeepAlive refuses from now on.
  void Demote();
  bool is_primary() const;

  // Leader only. FailedPrecondition "not leader" on a non-primary;
  // NotFound "lease not found"; Unavailable "lease expired ..." once the
  // deadline has passed (the revocation is due or in flight: never renew it).
  // Answers the TTL in seconds.
  Result<std::int64_t> KeepAlive(std::int64_t id);
  struct Remaining {
    std::int64_t granted_ttl_s = 0;
    std::int64_t remaining_ttl_s = 0;  // rounded up; 0 once expired
  };
  // Same errors as KeepAlive.
  Result<Remaining> TimeToLive(std::int64_t id) const;

  // Leader only (empty otherwise): up to `max` leases whose deadline passed,
  // earliest id first, skipping those marked by MarkRevoking whose retry time
  // has not come yet.
  std::vector<std::int64_t> Expired(std::size_t max) const;
  // A LeaseRevoke for `id` was proposed; do not propose another before
  // retry_at_ms (SteadyMs).
  void MarkRevoking(std::int64_t id, std::int64_t retry_at_ms);

  bool Contains(std::int64_t id) const;
  std::size_t size() const;

 private:
  struct Lease {
    std::int64_t ttl_s = 0;
    std::int64_t deadline_ms = 0;      // SteadyMs
    std::int64_t revoke_retry_ms = 0;  // 0: no revoke proposed
  };

  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::int64_t, Lease> leases_;  // guarded by mu_
  bool primary_ = false;                  // guarded by mu_
};

}  // namespace aspen::node
