// Leadership transfer (Raft thesis §3.10): MsgTransferLeader, catch-up,
// MsgTimeoutNow, proposals refused meanwhile, abort after an election timeout.
#include <gtest/gtest.h>

#include "raft/harness.h"
#include "raft/test_util.h"

namespace aspen::raft {
namespace {

using testing::Cluster;
using testing::Msg;
using testing::OfType;
using testing::Solo;

TEST(Transfer, TransferLeadershipToUpToDateFollower) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "a").Stabilize();
  const std::uint64_t term = c.raft(1).term();
  ASSERT_TRUE(c.raw(1).TransferLeadership(2).ok());
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 2u);
  EXPECT_EQ(c.raft(2).term(), term + 1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  c.Propose(2, "b").Stabilize();
  EXPECT_TRUE(c.Converged());
}

TEST(Transfer, LeaderCatchesUpLaggingTransfereeFirst) {
  Cluster c({.voters = 3});
  c.Elect(1);
  c.Isolate(3);
  for (int k = 0; k < 5; ++k) c.Propose(1, "v");
  c.Stabilize();
  c.Heal();
  ASSERT_TRUE(c.raw(1).TransferLeadership(3).ok());
  c.HandleReady(1);
  EXPECT_EQ(c.raft(1).lead_transferee(), 3u);
  EXPECT_TRUE(OfType({c.queue().begin(), c.queue().end()}, pb::MSG_TIMEOUT_NOW).empty())
      << "TimeoutNow only once the transferee's log matches";
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 3u);
  EXPECT_EQ(c.raft(3).log().LastIndex(), c.raft(1).log().LastIndex());
}

TEST(Transfer, ProposalsRefusedDuringTransfer) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.Isolate(3);
  ASSERT_TRUE(c.raw(1).TransferLeadership(3).ok());
  const Error e = c.raw(1).Propose("x");
  EXPECT_EQ(e.code(), ErrorCode::kProposalDropped);
  EXPECT_NE(e.message().find("transfer"), std::string::npos);
}

TEST(Transfer, TransferAbortsAfterElectionTimeout) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.Cut(1, 3);  // the transferee never hears from the leader
  ASSERT_TRUE(c.raw(1).TransferLeadership(3).ok());
  for (int k = 0; k < 10; ++k) c.Tick(1).Stabilize();
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
  EXPECT_EQ(c.Leader(), 1u);
  EXPECT_TRUE(c.raw(1).Propose("after-abort").ok());
}

TEST(Transfer, TransferToLearnerIsRefused) {
  Cluster c({.voters = 2, .learners = 1});
  c.Elect(1).Stabilize();
  const Error e = c.raw(1).TransferLeadership(3);
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
}

TEST(Transfer, TransferToSelfIsANoop) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  ASSERT_TRUE(c.raw(1).TransferLeadership(1).ok());
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
  EXPECT_TRUE(c.raw(1).Propose("x").ok());
}

TEST(Transfer, FollowerForwardsTransferRequestToLeader) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  ASSERT_TRUE(c.raw(3).TransferLeadership(3).ok());
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 3u);
}

TEST(Transfer, SecondTransferReplacesTheFirst) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.Isolate(3);
  ASSERT_TRUE(c.raw(1).TransferLeadership(3).ok());
  ASSERT_TRUE(c.raw(1).TransferLeadership(2).ok());
  c.Stabilize();
  EXPECT_EQ(c.Leader(), 2u);
}

TEST(Transfer, TimeoutNowMakesFollowerCampaignWithoutPreVote) {
  Solo f(2, {1, 2, 3});
  f.StepAndDrain(Msg(pb::MSG_HEARTBEAT, 1, 2, 1));
  std::vector<pb::Message> out = f.StepAndDrain(Msg(pb::MSG_TIMEOUT_NOW, 1, 2, 1));
  std::vector<pb::Message> votes = OfType(out, pb::MSG_VOTE);
  ASSERT_EQ(votes.size(), 2u);
  EXPECT_EQ(votes[0].context(), kCampaignTransfer);
  EXPECT_EQ(f.raft().term(), 2u);
}

TEST(Transfer, LearnerIgnoresTimeoutNow) {
  Solo l(3, {1, 2}, {3});
  l.StepAndDrain(Msg(pb::MSG_HEARTBEAT, 1, 3, 1));
  EXPECT_TRUE(l.StepAndDrain(Msg(pb::MSG_TIMEOUT_NOW, 1, 3, 1)).empty());
  EXPECT_EQ(l.raft().role(), Role::kFollower);
}

}  // namespace
}  // namespace aspen::raft
