// Leader election (Raft §5.2, §5.4.1), pre-vote (thesis §9.6), check-quorum
// and the vote lease.
#include <gtest/gtest.h>

#include "raft/harness.h"
#include "raft/test_util.h"

namespace aspen::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;
using testing::Ent;
using testing::Msg;
using testing::OfType;
using testing::Solo;

Config NoPreVote() {
  Config c;
  c.pre_vote = false;
  return c;
}

TEST(Election, FollowerStartsElectionAfterRandomizedTimeoutInRange) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Config c = NoPreVote();
    c.rand_seed = seed;
    Solo s(1, {1, 2, 3}, {}, c);
    const int timeout = s.raft().randomized_election_timeout();
    EXPECT_GE(timeout, c.election_tick);
    EXPECT_LT(timeout, 2 * c.election_tick);
    for (int t = 0; t < timeout - 1; ++t) s.node->Tick();
    EXPECT_EQ(s.raft().role(), Role::kFollower);
    s.node->Tick();
    EXPECT_EQ(s.raft().role(), Role::kCandidate);
  }
}

TEST(Election, RandomizedTimeoutsDifferAcrossSeeds) {
  std::set<int> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Config c;
    c.rand_seed = seed;
    Solo s(1, {1, 2, 3}, {}, c);
    seen.insert(s.raft().randomized_election_timeout());
  }
  EXPECT_GT(seen.size(), 3u);
}

TEST(Election, CandidateIncrementsTermVotesForItselfAndRequestsVotes) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  s.node->Campaign();
  EXPECT_EQ(s.raft().term(), 1u);
  EXPECT_EQ(s.raft().vote(), 1u);
  std::vector<pb::Message> votes = OfType(s.Drain(), pb::MSG_VOTE);
  ASSERT_EQ(votes.size(), 2u);
  EXPECT_EQ(votes[0].to(), 2u);
  EXPECT_EQ(votes[1].to(), 3u);
  EXPECT_EQ(votes[0].term(), 1u);
}

TEST(Election, CandidateWinsWithMajorityOfVotes) {
  Solo s(1, {1, 2, 3, 4, 5}, {}, NoPreVote());
  s.node->Campaign();
  s.Drain();
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_VOTE_RESP, 2, 1, 1)).ok());
  EXPECT_EQ(s.raft().role(), Role::kCandidate);
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_VOTE_RESP, 3, 1, 1)).ok());
  EXPECT_EQ(s.raft().role(), Role::kLeader);
}

TEST(Election, CandidateStepsDownWhenMajorityRejects) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  s.node->Campaign();
  s.Drain();
  pb::Message no = Msg(pb::MSG_VOTE_RESP, 2, 1, 1);
  no.set_reject(true);
  ASSERT_TRUE(s.node->Step(no).ok());
  no.set_from(3);
  ASSERT_TRUE(s.node->Step(no).ok());
  EXPECT_EQ(s.raft().role(), Role::kFollower);
}

TEST(Election, CandidateStepsDownOnAppendFromLeaderOfSameTerm) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  s.node->Campaign();
  s.Drain();
  pb::Message app = Msg(pb::MSG_APP, 2, 1, 1);
  s.StepAndDrain(app);
  EXPECT_EQ(s.raft().role(), Role::kFollower);
  EXPECT_EQ(s.raft().lead(), 2u);
}

TEST(Election, FollowerGrantsAtMostOneVotePerTerm) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  pb::Message v = Msg(pb::MSG_VOTE, 2, 1, 5);
  std::vector<pb::Message> r = s.StepAndDrain(v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].reject());
  EXPECT_EQ(s.raft().vote(), 2u);
  v.set_from(3);
  r = s.StepAndDrain(v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].reject());
  // The same candidate asking again gets the vote again (retransmission).
  v.set_from(2);
  r = s.StepAndDrain(v);
  EXPECT_FALSE(r[0].reject());
}

TEST(Election, CandidateGrantsNoVoteToOutOfDateLog) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  ASSERT_TRUE(s.storage.Append({Ent(1, 1), Ent(2, 3)}).ok());
  s.node = nullptr;
  Config c = NoPreVote();
  c.id = 1;
  c.storage = &s.storage;
  s.node = std::move(RawNode::Create(c)).value();
  pb::Message v = Msg(pb::MSG_VOTE, 2, 1, 5);
  v.set_index(5);
  v.set_log_term(2);  // older last term, longer log: still out of date
  std::vector<pb::Message> r = s.StepAndDrain(v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].reject());
  v.set_from(3);
  v.set_index(1);
  v.set_log_term(3);  // same last term, shorter log
  r = s.StepAndDrain(v);
  EXPECT_TRUE(r[0].reject());
  v.set_index(2);
  r = s.StepAndDrain(v);
  EXPECT_FALSE(r[0].reject());
}

TEST(Election, NodeWithHigherTermMessageBecomesFollowerOfThatTerm) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  pb::Message app = Msg(pb::MSG_APP, 2, 1, term + 3);
  s.StepAndDrain(app);
  EXPECT_EQ(s.raft().role(), Role::kFollower);
  EXPECT_EQ(s.raft().term(), term + 3);
  EXPECT_EQ(s.raft().lead(), 2u);
}

TEST(Election, StaleTermMessagesAreIgnored) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  s.StepAndDrain(Msg(pb::MSG_HEARTBEAT, 2, 1, 5));
  pb::Message stale = Msg(pb::MSG_VOTE, 3, 1, 4);
  stale.set_index(100);
  stale.set_log_term(100);
  EXPECT_TRUE(s.StepAndDrain(stale).empty());
  EXPECT_EQ(s.raft().term(), 5u);
  EXPECT_EQ(s.raft().vote(), kNone);
}

TEST(Election, SingleVoterElectsItselfImmediately) {
  Solo s(1, {1});
  s.node->Campaign();
  EXPECT_EQ(s.raft().role(), Role::kLeader);
}

TEST(PreVote, PreCandidateKeepsItsTermUntilPreVoteWins) {
  Solo s(1, {1, 2, 3});
  s.node->Campaign();
  EXPECT_EQ(s.raft().role(), Role::kPreCandidate);
  EXPECT_EQ(s.raft().term(), 0u);
  std::vector<pb::Message> pre = OfType(s.Drain(), pb::MSG_PRE_VOTE);
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_EQ(pre[0].term(), 1u);  // asks for the next term
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_PRE_VOTE_RESP, 2, 1, 1)).ok());
  EXPECT_EQ(s.raft().role(), Role::kCandidate);
  EXPECT_EQ(s.raft().term(), 1u);
}

TEST(PreVote, GrantingAPreVoteChangesNeitherTermNorVote) {
  Solo s(1, {1, 2, 3});
  pb::Message pv = Msg(pb::MSG_PRE_VOTE, 2, 1, 3);
  std::vector<pb::Message> r = s.StepAndDrain(pv);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type(), pb::MSG_PRE_VOTE_RESP);
  EXPECT_FALSE(r[0].reject());
  EXPECT_EQ(r[0].term(), 3u);
  EXPECT_EQ(s.raft().term(), 0u);
  EXPECT_EQ(s.raft().vote(), kNone);
}

TEST(PreVote, PreVoteDoesNotDisruptStableLeader) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "a").Stabilize();
  const std::uint64_t term = c.raft(1).term();
  // Node 3 is cut off and times out over and over.
  c.Isolate(3);
  c.Tick(3, 100).Stabilize();
  EXPECT_EQ(c.raft(3).term(), term) << "pre-vote never wins, so the term never moves";
  c.Heal();
  c.Tick(3, 30).TickAll(3).Stabilize();
  EXPECT_EQ(c.Leader(), 1u);
  EXPECT_EQ(c.raft(1).term(), term);
}

TEST(PreVote, WithoutPreVoteARejoiningNodeDisruptsTheLeader) {
  Cluster c({.voters = 3, .pre_vote = false, .check_quorum = false});
  c.Elect(1).Stabilize();
  const std::uint64_t term = c.raft(1).term();
  c.Isolate(3);
  c.Tick(3, 100).Stabilize();
  EXPECT_GT(c.raft(3).term(), term);
  c.Heal();
  // The leader's heartbeats carry a stale term, which node 3 ignores; when it
  // times out again, its vote request deposes the leader.
  c.Tick(3, 20).Stabilize();
  EXPECT_GT(c.raft(1).term(), term) << "the old leader learned the higher term";
}

TEST(CheckQuorum, CheckQuorumStepsDownIsolatedLeader) {
  Cluster c({.voters = 3});
  c.Elect(1);
  c.Isolate(1);
  c.Tick(1, 2 * 10 + 1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
}

TEST(CheckQuorum, LeaderStaysWhileQuorumAnswers) {
  Cluster c({.voters = 3});
  c.Elect(1);
  for (int k = 0; k < 50; ++k) c.TickAll(1).Stabilize();
  EXPECT_EQ(c.Leader(), 1u);
  c.Isolate(3);
  for (int k = 0; k < 50; ++k) c.Tick(1).Stabilize();
  EXPECT_EQ(c.Leader(), 1u) << "one lost follower out of three leaves a quorum";
}

TEST(CheckQuorum, VoteLeaseIgnoresVoteRequestsWhileLeaderIsKnown) {
  Solo s(1, {1, 2, 3});
  s.StepAndDrain(Msg(pb::MSG_HEARTBEAT, 2, 1, 2));
  pb::Message v = Msg(pb::MSG_VOTE, 3, 1, 3);
  v.set_index(10);
  v.set_log_term(2);
  EXPECT_TRUE(s.StepAndDrain(v).empty());
  EXPECT_EQ(s.raft().term(), 2u);
  // After an election timeout without the leader, the vote is considered.
  for (int t = 0; t < 10; ++t) s.node->Tick();
  s.Drain();
  EXPECT_EQ(s.raft().term(), 2u);
}

TEST(CheckQuorum, TransferCampaignBypassesVoteLease) {
  Solo s(1, {1, 2, 3});
  s.StepAndDrain(Msg(pb::MSG_HEARTBEAT, 2, 1, 2));
  pb::Message v = Msg(pb::MSG_VOTE, 3, 1, 3);
  v.set_context(std::string(kCampaignTransfer));
  std::vector<pb::Message> r = s.StepAndDrain(v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].reject());
  EXPECT_EQ(s.raft().term(), 3u);
}

TEST(CheckQuorum, StaleLeaderLearnsNewTermFromAppendResponse) {
  Cluster c({.voters = 3});
  c.Elect(1);
  c.Isolate(1);
  for (int k = 0; k < 30; ++k) c.Tick(2).Tick(3).Stabilize();
  const NodeId new_leader = c.Leader();
  ASSERT_TRUE(new_leader == 2 || new_leader == 3);
  // Node 1 has not ticked, so it still believes it leads an older term.
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  c.Heal();
  c.Tick(1, 1).Stabilize();
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.Leader(), new_leader);
}

TEST(Election, LearnerDoesNotCampaign) {
  Cluster c({.voters = 2, .learners = 1});
  c.Tick(3, 100).Stabilize();
  EXPECT_EQ(c.raft(3).role(), Role::kFollower);
  EXPECT_EQ(c.raft(3).term(), 1u);
}

TEST(Election, LearnerDoesNotVote) {
  // Votes of learners never count toward an election.
  Solo s(1, {1, 2, 3}, {4, 5}, NoPreVote());
  s.node->Campaign();
  s.Drain();
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_VOTE_RESP, 4, 1, 1)).ok());
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_VOTE_RESP, 5, 1, 1)).ok());
  EXPECT_EQ(s.raft().role(), Role::kCandidate);
  // And candidates never ask learners.
  Solo t(1, {1, 2}, {3}, NoPreVote());
  t.node->Campaign();
  for (const pb::Message& m : t.Drain()) EXPECT_NE(m.to(), 3u);
}

TEST(Election, CandidateStepsDownOnRejectionWithHigherTerm) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  s.node->Campaign();
  s.Drain();
  pb::Message no = Msg(pb::MSG_VOTE_RESP, 2, 1, 7);
  no.set_reject(true);
  ASSERT_TRUE(s.node->Step(no).ok());
  EXPECT_EQ(s.raft().role(), Role::kFollower);
  EXPECT_EQ(s.raft().term(), 7u);
  EXPECT_EQ(s.raft().vote(), kNone);
}

TEST(Election, StaleVoteResponsesFromEarlierTermAreIgnored) {
  Solo s(1, {1, 2, 3}, {}, NoPreVote());
  s.node->Campaign();  // term 1
  s.Drain();
  for (int t = 0; t < 2 * 10; ++t) s.node->Tick();  // times out: term 2
  s.Drain();
  ASSERT_EQ(s.raft().term(), 2u);
  ASSERT_TRUE(s.node->Step(Msg(pb::MSG_VOTE_RESP, 2, 1, 1)).ok());
  EXPECT_EQ(s.raft().role(), Role::kCandidate) << "a grant for term 1 does not elect in term 2";
}

TEST(PreVote, PreVoteRejectedByNodeWithMoreUpToDateLog) {
  Solo s(1, {1, 2, 3});
  ASSERT_TRUE(s.storage.Append({Ent(1, 1), Ent(2, 2)}).ok());
  Config c;
  c.id = 1;
  c.storage = &s.storage;
  s.node = std::move(RawNode::Create(c)).value();
  pb::Message pv = Msg(pb::MSG_PRE_VOTE, 2, 1, 3);
  pv.set_index(5);
  pv.set_log_term(1);
  // At term 0 the rejection is silent (it could carry no term).
  EXPECT_TRUE(s.StepAndDrain(pv).empty());
  pb::HardState hs;
  hs.set_term(2);
  s.storage.SetHardState(hs);
  s.node = std::move(RawNode::Create(c)).value();
  std::vector<pb::Message> r = s.StepAndDrain(pv);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].reject());
  EXPECT_EQ(r[0].term(), 2u) << "a rejection carries our own term";
  EXPECT_EQ(s.raft().term(), 2u) << "and a pre-vote never moves it";
}

TEST(PreVote, LosingPreVoteLeavesTermUnchanged) {
  Solo s(1, {1, 2, 3});
  pb::HardState hs;
  hs.set_term(2);
  s.storage.SetHardState(hs);
  Config c;
  c.id = 1;
  c.storage = &s.storage;
  s.node = std::move(RawNode::Create(c)).value();
  s.node->Campaign();
  s.Drain();
  // Peers at our own term reject (their logs are more up to date).
  pb::Message no = Msg(pb::MSG_PRE_VOTE_RESP, 2, 1, 2);
  no.set_reject(true);
  ASSERT_TRUE(s.node->Step(no).ok());
  no.set_from(3);
  ASSERT_TRUE(s.node->Step(no).ok());
  EXPECT_EQ(s.raft().role(), Role::kFollower);
  EXPECT_EQ(s.raft().term(), 2u);
}

TEST(PreVote, RejectionFromHigherTermMakesPreCandidateFollowThatTerm) {
  Solo s(1, {1, 2, 3});
  s.node->Campaign();
  s.Drain();
  pb::Message no = Msg(pb::MSG_PRE_VOTE_RESP, 2, 1, 5);
  no.set_reject(true);
  ASSERT_TRUE(s.node->Step(no).ok());
  EXPECT_EQ(s.raft().role(), Role::kFollower);
  EXPECT_EQ(s.raft().term(), 5u);
}

TEST(Election, RemovedNodeCannotDisruptCluster) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.ProposeConfChange(1, pb::CONF_CHANGE_REMOVE_NODE, 3).Stabilize();
  const std::uint64_t term = c.raft(1).term();
  c.Tick(3, 100).Stabilize();
  EXPECT_EQ(c.raft(3).term(), term) << "a removed node never campaigns";
  EXPECT_EQ(c.Leader(), 1u);
}

TEST(Election, ElectionWithPartitionedMinorityStillElectsLeader) {
  Cluster c({.voters = 5});
  c.Partition({1, 2}, {3, 4, 5});
  c.Tick(3, 30).Stabilize();
  const NodeId l = c.Leader();
  EXPECT_TRUE(l == 3 || l == 4 || l == 5);
  c.Tick(1, 30).Stabilize();
  EXPECT_NE(c.raft(1).role(), Role::kLeader) << "a minority cannot elect a leader";
}

}  // namespace
}  // namespace aspen::raft
