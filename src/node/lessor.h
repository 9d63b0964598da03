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
// Waiting calls (etcd's Renew blocks in the same windows): a keep-alive of a
// lease whose deadline has passed waits until the revocation is applied (then
// NotFound) or this node stops leading; a keep-alive on a primary that has
// committed entries it has not applied yet waits until it has applied them
// (etcd's waitAppliedIndex: a revocation committed through another member
// must not be answered with a renewal); a keep-alive or time-to-live on a
// node elected leader but not yet primary (Elect, before Promote) waits
// until Promote (then answers normally) or Demote. A waiting call holds no
// thread and no lock: its callback is parked here and answered by
// AnswerWaiters, which the Ready loop calls after every Ready (where
// revocations apply and Promote/Demote happen) and every tick (for the
// bound), or by Stop. At most limits::kMaxLeaseWaiters wait at a time; each
// waits at most `wait_ms` (then Unavailable "request timed out: ...").
//
// Thread safety: every method is thread-safe (one internal mutex; callbacks
// always run with it released). The Ready loop calls Grant/Revoke/Committed/
// Applied/Elect/Promote/Demote/Expired/AnswerWaiters/Stop; gRPC threads call
// KeepAlive/TimeToLive and their waiting forms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "node/env.h"

namespace aspen::node {

class Lessor {
 public:
  struct Remaining {
    std::int64_t granted_ttl_s = 0;
    std::int64_t remaining_ttl_s = 0;  // rounded up; 0 once expired
  };
  using KeepAliveDone = std::function<void(Result<std::int64_t>)>;
  using TimeToLiveDone = std::function<void(Result<Remaining>)>;

  // `clock` is not owned and must outlive the Lessor. A waiting call waits at
  // most `wait_ms` (the node's lease_wait_timeout_ms, named in the error).
  explicit Lessor(const Clock* clock, std::int64_t wait_ms = 2500);

  // A LeaseGrant was applied: the lease exists with `ttl_s`; its deadline is
  // now + ttl (on every node, so a follower that becomes leader has it).
  void Grant(std::int64_t id, std::int64_t ttl_s);
  // A LeaseRevoke was applied (or the lease is gone).
  void Revoke(std::int64_t id);
  // The Ready loop's log positions (it calls both): Committed before a Ready
  // sends anything that tells another member of a commit index, Applied once
  // the Lessor holds every grant and revocation up to `index`. A keep-alive
  // on the primary while applied < committed waits for applied to reach the
  // committed index it saw (one comparison when nothing is pending).
  void Committed(std::uint64_t index);
  void Applied(std::uint64_t index);
  // The state was replaced (a raft snapshot was installed): forgets every lease.
  void Clear();
  // This node became raft leader; it is primary only after Promote. Until
  // then keep-alives and time-to-lives wait instead of answering "not leader".
  void Elect();
  // This node, leader, takes over the leases: every deadline becomes now + its
  // TTL.
  void Promote();
  // This node stopped being leader: KeepAlive refuses from now on.
  void Demote();
  bool is_primary() const;

  // Never waits. Leader only: FailedPrecondition "not leader" on a node that
  // is neither primary nor elected; Unavailable "not primary yet ..." on an
  // elected leader before Promote; NotFound "lease not found"; Unavailable
  // "lease expired ..." once the deadline has passed (the revocation is due or
  // in flight: never renew it). Answers the TTL in seconds.
  Result<std::int64_t> KeepAlive(std::int64_t id);
  // Same errors as KeepAlive, except that an expired lease answers
  // remaining 0.
  Result<Remaining> TimeToLive(std::int64_t id) const;

  // The waiting forms: the answer, when there is one now (`done` is then
  // dropped, not called), else nullopt and `done` is called exactly once
  // later, by AnswerWaiters or Stop: with what KeepAlive would answer once the
  // wait is over, or Unavailable "request timed out: ..." after wait_ms. A
  // node that is stopped answers Stop's status. Past kMaxLeaseWaiters waiting
  // calls: ResourceExhausted "too many requests: ..." at once.
  std::optional<Result<std::int64_t>> KeepAliveOrWait(std::int64_t id, KeepAliveDone done);
  std::optional<Result<Remaining>> TimeToLiveOrWait(std::int64_t id, TimeToLiveDone done);
  // Appends to *out the answer of every waiting call that has one now (or
  // whose time is up), as callbacks to run once the caller holds no lock.
  void AnswerWaiters(std::vector<std::function<void()>>* out);
  // The node stops: every waiting call gets `why` (into *out), and so does
  // every later KeepAliveOrWait / TimeToLiveOrWait. Idempotent.
  void Stop(const Status& why, std::vector<std::function<void()>>* out);
  std::size_t waiters() const;

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
  struct Waiter {
    std::int64_t id = 0;
    std::uint64_t apply_to = 0;    // keep-alive: answer once applied_ >= this
    std::int64_t deadline_ms = 0;  // SteadyMs; answered "request timed out" then
    KeepAliveDone keep_alive;      // exactly one of the two is set
    TimeToLiveDone time_to_live;
  };
  // What a call would do now (under mu_): answer, or wait (then *why says
  // what for, for the timeout's message).
  // *apply_to: for a keep-alive that must wait for apply, the index to reach
  // (set on arrival, kept while it waits).
  std::optional<Result<std::int64_t>> DecideKeepAliveLocked(std::int64_t id,
                                                            std::uint64_t* apply_to,
                                                            const char** why);
  std::optional<Result<Remaining>> DecideTimeToLiveLocked(std::int64_t id, const char** why) const;
  Status TimedOut(const Waiter& w, const char* why) const;
  Status TooManyWaiters() const;

  const Clock* clock_;
  const std::int64_t wait_ms_;
  mutable std::mutex mu_;
  std::map<std::int64_t, Lease> leases_;  // guarded by mu_
  bool elected_ = false;                  // guarded by mu_; raft leader (Elect..Demote)
  bool primary_ = false;                  // guarded by mu_; Promote..Demote
  std::uint64_t committed_ = 0;           // guarded by mu_
  std::uint64_t applied_ = 0;             // guarded by mu_
  // Waiting calls, in arrival order. Invariant: size <= kMaxLeaseWaiters;
  // empty once stopped_.
  std::vector<Waiter> waiters_;  // guarded by mu_
  bool stopped_ = false;         // guarded by mu_
  Status stop_reason_;           // guarded by mu_
};

}  // namespace aspen::node
