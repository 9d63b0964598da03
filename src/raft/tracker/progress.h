// Progress: the leader's view of one follower (etcd-io/raft tracker/progress.go).
//
// States:
//   Probe:     the leader does not know where the follower's log matches. It
//              sends at most one MsgApp per heartbeat interval and moves `next`
//              back on each rejection (using the follower's hint).
//   Replicate: the follower is caught up to `match`; the leader streams entries
//              optimistically (next advances on send), bounded by inflights.
//   Snapshot:  the follower needs entries the leader has compacted; a snapshot
//              is in flight and nothing else is sent until it is reported.
#pragma once

#include <cstdint>
#include <string_view>

#include "raft/tracker/inflights.h"

namespace aspen::raft {

enum class ProgressState { kProbe, kReplicate, kSnapshot };

std::string_view ProgressStateName(ProgressState s);

class Progress {
 public:
  Progress(std::uint64_t match, std::uint64_t next, std::size_t max_inflight,
           std::uint64_t max_inflight_bytes, bool is_learner);

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(std::uint64_t snapshot_index);

  // The leader sent a MsgApp of `entries` entries (`bytes` payload bytes)
  // starting at `next_index`, or an empty one (a probe or commit update).
  void UpdateOnEntriesSend(std::size_t entries, std::uint64_t bytes, std::uint64_t next_index);
  // The follower acknowledged index n; true when match moved forward.
  bool MaybeUpdate(std::uint64_t n);
  // The follower rejected a MsgApp at index `rejected`; `match_hint` is the
  // largest index it may match. False when the rejection is stale.
  bool MaybeDecrTo(std::uint64_t rejected, std::uint64_t match_hint);
  // Whether the leader must hold off sending MsgApp to this follower.
  bool IsPaused() const;

  std::uint64_t match() const { return match_; }
  std::uint64_t next() const { return next_; }
  ProgressState state() const { return state_; }
  std::uint64_t pending_snapshot() const { return pending_snapshot_; }
  // A snapshot send failed: the next probe starts from match, not the snapshot.
  void clear_pending_snapshot() { pending_snapshot_ = 0; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool v) { recent_active_ = v; }
  bool probe_sent() const { return probe_sent_; }
  // Heartbeat responses let a probing leader send again.
  void clear_probe_sent() { probe_sent_ = false; }
  void pause_probe() { probe_sent_ = true; }
  bool is_learner() const { return is_learner_; }
  void set_learner(bool v) { is_learner_ = v; }
  Inflights& inflights() { return inflights_; }
  const Inflights& inflights() const { return inflights_; }

 private:
  void ResetState(ProgressState state);

  // Invariant: match_ < next_. match_ is the highest index known to be in the
  // follower's log; next_ is the next index to send.
  std::uint64_t match_;
  std::uint64_t next_;
  ProgressState state_ = ProgressState::kProbe;
  // Invariant: non-zero only in kSnapshot state: the index of the snapshot sent.
  std::uint64_t pending_snapshot_ = 0;
  // Heard from since the last check-quorum round.
  bool recent_active_ = false;
  // Probe state: a MsgApp was sent and neither answered nor a heartbeat
  // interval has passed.
  bool probe_sent_ = false;
  Inflights inflights_;
  bool is_learner_;
};

}  // namespace aspen::raft
