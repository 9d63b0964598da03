// Readable whole-cluster scenarios on the deterministic harness: elections,
// partitions, an isolated leader, crashes, membership changes, snapshots and
// reads across leader changes. The harness checks Raft's safety properties
// after every step.
#include <gtest/gtest.h>

#include "raft/harness.h"

namespace aspen::raft {
namespace {

using testing::Cluster;

// Ticks the given nodes together until one of them leads (bounded).
NodeId ElectAmong(Cluster& c, const std::vector<NodeId>& ids) {
  for (int k = 0; k < 100; ++k) {
    for (NodeId id : ids) c.Tick(id);
    c.Stabilize();
    const NodeId l = c.Leader();
    if (l != kNone && std::find(ids.begin(), ids.end(), l) != ids.end()) return l;
  }
  return kNone;
}

TEST(Scenario, ThreeNodesElectByTimeoutAndReplicate) {
  Cluster c({.voters = 3});
  const NodeId l = ElectAmong(c, {1, 2, 3});
  ASSERT_NE(l, kNone);
  for (int k = 0; k < 10; ++k) c.Propose(l, "k" + std::to_string(k));
  c.Stabilize();
  EXPECT_TRUE(c.Converged());
  for (NodeId id : c.ids()) EXPECT_EQ(c.node(id).applied.rbegin()->second.data, "k9");
}

TEST(Scenario, MinorityPartitionCannotCommitMajorityCan) {
  Cluster c({.voters = 5});
  c.Elect(1).Propose(1, "before").Stabilize();
  c.Partition({1, 2}, {3, 4, 5});
  const std::uint64_t stuck = c.Committed(1);
  c.Propose(1, "minority-write").Stabilize();
  EXPECT_EQ(c.Committed(1), stuck) << "two of five cannot commit";
  const NodeId l = ElectAmong(c, {3, 4, 5});
  ASSERT_NE(l, kNone);
  c.Propose(l, "majority-write").Stabilize();
  EXPECT_EQ(c.node(3).applied.rbegin()->second.data, "majority-write");
  c.Heal();
  for (int k = 0; k < 5; ++k) c.TickAll(1).Stabilize();
  EXPECT_TRUE(c.Converged());
  for (NodeId id : c.ids()) {
    for (const auto& [index, a] : c.node(id).applied) EXPECT_NE(a.data, "minority-write");
    EXPECT_EQ(c.node(id).applied.rbegin()->second.data, "majority-write");
  }
}

TEST(Scenario, IsolatedLeaderIsReplacedAndRejoinsAsFollower) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "a").Stabilize();
  c.Isolate(1);
  const NodeId l = ElectAmong(c, {2, 3});
  ASSERT_NE(l, kNone);
  c.Tick(1, 25);  // check-quorum: the old leader steps down on its own
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  c.Propose(l, "b").Stabilize();
  c.Heal();
  for (int k = 0; k < 3; ++k) c.TickAll(1).Stabilize();
  EXPECT_EQ(c.Leader(), l);
  EXPECT_TRUE(c.Converged());
}

TEST(Scenario, LeaderCrashAndRestartKeepsCommittedEntries) {
  Cluster c({.voters = 3});
  c.Elect(1);
  for (int k = 0; k < 5; ++k) c.Propose(1, "v" + std::to_string(k));
  c.Stabilize();
  c.Restart(1);
  const NodeId l = ElectAmong(c, {1, 2, 3});
  ASSERT_NE(l, kNone);
  c.Propose(l, "after-crash").Stabilize();
  EXPECT_TRUE(c.Converged());
  // Index 1 is the bootstrap snapshot, 2 the leader's empty entry.
  EXPECT_EQ(c.node(1).applied.at(7).data, "v4");
}

TEST(Scenario, GrowWithLearnerPromoteThenRemoveTheLeader) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "x").Stabilize();
  // Add node 4 as a learner; it catches up through a fresh snapshot.
  c.AddNode(4).ProposeConfChange(1, pb::CONF_CHANGE_ADD_LEARNER_NODE, 4).Stabilize();
  c.Compact(1);
  c.raw(1).ReportSnapshot(4, true);
  c.TickAll(2).Stabilize();
  ASSERT_EQ(c.node(4).applied_index, c.node(1).applied_index);
  // Promote it, then hand leadership to it and remove node 1.
  c.ProposeConfChange(1, pb::CONF_CHANGE_ADD_NODE, 4).Stabilize();
  ASSERT_TRUE(c.raw(1).TransferLeadership(4).ok());
  c.Stabilize();
  ASSERT_EQ(c.Leader(), 4u);
  c.ProposeConfChange(4, pb::CONF_CHANGE_REMOVE_NODE, 1).Stabilize();
  for (NodeId id : {2, 3, 4}) EXPECT_FALSE(c.raft(id).tracker().IsMember(1));
  c.Isolate(1);
  c.Propose(4, "without-1").Stabilize();
  EXPECT_EQ(c.node(2).applied.rbegin()->second.data, "without-1");
  EXPECT_EQ(c.raft(4).tracker().voters().size(), 3u);
}

TEST(Scenario, AllFollowersRecoverFromSnapshotsAfterCompaction) {
  Cluster c({.voters = 5});
  c.Elect(1);
  c.Isolate(4).Isolate(5);
  for (int k = 0; k < 20; ++k) c.Propose(1, "p" + std::to_string(k));
  c.Stabilize();
  c.Compact(1);
  c.Heal();
  c.TickAll(2).Stabilize();
  c.raw(1).ReportSnapshot(4, false);
  c.raw(1).ReportSnapshot(5, false);
  c.TickAll(2).Stabilize();
  c.Propose(1, "tail").Stabilize();
  EXPECT_TRUE(c.Converged());
  EXPECT_EQ(c.node(5).applied.rbegin()->second.data, "tail");
}

TEST(Scenario, ReadIndexAfterLeaderChangeSeesEarlierWrites) {
  Cluster c({.voters = 3});
  c.Elect(1).Propose(1, "w1").Stabilize();
  const std::uint64_t w1 = c.node(1).applied_index;
  ASSERT_TRUE(c.raw(1).TransferLeadership(2).ok());
  c.Stabilize();
  ASSERT_EQ(c.Leader(), 2u);
  ASSERT_TRUE(c.raw(3).ReadIndex("after-change").ok());
  c.Stabilize();
  ASSERT_EQ(c.node(3).read_states.size(), 1u);
  EXPECT_GE(c.node(3).read_states[0].index, w1);
}

TEST(Scenario, RepeatedPartitionsConvergeOnceHealed) {
  Cluster c({.voters = 5});
  c.Elect(1);
  const std::vector<std::pair<std::set<NodeId>, std::set<NodeId>>> splits = {
      {{1, 2}, {3, 4, 5}}, {{1, 3, 5}, {2, 4}}, {{4, 5}, {1, 2, 3}}};
  int n = 0;
  for (const auto& [a, b] : splits) {
    c.Heal().Partition(a, b);
    for (int k = 0; k < 40; ++k) {
      c.TickAll(1);
      const NodeId l = c.Leader();
      if (l != kNone && k % 4 == 0) {
        const Error e = c.TryPropose(l, "n" + std::to_string(n++));
        (void)e;
      }
      c.Stabilize();
    }
  }
  c.Heal();
  for (int k = 0; k < 40; ++k) c.TickAll(1).Stabilize();
  const NodeId l = c.Leader();
  ASSERT_NE(l, kNone);
  c.Propose(l, "final").Stabilize();
  EXPECT_TRUE(c.Converged());
}

}  // namespace
}  // namespace aspen::raft
