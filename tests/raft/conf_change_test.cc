// Membership changes one server at a time, applied when committed entries are
// applied; learners.
#include <gtest/gtest.h>

#include "raft/harness.h"
#include "raft/test_util.h"

namespace aspen::raft {
namespace {

using testing::Cluster;
using testing::Msg;
using testing::Solo;

pb::ConfChange CC(pb::ConfChangeType t, NodeId id) {
  pb::ConfChange cc;
  cc.set_type(t);
  cc.set_node_id(id);
  return cc;
}

TEST(ConfChange, ConfChangeRefusedWhilePending) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.Isolate(2).Isolate(3);  // the first change cannot commit
  c.ProposeConfChange(1, pb::CONF_CHANGE_ADD_LEARNER_NODE, 4);
  const Error e = c.raw(1).ProposeConfChange(CC(pb::CONF_CHANGE_ADD_LEARNER_NODE, 5));
  EXPECT_EQ(e.code(), ErrorCode::kProposalDropped);
  EXPECT_NE(e.message().find("not applied"), std::string::npos);
  c.Heal().AddNode(4).TickAll(1).Stabilize();
  ASSERT_TRUE(c.raft(1).tracker().IsLearner(4));
  EXPECT_TRUE(c.raw(1).ProposeConfChange(CC(pb::CONF_CHANGE_ADD_LEARNER_NODE, 5)).ok());
}

TEST(ConfChange, NewLeaderRefusesConfChangeUntilItAppliedItsLog) {
  // Entries 1-2 from an earlier term may hold a conf change: until the new
  // leader has applied them, it refuses another one.
  Solo s(1, {1, 2, 3});
  ASSERT_TRUE(s.storage.Append({testing::Ent(1, 1), testing::Ent(2, 1)}).ok());
  Config cfg;
  cfg.id = 1;
  cfg.storage = &s.storage;
  s.node = std::move(RawNode::Create(cfg)).value();
  s.BecomeLeader();
  const Error e = s.node->ProposeConfChange(CC(pb::CONF_CHANGE_ADD_NODE, 4));
  EXPECT_EQ(e.code(), ErrorCode::kProposalDropped);
  pb::Message ack = Msg(pb::MSG_APP_RESP, 2, 1, s.raft().term());
  ack.set_index(3);
  s.StepAndDrain(ack);
  ASSERT_EQ(s.raft().log().applied(), 3u);
  EXPECT_TRUE(s.node->ProposeConfChange(CC(pb::CONF_CHANGE_ADD_NODE, 4)).ok());
}

TEST(ConfChange, ConfigurationChangesOnlyWhenApplied) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.AddNode(4);
  c.ProposeConfChange(1, pb::CONF_CHANGE_ADD_NODE, 4);
  EXPECT_FALSE(c.raft(1).tracker().IsVoter(4)) << "appended, not yet applied";
  c.Stabilize();
  EXPECT_TRUE(c.raft(1).tracker().IsVoter(4));
  EXPECT_TRUE(c.raft(2).tracker().IsVoter(4));
}

TEST(ConfChange, AddLearnerPromoteAndReplicate) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "before").Stabilize();
  c.AddNode(4).ProposeConfChange(1, pb::CONF_CHANGE_ADD_LEARNER_NODE, 4).Stabilize();
  // The bootstrap snapshot does not name node 4, which ignores it; a fresh
  // snapshot (taken after the change was applied) does.
  c.Compact(1);
  c.raw(1).ReportSnapshot(4, true);
  c.TickAll(2).Stabilize();
  c.Propose(1, "learner-sees").TickAll(2).Stabilize();
  EXPECT_TRUE(c.raft(4).tracker().IsLearner(4));
  EXPECT_EQ(c.node(4).applied.rbegin()->second.data, "learner-sees");
  c.ProposeConfChange(1, pb::CONF_CHANGE_ADD_NODE, 4).Stabilize();
  EXPECT_TRUE(c.raft(1).tracker().IsVoter(4));
  EXPECT_TRUE(c.raft(4).Promotable());
  // Four voters: a quorum is three, so two isolated nodes block commits.
  c.Isolate(3).Isolate(4);
  const std::uint64_t before = c.Committed(1);
  c.Propose(1, "blocked").Stabilize();
  EXPECT_EQ(c.Committed(1), before);
}

TEST(ConfChange, LearnerDoesNotCountTowardQuorum) {
  Cluster c({.voters = 3, .learners = 2});
  c.Elect(1).Stabilize();
  c.Isolate(2).Isolate(3);  // leader + two learners: not a quorum
  const std::uint64_t before = c.Committed(1);
  c.Propose(1, "x").Stabilize();
  EXPECT_EQ(c.Committed(1), before);
  EXPECT_EQ(c.raft(4).log().LastIndex(), c.raft(1).log().LastIndex())
      << "learners still receive the log";
}

TEST(ConfChange, RemoveFollowerShrinksQuorum) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.ProposeConfChange(1, pb::CONF_CHANGE_REMOVE_NODE, 3).Stabilize();
  EXPECT_FALSE(c.raft(1).tracker().IsMember(3));
  c.Isolate(3);
  c.Propose(1, "two-voters").Stabilize();
  EXPECT_EQ(c.node(2).applied.rbegin()->second.data, "two-voters");
  EXPECT_FALSE(c.raft(3).Promotable()) << "the removed node applied its removal";
}

TEST(ConfChange, RemoveLeaderStepsDownAndOthersElectNewLeader) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.ProposeConfChange(1, pb::CONF_CHANGE_REMOVE_NODE, 1).Stabilize();
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_FALSE(c.raft(1).Promotable());
  c.Isolate(1);
  for (int k = 0; k < 30; ++k) c.Tick(2).Tick(3).Stabilize();
  const NodeId l = c.Leader();
  EXPECT_TRUE(l == 2 || l == 3) << "leader " << l;
  c.Propose(l, "after-removal").Stabilize();
  EXPECT_EQ(c.node(2).applied.rbegin()->second.data, "after-removal");
}

TEST(ConfChange, RemovingTheLastVoterIsRefused) {
  Solo s(1, {1});
  s.node->Campaign();
  s.Drain();
  const Error e = s.node->ProposeConfChange(CC(pb::CONF_CHANGE_REMOVE_NODE, 1));
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.node->ApplyConfChange(CC(pb::CONF_CHANGE_ADD_LEARNER_NODE, 1)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(s.raft().tracker().IsVoter(1));
}

TEST(ConfChange, ConfChangeNamingNodeZeroIsInvalid) {
  Solo s(1, {1});
  s.node->Campaign();
  s.Drain();
  EXPECT_EQ(s.node->ProposeConfChange(CC(pb::CONF_CHANGE_ADD_NODE, 0)).code(),
            ErrorCode::kInvalidArgument);
}

TEST(ConfChange, PendingConfChangeBlocksCampaign) {
  // A follower with a committed but unapplied conf change does not campaign:
  // the change could alter who may vote.
  Solo f(2, {1, 2, 3});
  pb::Message app = Msg(pb::MSG_APP, 1, 2, 1);
  pb::Entry* e = app.add_entries();
  e->set_index(1);
  e->set_term(1);
  e->set_type(pb::ENTRY_CONF_CHANGE);
  e->set_data(CC(pb::CONF_CHANGE_REMOVE_NODE, 3).SerializeAsString());
  app.set_commit(1);
  ASSERT_TRUE(f.node->Step(app).ok());
  f.node->Campaign();
  EXPECT_EQ(f.raft().role(), Role::kFollower);
}

TEST(ConfChange, DemoteVoterToLearner) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.ProposeConfChange(1, pb::CONF_CHANGE_ADD_LEARNER_NODE, 3).Stabilize();
  EXPECT_TRUE(c.raft(1).tracker().IsLearner(3));
  EXPECT_FALSE(c.raft(3).Promotable());
  c.Propose(1, "still-replicated").Stabilize();
  EXPECT_EQ(c.node(3).applied.rbegin()->second.data, "still-replicated");
}

}  // namespace
}  // namespace aspen::raft
