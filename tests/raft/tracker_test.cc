// Inflights, Progress and majority quorums.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "raft/quorum/majority.h"
#include "raft/tracker/inflights.h"
#include "raft/tracker/progress.h"
#include "raft/tracker/tracker.h"

namespace aspen::raft {
namespace {

TEST(Inflights, FullAtCapacityAndFreedByAcknowledgedIndex) {
  Inflights in(3, 0);
  in.Add(5, 10);
  in.Add(7, 10);
  in.Add(9, 10);
  EXPECT_TRUE(in.Full());
  in.FreeLE(7);
  EXPECT_EQ(in.Count(), 1u);
  EXPECT_FALSE(in.Full());
  in.Add(11, 10);
  in.Add(12, 10);  // wraps around the ring
  EXPECT_TRUE(in.Full());
  in.FreeLE(100);
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.bytes(), 0u);
}

TEST(Inflights, FullWhenByteBoundReached) {
  Inflights in(100, 25);
  in.Add(1, 10);
  in.Add(2, 10);
  EXPECT_FALSE(in.Full());
  in.Add(3, 10);
  EXPECT_TRUE(in.Full());
  in.FreeFirstOne();
  EXPECT_FALSE(in.Full());
  EXPECT_EQ(in.bytes(), 20u);
}

TEST(Progress, ProbeSendsOneMessageUntilAnswered) {
  Progress pr(0, 5, 10, 0, false);
  EXPECT_FALSE(pr.IsPaused());
  pr.UpdateOnEntriesSend(3, 30, 5);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.next(), 5u);  // probes do not move next
  EXPECT_TRUE(pr.MaybeUpdate(4));
  EXPECT_FALSE(pr.IsPaused());
}

TEST(Progress, ReplicateAdvancesNextOptimisticallyAndPausesWhenWindowFull) {
  Progress pr(4, 5, 2, 0, false);
  pr.BecomeReplicate();
  pr.UpdateOnEntriesSend(2, 20, 5);
  EXPECT_EQ(pr.next(), 7u);
  pr.UpdateOnEntriesSend(1, 10, 7);
  EXPECT_TRUE(pr.IsPaused());
  pr.inflights().FreeLE(6);
  EXPECT_FALSE(pr.IsPaused());
}

TEST(Progress, RejectionInReplicateResetsNextToMatchPlusOne) {
  Progress pr(4, 5, 10, 0, false);
  pr.BecomeReplicate();
  pr.UpdateOnEntriesSend(5, 50, 5);
  EXPECT_FALSE(pr.MaybeDecrTo(3, 3));  // stale: at or below match
  EXPECT_TRUE(pr.MaybeDecrTo(8, 8));
  EXPECT_EQ(pr.next(), 5u);
}

TEST(Progress, RejectionInProbeUsesHintButNeverGoesBelowMatch) {
  Progress pr(2, 10, 10, 0, false);
  EXPECT_FALSE(pr.MaybeDecrTo(5, 1));  // not the last probe: stale
  EXPECT_TRUE(pr.MaybeDecrTo(9, 4));
  EXPECT_EQ(pr.next(), 5u);
  EXPECT_TRUE(pr.MaybeDecrTo(4, 0));
  EXPECT_EQ(pr.next(), 3u);  // match + 1
}

TEST(Progress, SnapshotStatePausesAndProbesFromSnapshotAfterwards) {
  Progress pr(2, 3, 10, 0, false);
  pr.BecomeSnapshot(20);
  EXPECT_TRUE(pr.IsPaused());
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), 21u);
  pr.BecomeSnapshot(20);
  pr.clear_pending_snapshot();
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), 3u);
}

TEST(Majority, CommittedIndexIsTheMedianOfAcknowledgedIndexes) {
  const std::set<NodeId> voters{1, 2, 3, 4, 5};
  std::map<NodeId, std::uint64_t> acked{{1, 9}, {2, 3}, {3, 7}, {4, 1}, {5, 5}};
  EXPECT_EQ(MajorityCommittedIndex(voters, [&](NodeId id) { return acked[id]; }), 5u);
  const std::set<NodeId> four{1, 2, 3, 4};
  EXPECT_EQ(MajorityCommittedIndex(four, [&](NodeId id) { return acked[id]; }), 3u);
  EXPECT_EQ(MajorityCommittedIndex({}, [&](NodeId) { return 9u; }), 0u);
}

TEST(Majority, VoteResultWinsLosesOrWaits) {
  const std::set<NodeId> voters{1, 2, 3};
  EXPECT_EQ(MajorityVoteResult(voters, {{1, true}}), VoteResult::kPending);
  EXPECT_EQ(MajorityVoteResult(voters, {{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(MajorityVoteResult(voters, {{1, true}, {2, false}}), VoteResult::kPending);
  EXPECT_EQ(MajorityVoteResult(voters, {{1, false}, {2, false}}), VoteResult::kLost);
  // Votes of non-voters (learners) do not count.
  EXPECT_EQ(MajorityVoteResult(voters, {{1, true}, {7, true}, {8, true}}), VoteResult::kPending);
}

RC_GTEST_PROP(Majority, CommittedIndexMatchesNaiveCount, (std::vector<std::uint64_t> acks)) {
  RC_PRE(!acks.empty() && acks.size() < 12);
  std::set<NodeId> voters;
  std::map<NodeId, std::uint64_t> by_id;
  for (std::size_t k = 0; k < acks.size(); ++k) {
    voters.insert(k + 1);
    by_id[k + 1] = acks[k] % 100;
  }
  const std::uint64_t got = MajorityCommittedIndex(voters, [&](NodeId id) { return by_id[id]; });
  // Naive: the largest index that more than half of the voters have reached.
  std::uint64_t want = 0;
  for (const auto& [id, candidate] : by_id) {
    std::size_t reached = 0;
    for (const auto& [other, idx] : by_id) reached += idx >= candidate ? 1 : 0;
    if (reached * 2 > voters.size()) want = std::max(want, candidate);
  }
  RC_ASSERT(got == want);
}

TEST(ProgressTracker, QuorumActiveCountsVotersOnly) {
  ProgressTracker trk(10, 0);
  pb::ConfState cs;
  cs.add_voters(1);
  cs.add_voters(2);
  cs.add_voters(3);
  cs.add_learners(4);
  trk.Reset(cs, 1);
  for (auto& [id, pr] : trk.progress()) pr.set_recent_active(id == 1 || id == 4);
  EXPECT_FALSE(trk.QuorumActive());
  trk.Get(2).set_recent_active(true);
  EXPECT_TRUE(trk.QuorumActive());
}

TEST(ProgressTracker, PromotingALearnerKeepsItsProgress) {
  ProgressTracker trk(10, 0);
  pb::ConfState cs;
  cs.add_voters(1);
  cs.add_learners(2);
  trk.Reset(cs, 5);
  EXPECT_TRUE(trk.Get(2).MaybeUpdate(7));
  trk.SetVoter(2, 100);
  EXPECT_TRUE(trk.IsVoter(2));
  EXPECT_EQ(trk.Get(2).match(), 7u);
  EXPECT_FALSE(trk.Get(2).is_learner());
}

}  // namespace
}  // namespace aspen::raft
