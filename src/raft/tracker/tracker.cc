#include "raft/tracker/tracker.h"

#include "raft/raft_assert.h"

namespace aspen::raft {

void ProgressTracker::Reset(const pb::ConfState& cs, std::uint64_t next_index) {
  voters_.clear();
  learners_.clear();
  progress_.clear();
  votes_.clear();
  for (NodeId id : cs.voters()) SetVoter(id, next_index);
  for (NodeId id : cs.learners()) {
    RAFT_ASSERT_MSG(!IsVoter(id), "a node is both voter and learner in a ConfState");
    SetLearner(id, next_index);
  }
  CheckInvariants();
}

void ProgressTracker::SetVoter(NodeId id, std::uint64_t next_index) {
  RAFT_ASSERT(id != kNone);
  learners_.erase(id);
  voters_.insert(id);
  auto it = progress_.find(id);
  if (it == progress_.end()) {
    RAFT_ASSERT(next_index >= 1);
    auto pos =
        progress_.emplace(id, Progress(0, next_index, max_inflight_, max_inflight_bytes_, false))
            .first;
    // A new member counts as active until the next check-quorum round, so
    // adding it cannot make the leader step down before it had a chance to reply.
    pos->second.set_recent_active(true);
  } else {
    it->second.set_learner(false);
  }
  CheckInvariants();
}

void ProgressTracker::SetLearner(NodeId id, std::uint64_t next_index) {
  RAFT_ASSERT(id != kNone);
  voters_.erase(id);
  votes_.erase(id);
  learners_.insert(id);
  auto it = progress_.find(id);
  if (it == progress_.end()) {
    RAFT_ASSERT(next_index >= 1);
    auto pos =
        progress_.emplace(id, Progress(0, next_index, max_inflight_, max_inflight_bytes_, true))
            .first;
    pos->second.set_recent_active(true);
  } else {
    it->second.set_learner(true);
  }
  CheckInvariants();
}

void ProgressTracker::Remove(NodeId id) {
  voters_.erase(id);
  learners_.erase(id);
  progress_.erase(id);
  votes_.erase(id);
  CheckInvariants();
}

void ProgressTracker::ResetProgress(std::uint64_t next_index) {
  RAFT_ASSERT(next_index >= 1);
  for (auto& [id, pr] : progress_) {
    pr = Progress(0, next_index, max_inflight_, max_inflight_bytes_, pr.is_learner());
  }
}

pb::ConfState ProgressTracker::ConfState() const {
  pb::ConfState cs;
  for (NodeId id : voters_) cs.add_voters(id);
  for (NodeId id : learners_) cs.add_learners(id);
  return cs;
}

Progress* ProgressTracker::Find(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::Find(NodeId id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

Progress& ProgressTracker::Get(NodeId id) {
  Progress* pr = Find(id);
  RAFT_ASSERT_MSG(pr != nullptr, "no progress for a member");
  return *pr;
}

std::uint64_t ProgressTracker::Committed() const {
  return MajorityCommittedIndex(voters_, [this](NodeId id) -> std::uint64_t {
    const Progress* pr = Find(id);
    return pr == nullptr ? 0 : pr->match();
  });
}

bool ProgressTracker::QuorumActive() const {
  std::map<NodeId, bool> active;
  for (NodeId id : voters_) active[id] = Find(id)->recent_active();
  return MajorityVoteResult(voters_, active) == VoteResult::kWon;
}

void ProgressTracker::RecordVote(NodeId id, bool granted) {
  votes_.try_emplace(id, granted);
}

VoteResult ProgressTracker::TallyVotes(std::size_t* granted, std::size_t* rejected) const {
  *granted = 0;
  *rejected = 0;
  for (NodeId id : voters_) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    if (it->second) {
      ++*granted;
    } else {
      ++*rejected;
    }
  }
  return MajorityVoteResult(voters_, votes_);
}

void ProgressTracker::CheckInvariants() const {
  RAFT_ASSERT(progress_.size() == voters_.size() + learners_.size());
  for (NodeId id : learners_) RAFT_ASSERT(voters_.count(id) == 0);
  for (const auto& [id, pr] : progress_) RAFT_ASSERT(pr.is_learner() == (learners_.count(id) != 0));
}

}  // namespace aspen::raft
