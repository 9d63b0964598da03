// Coalescing of queued raft messages (server/peer_coalesce.h): which pairs
// fold into one message, and that a real raft follower and leader end in the
// same state whether they receive the messages one by one or coalesced.
#include "server/peer_coalesce.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "raft/test_util.h"

namespace aspen::server {
namespace {

namespace rpb = raft::pb;
using raft::testing::Ent;
using raft::testing::Solo;

rpb::Message App(std::uint64_t index, std::uint64_t log_term, std::vector<rpb::Entry> ents,
                 std::uint64_t commit, std::uint64_t term = 2) {
  rpb::Message m = raft::testing::Msg(rpb::MSG_APP, 1, 2, term);
  m.set_index(index);
  m.set_log_term(log_term);
  m.set_commit(commit);
  for (rpb::Entry& e : ents) *m.add_entries() = std::move(e);
  return m;
}

rpb::Message Resp(std::uint64_t index, bool reject = false) {
  rpb::Message m = raft::testing::Msg(rpb::MSG_APP_RESP, 2, 1, 2);
  m.set_index(index);
  m.set_reject(reject);
  if (reject) m.set_reject_hint(index - 1);
  return m;
}

rpb::Message Prop(std::string data, rpb::EntryType type = rpb::ENTRY_NORMAL) {
  rpb::Message m = raft::testing::Msg(rpb::MSG_PROP, 2, 1, 0);
  rpb::Entry* e = m.add_entries();
  e->set_type(type);
  e->set_data(std::move(data));
  return m;
}

// Folds `next` into `tail` the way PeerTransport does.
bool Fold(rpb::Message* tail, rpb::Message next, std::size_t max = kMaxCoalescedMessageBytes) {
  std::size_t tail_bytes = tail->ByteSizeLong();
  const bool merged = CoalesceInto(tail, &tail_bytes, &next, next.ByteSizeLong(), max);
  if (merged) {
    EXPECT_GE(tail_bytes, tail->ByteSizeLong());
  }
  return merged;
}

TEST(PeerCoalesceTest, ConsecutiveAppendsFoldIntoOneWithTheLaterCommit) {
  rpb::Message tail = App(5, 2, {Ent(6, 2, "a"), Ent(7, 2, "b")}, 4);
  ASSERT_TRUE(Fold(&tail, App(7, 2, {Ent(8, 2, "c")}, 6)));
  EXPECT_EQ(tail.index(), 5u);
  EXPECT_EQ(tail.log_term(), 2u);
  EXPECT_EQ(tail.commit(), 6u);
  ASSERT_EQ(tail.entries_size(), 3);
  EXPECT_EQ(tail.entries(2).index(), 8u);
  EXPECT_EQ(tail.entries(2).data(), "c");
}

TEST(PeerCoalesceTest, AppendsThatDoNotContinueEachOtherStayApart) {
  const rpb::Message base = App(5, 2, {Ent(6, 2, "a")}, 4);
  rpb::Message tail = base;
  EXPECT_FALSE(Fold(&tail, App(7, 2, {Ent(8, 2, "c")}, 6)));      // gap
  EXPECT_FALSE(Fold(&tail, App(6, 1, {Ent(7, 2, "c")}, 6)));      // other log term
  EXPECT_FALSE(Fold(&tail, App(6, 2, {Ent(7, 3, "c")}, 6, 3)));   // other message term
  EXPECT_FALSE(Fold(&tail, App(5, 2, {Ent(6, 2, "a2")}, 4)));     // a resend
  EXPECT_FALSE(Fold(&tail, App(6, 2, {Ent(7, 2, "c")}, 3)));      // commit going back
  EXPECT_EQ(tail.SerializeAsString(), base.SerializeAsString());  // untouched
}

TEST(PeerCoalesceTest, EmptyAppendIsSupersededByAContinuationAtTheSamePosition) {
  rpb::Message tail = App(5, 2, {}, 4);
  ASSERT_TRUE(Fold(&tail, App(5, 2, {Ent(6, 2, "a")}, 5)));
  EXPECT_EQ(tail.entries_size(), 1);
  EXPECT_EQ(tail.commit(), 5u);
}

TEST(PeerCoalesceTest, MergedAppendStaysWithinTheByteBound) {
  rpb::Message tail = App(5, 2, {Ent(6, 2, std::string(600, 'x'))}, 4);
  EXPECT_FALSE(Fold(&tail, App(6, 2, {Ent(7, 2, std::string(600, 'y'))}, 4), 1000));
  EXPECT_TRUE(Fold(&tail, App(6, 2, {Ent(7, 2, std::string(600, 'y'))}, 4), 2000));
}

TEST(PeerCoalesceTest, LaterAcceptingAppendResponseSupersedesTheEarlierOne) {
  rpb::Message tail = Resp(7);
  ASSERT_TRUE(Fold(&tail, Resp(9)));
  EXPECT_EQ(tail.index(), 9u);
  EXPECT_FALSE(Fold(&tail, Resp(8)));  // never moves back
  EXPECT_EQ(tail.index(), 9u);
}

TEST(PeerCoalesceTest, RejectionsHeartbeatsAndVotesAreNeverMerged) {
  rpb::Message tail = Resp(7);
  EXPECT_FALSE(Fold(&tail, Resp(9, /*reject=*/true)));
  rpb::Message rejected = Resp(9, /*reject=*/true);
  EXPECT_FALSE(Fold(&rejected, Resp(10)));
  for (rpb::MessageType t : {rpb::MSG_HEARTBEAT, rpb::MSG_HEARTBEAT_RESP, rpb::MSG_VOTE,
                             rpb::MSG_VOTE_RESP, rpb::MSG_READ_INDEX}) {
    rpb::Message a = raft::testing::Msg(t, 1, 2, 2);
    rpb::Message b = raft::testing::Msg(t, 1, 2, 2);
    EXPECT_FALSE(Fold(&a, b)) << rpb::MessageType_Name(t);
  }
  rpb::Message hb = raft::testing::Msg(rpb::MSG_HEARTBEAT_RESP, 2, 1, 2);
  hb.set_context("r2.1");
  rpb::Message hb2 = hb;
  hb2.set_context("r2.2");
  EXPECT_FALSE(Fold(&hb, hb2));
}

TEST(PeerCoalesceTest, ForwardedProposalsFoldInOrderButConfChangesStayApart) {
  rpb::Message tail = Prop("a");
  ASSERT_TRUE(Fold(&tail, Prop("b")));
  ASSERT_EQ(tail.entries_size(), 2);
  EXPECT_EQ(tail.entries(0).data(), "a");
  EXPECT_EQ(tail.entries(1).data(), "b");
  EXPECT_FALSE(Fold(&tail, Prop("cc", rpb::ENTRY_CONF_CHANGE)));
  rpb::Message conf = Prop("cc", rpb::ENTRY_CONF_CHANGE);
  EXPECT_FALSE(Fold(&conf, Prop("c")));
}

// Folds a sequence the way one peer's queue does: each message into the
// newest queued one when allowed, else appended.
std::vector<rpb::Message> FoldAll(const std::vector<rpb::Message>& msgs) {
  std::vector<rpb::Message> out;
  for (const rpb::Message& m : msgs) {
    if (!out.empty() && Fold(&out.back(), m)) continue;
    out.push_back(m);
  }
  return out;
}

// A leader with followers 2 and 3 replicating to 2: the appends of many
// single proposals, delivered one by one to one follower and coalesced to
// another, leave both followers with the same log and commit index, and the
// leader records the same match index from either follower's answers.
TEST(PeerCoalesceTest, RaftFollowerAndLeaderEndTheSameWithCoalescedMessages) {
  Solo leader(1, {1, 2, 3});
  Solo plain(2, {1, 2, 3});
  Solo folded(2, {1, 2, 3});
  std::vector<rpb::Message> first = raft::testing::OfType(leader.BecomeLeader(), rpb::MSG_APP);
  // The first append (the leader's empty entry) brings both followers in.
  for (const rpb::Message& m : first) {
    if (m.to() != 2) continue;
    plain.StepAndDrain(m);
    for (const rpb::Message& r : folded.StepAndDrain(m)) ASSERT_TRUE(leader.node->Step(r).ok());
  }
  leader.Drain();
  std::vector<rpb::Message> to2;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(leader.node->Propose("v" + std::to_string(i)).ok());
    for (rpb::Message& m : leader.Drain()) {
      if (m.to() == 2 && m.type() == rpb::MSG_APP) to2.push_back(std::move(m));
    }
    if (i == 20) {
      // Follower 3 acknowledges so far: later appends carry a higher commit.
      rpb::Message ack = raft::testing::Msg(rpb::MSG_APP_RESP, 3, 1, leader.raft().term());
      ack.set_index(leader.raft().log().LastIndex());
      ASSERT_TRUE(leader.node->Step(ack).ok());
      leader.Drain();
    }
  }
  ASSERT_GE(to2.size(), 40u);
  const std::vector<rpb::Message> merged = FoldAll(to2);
  EXPECT_LT(merged.size(), to2.size() / 4);

  std::vector<rpb::Message> plain_resps, folded_resps;
  for (const rpb::Message& m : to2) {
    for (rpb::Message& r : plain.StepAndDrain(m)) plain_resps.push_back(std::move(r));
  }
  for (const rpb::Message& m : merged) {
    for (rpb::Message& r : folded.StepAndDrain(m)) folded_resps.push_back(std::move(r));
  }
  EXPECT_EQ(plain.raft().log().LastIndex(), leader.raft().log().LastIndex());
  EXPECT_EQ(folded.raft().log().LastIndex(), plain.raft().log().LastIndex());
  EXPECT_EQ(folded.raft().log().committed(), plain.raft().log().committed());
  EXPECT_GT(folded.raft().log().committed(), 1u);
  ASSERT_EQ(folded.committed.size(), plain.committed.size());
  for (std::size_t i = 0; i < plain.committed.size(); ++i) {
    EXPECT_EQ(folded.committed[i].SerializeAsString(), plain.committed[i].SerializeAsString());
  }
  // The answers, coalesced too, acknowledge the same last index.
  const std::vector<rpb::Message> resps = FoldAll(folded_resps);
  EXPECT_EQ(resps.size(), 1u);
  for (const rpb::Message& r : resps) ASSERT_TRUE(leader.node->Step(r).ok());
  EXPECT_EQ(leader.raft().tracker().Find(2)->match(), plain_resps.back().index());
  EXPECT_EQ(leader.raft().tracker().Find(2)->match(), leader.raft().log().LastIndex());
}

// Folds a sequence in windows: a message never folds into one taken by the
// sender before it (`cut[i]`: the sender drained the queue before message i).
std::vector<rpb::Message> FoldWindows(const std::vector<rpb::Message>& msgs,
                                      const std::vector<bool>& cut) {
  std::vector<rpb::Message> out;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (!out.empty() && !cut[i] && Fold(&out.back(), msgs[i])) continue;
    out.push_back(msgs[i]);
  }
  return out;
}

std::vector<bool> Cuts(std::size_t n) {
  return *rc::gen::container<std::vector<bool>>(
      n, rc::gen::weightedElement<bool>({{1, true}, {3, false}}));
}

// Any number of proposals of any size, commit advancing at random points and
// the sender taking the queue at random points: the follower fed the
// coalesced appends ends with the same log, commit and applied entries as
// the one fed every append, and acknowledges the same last index.
RC_GTEST_PROP(PeerCoalesceProperty, CoalescedAppendsLeaveTheFollowerAsOneByOne, ()) {
  Solo leader(1, {1, 2, 3});
  Solo plain(2, {1, 2, 3});
  Solo folded(2, {1, 2, 3});
  for (const rpb::Message& m : raft::testing::OfType(leader.BecomeLeader(), rpb::MSG_APP)) {
    if (m.to() != 2) continue;
    plain.StepAndDrain(m);
    for (const rpb::Message& r : folded.StepAndDrain(m)) RC_ASSERT(leader.node->Step(r).ok());
  }
  leader.Drain();
  const int n = *rc::gen::inRange(1, 60);
  std::vector<rpb::Message> to2;
  for (int i = 0; i < n; ++i) {
    const std::size_t size = *rc::gen::inRange<std::size_t>(0, 300);
    RC_ASSERT(leader.node->Propose(std::string(size, static_cast<char>('a' + i % 26))).ok());
    for (rpb::Message& m : leader.Drain()) {
      if (m.to() == 2 && m.type() == rpb::MSG_APP) to2.push_back(std::move(m));
    }
    if (*rc::gen::inRange(0, 4) == 0) {  // follower 3 catches up: the commit moves
      rpb::Message ack = raft::testing::Msg(rpb::MSG_APP_RESP, 3, 1, leader.raft().term());
      ack.set_index(leader.raft().log().LastIndex());
      RC_ASSERT(leader.node->Step(ack).ok());
      for (rpb::Message& m : leader.Drain()) {
        if (m.to() == 2 && m.type() == rpb::MSG_APP) to2.push_back(std::move(m));
      }
    }
  }
  const std::vector<rpb::Message> merged = FoldWindows(to2, Cuts(to2.size()));
  RC_ASSERT(merged.size() <= to2.size());
  std::vector<rpb::Message> plain_resps, folded_resps;
  for (const rpb::Message& m : to2) {
    for (rpb::Message& r : plain.StepAndDrain(m)) plain_resps.push_back(std::move(r));
  }
  for (const rpb::Message& m : merged) {
    for (rpb::Message& r : folded.StepAndDrain(m)) folded_resps.push_back(std::move(r));
  }
  RC_ASSERT(folded.raft().log().LastIndex() == plain.raft().log().LastIndex());
  RC_ASSERT(plain.raft().log().LastIndex() == leader.raft().log().LastIndex());
  RC_ASSERT(folded.raft().log().committed() == plain.raft().log().committed());
  RC_ASSERT(folded.committed.size() == plain.committed.size());
  for (std::size_t i = 0; i < plain.committed.size(); ++i) {
    RC_ASSERT(folded.committed[i].SerializeAsString() == plain.committed[i].SerializeAsString());
  }
  const std::vector<rpb::Message> acks = FoldWindows(folded_resps, Cuts(folded_resps.size()));
  RC_ASSERT(!acks.empty());
  for (const rpb::Message& r : acks) RC_ASSERT(!r.reject());
  RC_ASSERT(acks.back().index() == plain_resps.back().index());
}

// Proposals a follower forwards, folded at random points, append the same
// entries in the same order on the leader as when forwarded one by one.
RC_GTEST_PROP(PeerCoalesceProperty, CoalescedProposalsAppendTheSameEntries, ()) {
  Solo plain_leader(1, {1, 2, 3});
  Solo folded_leader(1, {1, 2, 3});
  Solo follower(2, {1, 2, 3});
  const std::vector<rpb::Message> first = plain_leader.BecomeLeader();
  folded_leader.BecomeLeader();
  for (const rpb::Message& m : raft::testing::OfType(first, rpb::MSG_APP)) {
    if (m.to() == 2) follower.StepAndDrain(m);  // it learns who leads
  }
  const int n = *rc::gen::inRange(1, 60);
  std::vector<rpb::Message> props;
  for (int i = 0; i < n; ++i) {
    RC_ASSERT(follower.node->Propose("p" + std::to_string(i)).ok());
    for (rpb::Message& m : follower.Drain()) {
      if (m.type() == rpb::MSG_PROP) props.push_back(std::move(m));
    }
  }
  RC_ASSERT(props.size() == static_cast<std::size_t>(n));
  for (const rpb::Message& m : props) RC_ASSERT(plain_leader.node->Step(m).ok());
  for (const rpb::Message& m : FoldWindows(props, Cuts(props.size()))) {
    RC_ASSERT(folded_leader.node->Step(m).ok());
  }
  plain_leader.Drain();
  folded_leader.Drain();
  const std::uint64_t last = plain_leader.raft().log().LastIndex();
  RC_ASSERT(folded_leader.raft().log().LastIndex() == last);
  auto a = plain_leader.storage.Entries(1, last + 1, UINT64_MAX);
  auto b = folded_leader.storage.Entries(1, last + 1, UINT64_MAX);
  RC_ASSERT(a.ok() && b.ok());
  RC_ASSERT(a->size() == b->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    RC_ASSERT((*a)[i].SerializeAsString() == (*b)[i].SerializeAsString());
  }
}

}  // namespace
}  // namespace aspen::server
