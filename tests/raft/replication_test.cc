// Log replication and commitment (Raft §5.3, §5.4.2), flow control, batching,
// back-pressure and the Ready/Advance protocol.
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

pb::Message AppResp(NodeId from, std::uint64_t term, std::uint64_t index) {
  pb::Message m = Msg(pb::MSG_APP_RESP, from, 1, term);
  m.set_index(index);
  return m;
}

TEST(Replication, LeaderAppendsNoopOnElection) {
  Solo s(1, {1, 2, 3});
  std::vector<pb::Message> msgs = s.BecomeLeader();
  const RaftLog& log = s.raft().log();
  ASSERT_EQ(log.LastIndex(), 1u);
  EXPECT_EQ(log.TermOrZero(1), s.raft().term());
  EXPECT_TRUE(log.AllEntries()[0].data().empty());
  std::vector<pb::Message> apps = OfType(msgs, pb::MSG_APP);
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].entries_size(), 1);
}

TEST(Replication, LeaderCommitsAfterMajorityAcknowledges) {
  Solo s(1, {1, 2, 3, 4, 5});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  ASSERT_TRUE(s.node->Propose("x").ok());
  s.Drain();
  EXPECT_EQ(s.raft().log().committed(), 0u);
  s.StepAndDrain(AppResp(2, term, 2));
  EXPECT_EQ(s.raft().log().committed(), 0u) << "leader + 1 of 5 is not a majority";
  s.StepAndDrain(AppResp(3, term, 2));
  EXPECT_EQ(s.raft().log().committed(), 2u);
  ASSERT_EQ(s.committed.size(), 2u);
  EXPECT_EQ(s.committed[1].data(), "x");
}

TEST(Replication, LeaderCountsItselfOnlyAfterPersisting) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  s.StepAndDrain(AppResp(2, term, 1));  // noop acknowledged: 2 is replicating
  ASSERT_TRUE(s.node->Propose("x").ok());
  Ready rd = s.node->GetReady();
  EXPECT_TRUE(rd.messages_may_precede_persist) << "thesis §10.2.1: send before fsync";
  EXPECT_EQ(OfType(rd.messages, pb::MSG_APP).size(), 1u);
  // Follower 2 acknowledges before the leader's own write finished.
  ASSERT_TRUE(s.node->Step(AppResp(2, term, 2)).ok());
  EXPECT_EQ(s.raft().log().committed(), 1u) << "only the noop, acked earlier by 1 + 2";
  ASSERT_TRUE(s.storage.Append(rd.entries).ok());
  s.node->Advance();
  EXPECT_EQ(s.raft().log().committed(), 2u);
}

TEST(Replication, LeaderCommitsOnlyCurrentTermEntriesByCounting) {
  // Raft Figure 8: an entry of an older term on a majority is not committed
  // by counting; it commits when an entry of the current term does.
  Solo s(1, {1, 2, 3});
  ASSERT_TRUE(s.storage.Append({Ent(1, 1), Ent(2, 2)}).ok());
  pb::HardState hs;
  hs.set_term(2);
  s.storage.SetHardState(hs);
  Config c;
  c.id = 1;
  c.storage = &s.storage;
  s.node = std::move(RawNode::Create(c)).value();
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  ASSERT_GT(term, 2u);
  ASSERT_EQ(s.raft().log().LastIndex(), 3u);  // the noop of this term
  // Follower 2 holds entries 1-2 only: a majority has index 2, of term 2.
  s.StepAndDrain(AppResp(2, term, 2));
  EXPECT_EQ(s.raft().log().committed(), 0u);
  s.StepAndDrain(AppResp(2, term, 3));
  EXPECT_EQ(s.raft().log().committed(), 3u);
}

TEST(Replication, FollowerRejectsAppendWhenPrevLogTermMismatches) {
  Solo s(1, {1, 2, 3});
  ASSERT_TRUE(s.storage.Append({Ent(1, 1), Ent(2, 1), Ent(3, 2)}).ok());
  Config c;
  c.id = 1;
  c.storage = &s.storage;
  s.node = std::move(RawNode::Create(c)).value();
  pb::Message app = Msg(pb::MSG_APP, 2, 1, 4);
  app.set_index(3);
  app.set_log_term(3);
  *app.add_entries() = Ent(4, 4);
  std::vector<pb::Message> r = s.StepAndDrain(app);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].reject());
  EXPECT_EQ(r[0].index(), 3u);
  // Fast backup hint: the largest index with term <= 3 is 3 (term 2).
  EXPECT_EQ(r[0].reject_hint(), 3u);
  EXPECT_EQ(r[0].log_term(), 2u);
  EXPECT_EQ(s.raft().log().LastIndex(), 3u);
}

TEST(Replication, FollowerAcksWithLastNewIndexAndAdvancesCommit) {
  Solo s(1, {1, 2, 3});
  pb::Message app = Msg(pb::MSG_APP, 2, 1, 1);
  *app.add_entries() = Ent(1, 1, "a");
  *app.add_entries() = Ent(2, 1, "b");
  app.set_commit(1);
  std::vector<pb::Message> r = s.StepAndDrain(app);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].reject());
  EXPECT_EQ(r[0].index(), 2u);
  EXPECT_EQ(s.raft().log().committed(), 1u);
  ASSERT_EQ(s.committed.size(), 1u);
  EXPECT_EQ(s.committed[0].data(), "a");
}

TEST(Replication, LeaderBacksUpOneTermPerRoundTripUsingRejectHint) {
  // The follower's log diverged at term 2 for many entries; the leader
  // skips the whole term in one step rather than one index per round trip.
  Cluster c({.voters = 3});
  c.Elect(1);
  c.Isolate(1);
  for (int k = 0; k < 30; ++k) c.Propose(1, "lost-" + std::to_string(k));
  for (int k = 0; k < 30; ++k) c.Tick(2).Tick(3).Stabilize();
  const NodeId l = c.Leader();
  ASSERT_NE(l, 1u);
  for (int k = 0; k < 5; ++k) c.Propose(l, "kept-" + std::to_string(k));
  c.Stabilize();
  c.Heal();
  std::size_t rejects = 0;
  c.Tick(l, 1);
  for (int guard = 0; guard < 1000 && !c.queue().empty(); ++guard) {
    if (c.queue().front().type() == pb::MSG_APP_RESP && c.queue().front().reject()) ++rejects;
    c.DeliverAt(0);
    for (NodeId id : c.ids()) c.HandleReady(id);
  }
  c.Stabilize();
  EXPECT_LE(rejects, 3u) << "fast backup skips the 30 divergent entries at once";
  EXPECT_TRUE(c.Converged());
  EXPECT_EQ(c.node(1).applied.rbegin()->second.data, "kept-4");
}

TEST(Replication, InflightWindowBoundsUnackedAppends) {
  Config cfg;
  cfg.max_inflight_msgs = 2;
  Solo s(1, {1, 2}, {}, cfg);
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  s.StepAndDrain(AppResp(2, term, 1));  // probe answered: replicate state
  ASSERT_EQ(s.raft().tracker().Find(2)->state(), ProgressState::kReplicate);
  std::size_t sent = 0;
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(s.node->Propose("p").ok());
    sent += OfType(s.Drain(), pb::MSG_APP).size();
  }
  EXPECT_EQ(sent, 2u) << "two messages in flight, then the window is full";
  // An acknowledgement frees the window and the rest goes out in one batch.
  std::vector<pb::Message> more = OfType(s.StepAndDrain(AppResp(2, term, 3)), pb::MSG_APP);
  ASSERT_FALSE(more.empty());
  EXPECT_EQ(more.back().entries(more.back().entries_size() - 1).index(), 6u);
}

TEST(Replication, BatchesEntriesByMaxSizePerMessage) {
  Config cfg;
  cfg.max_size_per_msg = 1;  // one entry per message
  cfg.max_inflight_msgs = 100;
  Solo s(1, {1, 2}, {}, cfg);
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  for (int k = 0; k < 4; ++k) ASSERT_TRUE(s.node->Propose("payload").ok());
  s.Drain();
  std::vector<pb::Message> apps = OfType(s.StepAndDrain(AppResp(2, term, 1)), pb::MSG_APP);
  ASSERT_EQ(apps.size(), 4u);
  for (const pb::Message& m : apps) EXPECT_EQ(m.entries_size(), 1);
}

TEST(Replication, ProbeStateSendsOneAppendPerHeartbeat) {
  Solo s(1, {1, 2});
  s.BecomeLeader();  // follower 2 is probing: the noop append is unanswered
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(s.node->Propose("x").ok());
  EXPECT_TRUE(OfType(s.Drain(), pb::MSG_APP).empty());
  pb::Message hb = Msg(pb::MSG_HEARTBEAT_RESP, 2, 1, s.raft().term());
  EXPECT_EQ(OfType(s.StepAndDrain(hb), pb::MSG_APP).size(), 1u);
}

TEST(Replication, ProposalRefusedWhenUncommittedLimitReached) {
  Config cfg;
  cfg.max_uncommitted_entries_size = 10;
  Solo s(1, {1, 2, 3}, {}, cfg);
  s.BecomeLeader();
  ASSERT_TRUE(s.node->Propose("12345678").ok());
  const Error e = s.node->Propose("12345");
  EXPECT_EQ(e.code(), ErrorCode::kLimitExceeded);
  EXPECT_NE(e.message().find("max_uncommitted_entries_size"), std::string::npos);
  // Once committed and applied, the budget frees up.
  const std::uint64_t term = s.raft().term();
  s.Drain();
  s.StepAndDrain(AppResp(2, term, 2));
  EXPECT_EQ(s.raft().uncommitted_size(), 0u);
  EXPECT_TRUE(s.node->Propose("12345").ok());
}

TEST(Replication, OneLargeProposalIsAcceptedWhenNothingIsUncommitted) {
  Config cfg;
  cfg.max_uncommitted_entries_size = 4;
  Solo s(1, {1, 2, 3}, {}, cfg);
  s.BecomeLeader();
  EXPECT_TRUE(s.node->Propose("larger than the limit").ok());
}

TEST(Replication, ProposalDroppedWithoutLeader) {
  Solo s(1, {1, 2, 3});
  const Error e = s.node->Propose("x");
  EXPECT_EQ(e.code(), ErrorCode::kProposalDropped);
  s.node->Campaign();
  EXPECT_EQ(s.node->Propose("x").code(), ErrorCode::kProposalDropped);
}

TEST(Replication, FollowerForwardsProposalToLeader) {
  Cluster c({.voters = 3});
  c.Elect(1);
  c.Propose(2, "via-follower").Stabilize();
  EXPECT_EQ(c.node(3).applied.rbegin()->second.data, "via-follower");
}

TEST(Replication, ForwardingCanBeDisabled) {
  Config cfg;
  cfg.disable_proposal_forwarding = true;
  Solo s(1, {1, 2, 3}, {}, cfg);
  s.StepAndDrain(Msg(pb::MSG_HEARTBEAT, 2, 1, 1));
  EXPECT_EQ(s.node->Propose("x").code(), ErrorCode::kProposalDropped);
}

TEST(Replication, HeartbeatCommitNeverExceedsFollowerMatch) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  s.StepAndDrain(AppResp(2, term, 1));
  s.StepAndDrain(AppResp(3, term, 0));
  ASSERT_EQ(s.raft().log().committed(), 1u);
  s.node->Tick();
  for (const pb::Message& hb : OfType(s.Drain(), pb::MSG_HEARTBEAT)) {
    EXPECT_EQ(hb.commit(), hb.to() == 2 ? 1u : 0u);
  }
}

TEST(Replication, LeaderProbesBackwardUntilLogsMatchThenReplicates) {
  Solo s(1, {1, 2});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(s.node->Propose("x").ok());
  s.Drain();
  // Follower 2 has nothing: it rejects the probe at index 0 with hint 0.
  pb::Message rej = AppResp(2, term, 0);
  rej.set_reject(true);
  std::vector<pb::Message> apps = OfType(s.StepAndDrain(rej), pb::MSG_APP);
  ASSERT_EQ(apps.size(), 1u);
  EXPECT_EQ(apps[0].index(), 0u);
  EXPECT_EQ(apps[0].entries_size(), 4) << "everything from index 1";
  s.StepAndDrain(AppResp(2, term, 4));
  EXPECT_EQ(s.raft().tracker().Find(2)->state(), ProgressState::kReplicate);
  EXPECT_EQ(s.raft().log().committed(), 4u);
}

TEST(Replication, LeaderNeverOverwritesItsOwnEntries) {
  // Leader Append-Only: an append from a stale leader of an older term is
  // answered with our term and changes nothing.
  Solo s(1, {1, 2, 3});
  s.StepAndDrain(Msg(pb::MSG_HEARTBEAT, 2, 1, 1));  // node 2 led term 1
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  ASSERT_EQ(term, 2u);
  const std::uint64_t last = s.raft().log().LastIndex();
  pb::Message stale = Msg(pb::MSG_APP, 2, 1, 1);
  *stale.add_entries() = Ent(1, 1, "stale");
  std::vector<pb::Message> r = s.StepAndDrain(stale);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].term(), term);
  EXPECT_EQ(s.raft().role(), Role::kLeader);
  EXPECT_EQ(s.raft().log().LastIndex(), last);
}

TEST(Replication, StaleAppendResponsesAreIgnored) {
  Solo s(1, {1, 2});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  s.StepAndDrain(AppResp(2, term, 1));
  ASSERT_TRUE(s.node->Propose("x").ok());
  s.Drain();
  s.StepAndDrain(AppResp(2, term, 2));
  s.StepAndDrain(AppResp(2, term, 1));  // duplicate of an older ack
  EXPECT_EQ(s.raft().tracker().Find(2)->match(), 2u);
  pb::Message rej = AppResp(2, term, 1);
  rej.set_reject(true);
  s.StepAndDrain(rej);  // stale rejection below match
  EXPECT_EQ(s.raft().tracker().Find(2)->state(), ProgressState::kReplicate);
}

TEST(Replication, RestartedFollowerCatchesUp) {
  Cluster c({.voters = 3});
  c.Elect(1);
  c.Isolate(3);
  for (int k = 0; k < 20; ++k) c.Propose(1, "v" + std::to_string(k));
  c.Stabilize();
  c.Restart(3).Heal();
  c.TickAll(2).Stabilize();
  EXPECT_TRUE(c.Converged());
  EXPECT_EQ(c.node(3).applied.rbegin()->second.data, "v19");
}

TEST(Ready, MustSyncOnlyForEntriesOrTermOrVoteChanges) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  const std::uint64_t term = s.raft().term();
  ASSERT_TRUE(s.node->Propose("x").ok());
  Ready rd = s.node->GetReady();
  EXPECT_TRUE(rd.must_sync);
  ASSERT_TRUE(s.storage.Append(rd.entries).ok());
  s.node->Advance();
  ASSERT_TRUE(s.node->Step(AppResp(2, term, 2)).ok());
  rd = s.node->GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_FALSE(rd.must_sync) << "a commit index change alone need not be synced";
  ASSERT_FALSE(rd.committed_entries.empty());
  EXPECT_EQ(rd.committed_entries.back().data(), "x");
  s.node->Advance();
  EXPECT_FALSE(s.node->HasReady());
}

TEST(Ready, CandidateMessagesWaitForPersistence) {
  Solo s(1, {1, 2, 3}, {}, [] {
    Config c;
    c.pre_vote = false;
    return c;
  }());
  s.node->Campaign();
  Ready rd = s.node->GetReady();
  EXPECT_FALSE(rd.messages_may_precede_persist);
  EXPECT_TRUE(rd.must_sync);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote(), 1u);
  s.node->Advance();
}

TEST(Ready, SoftStateReportsLeaderChanges) {
  Solo s(1, {1});
  s.node->Campaign();
  Ready rd = s.node->GetReady();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, Role::kLeader);
  EXPECT_EQ(rd.soft_state->lead, 1u);
  s.node->Advance();
}

TEST(Replication, SingleVoterCommitsAfterItsOwnPersist) {
  Solo s(1, {1});
  s.node->Campaign();
  s.Drain();
  ASSERT_TRUE(s.node->Propose("solo").ok());
  s.Drain();
  ASSERT_EQ(s.committed.size(), 2u);
  EXPECT_EQ(s.committed[1].data(), "solo");
}

}  // namespace
}  // namespace aspen::raft
