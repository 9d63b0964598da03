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

// The leader sends MsgTimeoutNow once. A transferee that has a committed conf
// change it has not applied yet may not campaign (the change could alter who
// votes); it campaigns as soon as the change is applied instead of dropping
// the hand-over (the leader would wait an election timeout and abort it).
TEST(Transfer, TimeoutNowWaitsForCommittedConfChangeToApplyThenCampaigns) {
  Solo s(2, {1, 2, 3});
  pb::ConfChange cc;
  cc.set_type(pb::CONF_CHANGE_ADD_LEARNER_NODE);
  cc.set_node_id(4);
  pb::Message app = Msg(pb::MSG_APP, 1, 2, 1);
  app.set_index(0);
  app.set_log_term(0);
  app.set_commit(1);
  pb::Entry* e = app.add_entries();
  e->set_index(1);
  e->set_term(1);
  e->set_type(pb::ENTRY_CONF_CHANGE);
  e->set_data(cc.SerializeAsString());
  ASSERT_TRUE(s.node->Step(app).ok());
  Ready rd = s.node->GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  ASSERT_TRUE(s.storage.Append(rd.entries).ok());
  if (rd.hard_state) s.storage.SetHardState(*rd.hard_state);

  // Committed, not applied: the hand-over waits.
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_TIMEOUT_NOW, 1, 2, 1)).ok());
  EXPECT_EQ(s.raft().role(), Role::kFollower);
  EXPECT_EQ(s.raft().term(), 1u);
  EXPECT_TRUE(s.raft().transfer_campaign_deferred());

  // Applied: the transfer campaign starts (no pre-vote, transfer context).
  s.node->Advance();
  EXPECT_EQ(s.raft().role(), Role::kCandidate);
  EXPECT_EQ(s.raft().term(), 2u);
  std::vector<pb::Message> votes = OfType(s.Drain(), pb::MSG_VOTE);
  ASSERT_EQ(votes.size(), 2u);
  EXPECT_EQ(votes[0].context(), std::string(kCampaignTransfer));
}

TEST(Transfer, DeferredTransferCampaignLapsesAfterAnElectionTimeout) {
  Solo s(2, {1, 2, 3});  // election_tick 10
  pb::ConfChange cc;
  cc.set_type(pb::CONF_CHANGE_ADD_LEARNER_NODE);
  cc.set_node_id(4);
  pb::Message app = Msg(pb::MSG_APP, 1, 2, 1);
  app.set_commit(1);
  pb::Entry* e = app.add_entries();
  e->set_index(1);
  e->set_term(1);
  e->set_type(pb::ENTRY_CONF_CHANGE);
  e->set_data(cc.SerializeAsString());
  ASSERT_TRUE(s.node->Step(app).ok());
  Ready rd = s.node->GetReady();
  ASSERT_TRUE(s.storage.Append(rd.entries).ok());
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_TIMEOUT_NOW, 1, 2, 1)).ok());
  ASSERT_TRUE(s.raft().transfer_campaign_deferred());
  // The leader keeps the follower's election timer reset meanwhile.
  for (int t = 0; t < 10; ++t) {
    s.node->Tick();
    ASSERT_TRUE(s.node->Step(Msg(pb::MSG_HEARTBEAT, 1, 2, 1)).ok());
  }
  EXPECT_FALSE(s.raft().transfer_campaign_deferred());
  s.node->Advance();
  EXPECT_EQ(s.raft().role(), Role::kFollower) << "a stale hand-over must not start an election";
}

}  // namespace
}  // namespace aspen::raft
