#include "raft/tracker/progress.h"

#include <algorithm>

#include "raft/raft_assert.h"

namespace aspen::raft {

std::string_view ProgressStateName(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe: return "Probe";
    case ProgressState::kReplicate: return "Replicate";
    case ProgressState::kSnapshot: return "Snapshot";
  }
  return "Unknown";
}

Progress::Progress(std::uint64_t match, std::uint64_t next, std::size_t max_inflight,
                   std::uint64_t max_inflight_bytes, bool is_learner)
    : match_(match),
      next_(next),
      inflights_(max_inflight, max_inflight_bytes),
      is_learner_(is_learner) {
  RAFT_ASSERT(match_ < next_);
}

void Progress::ResetState(ProgressState state) {
  probe_sent_ = false;
  pending_snapshot_ = 0;
  state_ = state;
  inflights_.Reset();
}

void Progress::BecomeProbe() {
  // After a snapshot, probe from the snapshot's index on; else from match.
  if (state_ == ProgressState::kSnapshot) {
    const std::uint64_t pending = pending_snapshot_;
    ResetState(ProgressState::kProbe);
    next_ = std::max(match_ + 1, pending + 1);
  } else {
    ResetState(ProgressState::kProbe);
    next_ = match_ + 1;
  }
  RAFT_ASSERT(match_ < next_);
}

void Progress::BecomeReplicate() {
  ResetState(ProgressState::kReplicate);
  next_ = match_ + 1;
}

void Progress::BecomeSnapshot(std::uint64_t snapshot_index) {
  ResetState(ProgressState::kSnapshot);
  pending_snapshot_ = snapshot_index;
  RAFT_ASSERT(pending_snapshot_ > 0);
}

void Progress::UpdateOnEntriesSend(std::size_t entries, std::uint64_t bytes,
                                   std::uint64_t next_index) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (entries > 0) {
        const std::uint64_t last = next_index + entries - 1;
        RAFT_ASSERT(last >= next_);
        next_ = last + 1;
        inflights_.Add(last, bytes);
      }
      break;
    case ProgressState::kProbe:
      // One MsgApp per heartbeat interval until the follower answers.
      if (entries > 0) probe_sent_ = true;
      break;
    case ProgressState::kSnapshot:
      RAFT_ASSERT_MSG(false, "sending entries to a follower in snapshot state");
  }
}

bool Progress::MaybeUpdate(std::uint64_t n) {
  bool updated = false;
  if (match_ < n) {
    match_ = n;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, n + 1);
  RAFT_ASSERT(match_ < next_);
  return updated;
}

bool Progress::MaybeDecrTo(std::uint64_t rejected, std::uint64_t match_hint) {
  if (state_ == ProgressState::kReplicate) {
    // Stale rejection of an index already matched.
    if (rejected <= match_) return false;
    // Optimistic sends were wrong: resend from just after the match.
    next_ = match_ + 1;
    return true;
  }
  // In probe (and snapshot) state only the last probe's rejection counts.
  if (next_ - 1 != rejected) return false;
  next_ = std::max(std::min(rejected, match_hint + 1), match_ + 1);
  probe_sent_ = false;
  RAFT_ASSERT(match_ < next_);
  return true;
}

bool Progress::IsPaused() const {
  switch (state_) {
    case ProgressState::kProbe: return probe_sent_;
    case ProgressState::kReplicate: return inflights_.Full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

}  // namespace aspen::raft
