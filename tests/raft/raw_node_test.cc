// RawNode: config validation, rejection of malformed or misdirected input
// (never a crash), and the Ready/Advance protocol across a restart.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "raft/test_util.h"

namespace aspen::raft {
namespace {

using testing::Ent;
using testing::Msg;
using testing::Solo;

TEST(Config, ValidateNamesTheBadField) {
  MemoryStorage storage;
  Config c;
  c.storage = &storage;
  EXPECT_NE(c.Validate().message().find("id"), std::string::npos);
  c.id = 1;
  EXPECT_TRUE(c.Validate().ok());
  c.heartbeat_tick = 10;
  EXPECT_NE(c.Validate().message().find("election_tick"), std::string::npos);
  c.heartbeat_tick = 1;
  c.election_tick = Config::kMaxElectionTick + 1;
  EXPECT_NE(c.Validate().message().find("election_tick must be <="), std::string::npos);
  c.election_tick = 10;
  c.max_inflight_msgs = 0;
  EXPECT_NE(c.Validate().message().find("max_inflight_msgs"), std::string::npos);
  c.max_inflight_msgs = 4;
  c.storage = nullptr;
  EXPECT_NE(c.Validate().message().find("storage"), std::string::npos);
}

TEST(RawNode, CreateRefusesHardStateCommitPastLastIndex) {
  MemoryStorage storage;
  pb::HardState hs;
  hs.set_term(1);
  hs.set_commit(5);
  storage.SetHardState(hs);
  Config c;
  c.id = 1;
  c.storage = &storage;
  Result<std::unique_ptr<RawNode>> r = RawNode::Create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::kInvalidArgument);
}

TEST(RawNode, CreateRefusesAppliedPastCommit) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append({Ent(1, 1)}).ok());
  Config c;
  c.id = 1;
  c.storage = &storage;
  c.applied = 1;
  EXPECT_EQ(RawNode::Create(c).code(), ErrorCode::kInvalidArgument);
}

TEST(RawNode, StepRejectsLocalMessagesFromTheNetwork) {
  Solo s(1, {1, 2, 3});
  for (pb::MessageType t : {pb::MSG_HUP, pb::MSG_BEAT, pb::MSG_UNREACHABLE, pb::MSG_SNAP_STATUS,
                            pb::MSG_CHECK_QUORUM}) {
    EXPECT_EQ(s.node->Step(Msg(t, 2, 1, 1)).code(), ErrorCode::kStepLocalMsg);
  }
  EXPECT_EQ(s.raft().role(), Role::kFollower);
}

TEST(RawNode, StepRejectsResponsesFromNonMembers) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  pb::Message m = Msg(pb::MSG_APP_RESP, 9, 1, s.raft().term());
  EXPECT_EQ(s.node->Step(m).code(), ErrorCode::kStepPeerNotFound);
}

TEST(RawNode, StepRejectsMisdirectedAndMalformedMessages) {
  Solo s(1, {1, 2, 3});
  EXPECT_EQ(s.node->Step(Msg(pb::MSG_APP, 2, 7, 1)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.node->Step(Msg(pb::MSG_APP, 0, 1, 1)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.node->Step(Msg(pb::MSG_APP, 1, 1, 1)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.node->Step(Msg(pb::MSG_APP, 2, 1, 0)).code(), ErrorCode::kInvalidArgument)
      << "peer messages carry a term";
  EXPECT_EQ(s.node->Step(Msg(pb::MSG_PROP, 2, 1, 3)).code(), ErrorCode::kInvalidArgument)
      << "forwarded proposals do not";
  pb::Message bad_type = Msg(pb::MSG_APP, 2, 1, 1);
  bad_type.set_type(static_cast<pb::MessageType>(77));
  EXPECT_EQ(s.node->Step(bad_type).code(), ErrorCode::kInvalidArgument);
  pb::Message snap = Msg(pb::MSG_SNAP, 2, 1, 1);
  EXPECT_EQ(s.node->Step(snap).code(), ErrorCode::kInvalidArgument) << "empty snapshot";
  snap.mutable_snapshot()->mutable_metadata()->set_index(5);
  snap.mutable_snapshot()->mutable_metadata()->set_term(1);
  snap.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(1);
  snap.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_learners(1);
  EXPECT_EQ(s.node->Step(snap).code(), ErrorCode::kInvalidArgument) << "voter and learner";
  pb::Message ri = Msg(pb::MSG_READ_INDEX_RESP, 2, 1, 1);
  EXPECT_EQ(s.node->Step(ri).code(), ErrorCode::kInvalidArgument) << "no context entry";
}

TEST(RawNode, AppendBreakingRaftRulesIsRefusedWithoutChangingState) {
  Solo s(1, {1, 2, 3});
  pb::Message app = Msg(pb::MSG_APP, 2, 1, 1);
  *app.add_entries() = Ent(1, 1, "a");
  *app.add_entries() = Ent(2, 1, "b");
  app.set_commit(2);
  s.StepAndDrain(app);
  ASSERT_EQ(s.raft().log().committed(), 2u);
  // An append below the commit index cannot overwrite committed entries: it
  // is answered with the commit index and otherwise ignored.
  pb::Message evil = Msg(pb::MSG_APP, 3, 1, 2);
  evil.set_index(1);
  evil.set_log_term(1);
  *evil.add_entries() = Ent(2, 2, "evil");
  std::vector<pb::Message> r = s.StepAndDrain(evil);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].index(), 2u);
  EXPECT_EQ(s.raft().log().TermOrZero(2), 1u);
  // A gap inside the entries.
  pb::Message gap = Msg(pb::MSG_APP, 3, 1, 2);
  gap.set_index(2);
  gap.set_log_term(1);
  *gap.add_entries() = Ent(3, 2);
  *gap.add_entries() = Ent(5, 2);
  EXPECT_EQ(s.node->Step(gap).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.raft().log().LastIndex(), 2u);
  // A heartbeat committing past our log.
  pb::Message hb = Msg(pb::MSG_HEARTBEAT, 3, 1, 2);
  hb.set_commit(50);
  EXPECT_EQ(s.node->Step(hb).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.raft().log().committed(), 2u);
}

// Arbitrary messages from the network never crash a node; they either apply
// or are refused with an error.
RC_GTEST_PROP(RawNode, ArbitraryPeerMessagesNeverCrash, ()) {
  Solo s(1, {1, 2, 3});
  switch (*rc::gen::inRange(0, 3)) {
    case 0: break;  // fresh follower at term 0
    case 1: s.BecomeLeader(); break;
    default: {
      // A follower with a log and a term.
      pb::Message app = Msg(pb::MSG_APP, 2, 1, *rc::gen::inRange<std::uint64_t>(1, 4));
      for (std::uint64_t i = 1; i <= 3; ++i) *app.add_entries() = Ent(i, 1);
      app.set_commit(*rc::gen::inRange<std::uint64_t>(0, 4));
      s.StepAndDrain(app);
      break;
    }
  }
  const int n = *rc::gen::inRange(1, 40);
  for (int k = 0; k < n; ++k) {
    pb::Message m;
    m.set_type(static_cast<pb::MessageType>(*rc::gen::inRange(0, 20)));
    m.set_from(*rc::gen::inRange<std::uint64_t>(0, 5));
    m.set_to(*rc::gen::inRange<std::uint64_t>(0, 3));
    m.set_term(*rc::gen::inRange<std::uint64_t>(0, 6));
    m.set_index(*rc::gen::inRange<std::uint64_t>(0, 8));
    m.set_log_term(*rc::gen::inRange<std::uint64_t>(0, 6));
    m.set_commit(*rc::gen::inRange<std::uint64_t>(0, 10));
    m.set_reject(*rc::gen::arbitrary<bool>());
    m.set_reject_hint(*rc::gen::inRange<std::uint64_t>(0, 8));
    const int ents = *rc::gen::inRange(0, 4);
    const std::uint64_t first = *rc::gen::inRange<std::uint64_t>(0, 8);
    for (int e = 0; e < ents; ++e) {
      pb::Entry* ent = m.add_entries();
      ent->set_index(*rc::gen::element(first + e, first + 2 * e));
      ent->set_term(*rc::gen::inRange<std::uint64_t>(0, 6));
      ent->set_data("d");
    }
    if (*rc::gen::arbitrary<bool>()) {
      pb::SnapshotMetadata* md = m.mutable_snapshot()->mutable_metadata();
      md->set_index(*rc::gen::inRange<std::uint64_t>(0, 12));
      md->set_term(*rc::gen::inRange<std::uint64_t>(0, 6));
      md->mutable_conf_state()->add_voters(*rc::gen::inRange<std::uint64_t>(0, 4));
    }
    const Error e = s.node->Step(m);
    (void)e;
    s.Drain();
    if (*rc::gen::arbitrary<bool>()) s.node->Tick();
  }
  RC_ASSERT(s.raft().log().committed() <= s.raft().log().LastIndex());
}

TEST(RawNode, LeaderRefusesAcknowledgementPastItsLog) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  pb::Message ack = Msg(pb::MSG_APP_RESP, 2, 1, s.raft().term());
  ack.set_index(99);
  EXPECT_EQ(s.node->Step(ack).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.raft().tracker().Find(2)->match(), 0u);
}

TEST(RawNode, RestartRecoversTermVoteCommitAndLog) {
  Solo s(1, {1, 2, 3});
  s.BecomeLeader();
  pb::Message ack = Msg(pb::MSG_APP_RESP, 2, 1, s.raft().term());
  ack.set_index(1);
  s.StepAndDrain(ack);
  ASSERT_TRUE(s.node->Propose("durable").ok());
  s.Drain();
  const std::uint64_t term = s.raft().term();
  Config c;
  c.id = 1;
  c.storage = &s.storage;
  c.applied = 1;
  s.node = std::move(RawNode::Create(c)).value();
  EXPECT_EQ(s.raft().role(), Role::kFollower);
  EXPECT_EQ(s.raft().term(), term);
  EXPECT_EQ(s.raft().vote(), 1u);
  EXPECT_EQ(s.raft().log().committed(), 1u);
  EXPECT_EQ(s.raft().log().LastIndex(), 2u);
  EXPECT_FALSE(s.node->HasReady()) << "nothing new to persist or apply";
}

TEST(RawNode, GetStatusReportsRoleAndIndexes) {
  Solo s(1, {1});
  s.node->Campaign();
  s.Drain();
  const Status st = s.node->GetStatus();
  EXPECT_EQ(st.soft_state.role, Role::kLeader);
  EXPECT_EQ(st.hard_state.commit(), 1u);
  EXPECT_EQ(st.applied, 1u);
  EXPECT_EQ(st.last_index, 1u);
}

}  // namespace
}  // namespace aspen::raft
