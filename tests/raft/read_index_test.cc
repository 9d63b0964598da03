// ReadIndex (Raft thesis §6.4): safe mode with a heartbeat quorum, deferral
// until the leader commits in its term, batching, forwarding, lease mode.
#include <gtest/gtest.h>

#include "raft/harness.h"
#include "raft/test_util.h"

namespace aspen::raft {
namespace {

using testing::Cluster;
using testing::Msg;
using testing::OfType;
using testing::Solo;

TEST(ReadIndex, LeaderAnswersAfterHeartbeatQuorumConfirmsLeadership) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "x").Stabilize();
  ASSERT_TRUE(c.raw(1).ReadIndex("r1").ok());
  c.HandleReady(1);
  EXPECT_TRUE(c.node(1).read_states.empty()) << "no answer before the heartbeat round";
  c.Stabilize();
  ASSERT_EQ(c.node(1).read_states.size(), 1u);
  EXPECT_EQ(c.node(1).read_states[0].request_ctx, "r1");
  EXPECT_EQ(c.node(1).read_states[0].index, c.Committed(1));
}

TEST(ReadIndex, IsolatedLeaderNeverAnswers) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.Isolate(1);
  ASSERT_TRUE(c.raw(1).ReadIndex("r1").ok());
  c.Stabilize();
  EXPECT_TRUE(c.node(1).read_states.empty());
}

TEST(ReadIndex, ReadIndexWaitsForCommittedEntryInTerm) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  ASSERT_TRUE(s.node->ReadIndex("early").ok());
  std::vector<pb::Message> msgs = s.Drain();
  EXPECT_TRUE(OfType(msgs, pb::MSG_HEARTBEAT).empty()) << "deferred, no heartbeat round yet";
  EXPECT_EQ(s.raft().pending_read_count(), 1u);
  // The noop commits: the deferred read starts its heartbeat round.
  pb::Message ack = Msg(pb::MSG_APP_RESP, 2, 1, term);
  ack.set_index(1);
  msgs = s.StepAndDrain(ack);
  std::vector<pb::Message> hbs = OfType(msgs, pb::MSG_HEARTBEAT);
  ASSERT_EQ(hbs.size(), 2u);
  EXPECT_EQ(hbs[0].context(), "early");
  pb::Message hb_resp = Msg(pb::MSG_HEARTBEAT_RESP, 2, 1, term);
  hb_resp.set_context("early");
  s.StepAndDrain(hb_resp);
  ASSERT_EQ(s.reads.size(), 1u);
  EXPECT_EQ(s.reads[0].index, 1u);
}

TEST(ReadIndex, BatchedReadsConfirmedByOneHeartbeatRound) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  pb::Message ack = Msg(pb::MSG_APP_RESP, 2, 1, term);
  ack.set_index(1);
  s.StepAndDrain(ack);
  ASSERT_TRUE(s.node->ReadIndex("a").ok());
  ASSERT_TRUE(s.node->ReadIndex("b").ok());
  ASSERT_TRUE(s.node->ReadIndex("c").ok());
  s.Drain();
  // Acknowledging the newest context confirms every older request.
  pb::Message hb_resp = Msg(pb::MSG_HEARTBEAT_RESP, 3, 1, term);
  hb_resp.set_context("c");
  s.StepAndDrain(hb_resp);
  ASSERT_EQ(s.reads.size(), 3u);
  EXPECT_EQ(s.reads[0].request_ctx, "a");
  EXPECT_EQ(s.reads[2].request_ctx, "c");
}

TEST(ReadIndex, FollowerForwardsToLeaderAndGetsReadState) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "x").Stabilize();
  ASSERT_TRUE(c.raw(2).ReadIndex("from-2").ok());
  c.Stabilize();
  ASSERT_EQ(c.node(2).read_states.size(), 1u);
  EXPECT_EQ(c.node(2).read_states[0].request_ctx, "from-2");
  EXPECT_EQ(c.node(2).read_states[0].index, c.Committed(1));
  EXPECT_TRUE(c.node(1).read_states.empty());
}

TEST(ReadIndex, FollowerWithoutLeaderRefuses) {
  Solo s(1, {1, 2, 3});
  EXPECT_EQ(s.node->ReadIndex("x").code(), ErrorCode::kNoLeader);
}

TEST(ReadIndex, PendingReadsAreBounded) {
  Config cfg;
  cfg.max_pending_read_requests = 2;
  Solo s(1, {1, 2, 3}, {}, cfg);
  s.BecomeLeader();
  ASSERT_TRUE(s.node->ReadIndex("a").ok());
  ASSERT_TRUE(s.node->ReadIndex("b").ok());
  const Error e = s.node->ReadIndex("c");
  EXPECT_EQ(e.code(), ErrorCode::kLimitExceeded);
}

TEST(ReadIndex, SingleVoterAnswersWithoutRoundTrip) {
  Solo s(1, {1});
  s.node->Campaign();
  s.Drain();
  ASSERT_TRUE(s.node->ReadIndex("solo").ok());
  s.Drain();
  ASSERT_EQ(s.reads.size(), 1u);
  EXPECT_EQ(s.reads[0].index, 1u);
}

TEST(ReadIndex, LeaseBasedReadAnswersImmediately) {
  Cluster c({.voters = 3, .read_only = ReadOnlyOption::kLeaseBased});
  c.Elect(1).Stabilize();
  ASSERT_TRUE(c.raw(1).ReadIndex("lease").ok());
  c.HandleReady(1);
  ASSERT_EQ(c.node(1).read_states.size(), 1u);
  EXPECT_EQ(c.node(1).read_states[0].index, c.Committed(1));
}

TEST(ReadIndex, LeaseBasedReadRequiresCheckQuorum) {
  MemoryStorage storage;
  Config c;
  c.id = 1;
  c.storage = &storage;
  c.check_quorum = false;
  c.read_only_option = ReadOnlyOption::kLeaseBased;
  Result<std::unique_ptr<RawNode>> r = RawNode::Create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("check_quorum"), std::string::npos);
}

TEST(ReadIndex, LeaderStepDownDropsPendingReads) {
  Cluster c({.voters = 3});
  c.Elect(1).Stabilize();
  c.Isolate(1);
  ASSERT_TRUE(c.raw(1).ReadIndex("lost").ok());
  c.Tick(1, 30);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).pending_read_count(), 0u);
  c.Heal().Stabilize();
  EXPECT_TRUE(c.node(1).read_states.empty());
}

}  // namespace
}  // namespace aspen::raft
