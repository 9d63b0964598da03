// ProgressTracker: the configuration (voters, learners) and, on the leader,
// a Progress per member; on a candidate, the votes received
// (etcd-io/raft tracker/tracker.go). Membership changes one server at a time
// (Raft thesis §4.1), so a single majority config suffices.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "raft/quorum/majority.h"
#include "raft/tracker/progress.h"
#include "raft/types.h"

namespace aspen::raft {

class ProgressTracker {
 public:
  ProgressTracker(std::size_t max_inflight, std::uint64_t max_inflight_bytes)
      : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

  // Replaces the configuration and gives every member a fresh Progress with
  // next = next_index (match 0). Requires voters and learners disjoint.
  void Reset(const pb::ConfState& cs, std::uint64_t next_index);
  // Adds or changes one member. A new member starts probing from next_index.
  void SetVoter(NodeId id, std::uint64_t next_index);
  void SetLearner(NodeId id, std::uint64_t next_index);
  void Remove(NodeId id);
  // Gives every member a fresh Progress (probe, match 0, next = next_index,
  // not recently active), keeping the configuration. Used on term changes.
  void ResetProgress(std::uint64_t next_index);

  pb::ConfState ConfState() const;
  bool IsVoter(NodeId id) const { return voters_.count(id) != 0; }
  bool IsLearner(NodeId id) const { return learners_.count(id) != 0; }
  bool IsMember(NodeId id) const { return IsVoter(id) || IsLearner(id); }
  const std::set<NodeId>& voters() const { return voters_; }
  const std::set<NodeId>& learners() const { return learners_; }
  // Is this configuration a single voter (which commits and wins alone)?
  bool IsSingleton() const { return voters_.size() == 1; }

  // Progress of a member; nullptr when id is not a member.
  Progress* Find(NodeId id);
  const Progress* Find(NodeId id) const;
  Progress& Get(NodeId id);
  // Every member's progress, in id order.
  std::map<NodeId, Progress>& progress() { return progress_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }

  // The largest index acknowledged by a majority of voters.
  std::uint64_t Committed() const;
  // Whether a majority of voters were recently active (heard from).
  bool QuorumActive() const;

  void ResetVotes() { votes_.clear(); }
  // Records id's vote (the first one per election counts).
  void RecordVote(NodeId id, bool granted);
  VoteResult TallyVotes(std::size_t* granted, std::size_t* rejected) const;

 private:
  void CheckInvariants() const;

  std::size_t max_inflight_;
  std::uint64_t max_inflight_bytes_;
  // Invariant: voters_ and learners_ are disjoint; progress_ has exactly one
  // entry per member, and progress_[id].is_learner() == IsLearner(id).
  std::set<NodeId> voters_;
  std::set<NodeId> learners_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
};

}  // namespace aspen::raft
