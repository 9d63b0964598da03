// Snapshots and log compaction: InstallSnapshot to followers whose next
// entries are compacted, restore on the follower, ReportSnapshot, ReportUnreachable.
#include <gtest/gtest.h>

#include "raft/harness.h"
#include "raft/test_util.h"

namespace aspen::raft {
namespace {

using testing::Cluster;
using testing::Ent;
using testing::Msg;
using testing::OfType;
using testing::Solo;

// A leader whose log is compacted through index 5 and a follower 2 that is
// probing from index 3.
struct CompactedLeader {
  Solo s{1, {1, 2, 3}};
  std::uint64_t term = 0;

  CompactedLeader() {
    s.BecomeLeader();
    term = s.raft().term();
    for (int k = 0; k < 5; ++k) EXPECT_TRUE(s.node->Propose("v").ok());
    s.Drain();
    pb::Message ack = Msg(pb::MSG_APP_RESP, 3, 1, term);
    ack.set_index(6);
    s.StepAndDrain(ack);
    EXPECT_EQ(s.raft().log().committed(), 6u);
    pb::ConfState cs;
    for (NodeId id : {1, 2, 3}) cs.add_voters(id);
    EXPECT_TRUE(s.storage.CreateSnapshot(5, cs, "state@5").ok());
    EXPECT_TRUE(s.storage.Compact(5).ok());
  }
};

TEST(Snapshot, SnapshotSentWhenFollowerNeedsCompactedEntries) {
  CompactedLeader l;
  // Follower 2 rejects the probe: it has nothing after index 2.
  pb::Message rej = Msg(pb::MSG_APP_RESP, 2, 1, l.term);
  rej.set_index(0);
  rej.set_reject(true);
  rej.set_reject_hint(0);
  std::vector<pb::Message> out = l.s.StepAndDrain(rej);
  std::vector<pb::Message> snaps = OfType(out, pb::MSG_SNAP);
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].snapshot().metadata().index(), 5u);
  EXPECT_EQ(snaps[0].snapshot().data(), "state@5");
  EXPECT_EQ(l.s.raft().tracker().Find(2)->state(), ProgressState::kSnapshot);
  // Nothing else goes to 2 while the snapshot is in flight.
  ASSERT_TRUE(l.s.node->Propose("more").ok());
  for (const pb::Message& m : l.s.Drain()) EXPECT_NE(m.to(), 2u);
}

TEST(Snapshot, ReportSnapshotSuccessResumesProbingAfterTheSnapshot) {
  CompactedLeader l;
  pb::Message rej = Msg(pb::MSG_APP_RESP, 2, 1, l.term);
  rej.set_reject(true);
  l.s.StepAndDrain(rej);
  l.s.node->ReportSnapshot(2, /*failed=*/false);
  const Progress* pr = l.s.raft().tracker().Find(2);
  EXPECT_EQ(pr->state(), ProgressState::kProbe);
  EXPECT_EQ(pr->next(), 6u);
  EXPECT_TRUE(pr->IsPaused()) << "waits for a response before probing";
}

TEST(Snapshot, ReportSnapshotFailureProbesFromMatchAgain) {
  CompactedLeader l;
  pb::Message rej = Msg(pb::MSG_APP_RESP, 2, 1, l.term);
  rej.set_reject(true);
  l.s.StepAndDrain(rej);
  l.s.node->ReportSnapshot(2, /*failed=*/true);
  const Progress* pr = l.s.raft().tracker().Find(2);
  EXPECT_EQ(pr->state(), ProgressState::kProbe);
  EXPECT_EQ(pr->next(), 1u);
  // The next heartbeat response unpauses; the probe needs a snapshot again.
  pb::Message hb = Msg(pb::MSG_HEARTBEAT_RESP, 2, 1, l.term);
  EXPECT_EQ(OfType(l.s.StepAndDrain(hb), pb::MSG_SNAP).size(), 1u);
}

TEST(Snapshot, ReportUnreachableMovesReplicatingFollowerToProbe) {
  Solo s(1, {1, 2});
  s.BecomeLeader();
  pb::Message ack = Msg(pb::MSG_APP_RESP, 2, 1, s.raft().term());
  ack.set_index(1);
  s.StepAndDrain(ack);
  ASSERT_EQ(s.raft().tracker().Find(2)->state(), ProgressState::kReplicate);
  s.node->ReportUnreachable(2);
  EXPECT_EQ(s.raft().tracker().Find(2)->state(), ProgressState::kProbe);
}

TEST(Snapshot, FollowerRestoresFromSnapshotAndAcksItsIndex) {
  Solo f(2, {1, 2, 3});
  pb::Message snap = Msg(pb::MSG_SNAP, 1, 2, 3);
  pb::SnapshotMetadata* md = snap.mutable_snapshot()->mutable_metadata();
  md->set_index(10);
  md->set_term(2);
  for (NodeId id : {1, 2, 3, 4}) md->mutable_conf_state()->add_voters(id);
  snap.mutable_snapshot()->set_data("state@10");
  ASSERT_TRUE(f.node->Step(snap).ok());
  Ready rd = f.node->GetReady();
  ASSERT_TRUE(rd.snapshot.has_value());
  EXPECT_TRUE(rd.must_sync);
  EXPECT_EQ(rd.snapshot->data(), "state@10");
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].index(), 10u);
  ASSERT_TRUE(f.storage.ApplySnapshot(*rd.snapshot).ok());
  f.node->Advance();
  EXPECT_EQ(f.raft().log().committed(), 10u);
  EXPECT_EQ(f.raft().log().applied(), 10u);
  EXPECT_TRUE(f.raft().tracker().IsVoter(4)) << "configuration comes from the snapshot";
}

TEST(Snapshot, FollowerIgnoresSnapshotOlderThanItsCommit) {
  Solo f(2, {1, 2, 3});
  pb::Message app = Msg(pb::MSG_APP, 1, 2, 1);
  for (std::uint64_t i = 1; i <= 5; ++i) *app.add_entries() = Ent(i, 1);
  app.set_commit(5);
  f.StepAndDrain(app);
  pb::Message snap = Msg(pb::MSG_SNAP, 1, 2, 1);
  snap.mutable_snapshot()->mutable_metadata()->set_index(3);
  snap.mutable_snapshot()->mutable_metadata()->set_term(1);
  snap.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(2);
  std::vector<pb::Message> r = f.StepAndDrain(snap);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].index(), 5u) << "answers with its commit index";
  EXPECT_EQ(f.raft().log().LastIndex(), 5u);
}

TEST(Snapshot, FollowerFastForwardsCommitWhenLogAlreadyHoldsSnapshotEntry) {
  Solo f(2, {1, 2, 3});
  pb::Message app = Msg(pb::MSG_APP, 1, 2, 1);
  for (std::uint64_t i = 1; i <= 5; ++i) *app.add_entries() = Ent(i, 1);
  f.StepAndDrain(app);
  pb::Message snap = Msg(pb::MSG_SNAP, 1, 2, 1);
  snap.mutable_snapshot()->mutable_metadata()->set_index(4);
  snap.mutable_snapshot()->mutable_metadata()->set_term(1);
  snap.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(2);
  f.StepAndDrain(snap);
  EXPECT_EQ(f.raft().log().committed(), 4u);
  EXPECT_EQ(f.raft().log().LastIndex(), 5u) << "entries after the snapshot are kept";
}

TEST(Snapshot, LaggingFollowerCatchesUpThroughSnapshotInCluster) {
  Cluster c({.voters = 3});
  c.Elect(1);
  c.Isolate(3);
  for (int k = 0; k < 10; ++k) c.Propose(1, "v" + std::to_string(k));
  c.Stabilize();
  c.Compact(1);
  c.Heal();
  c.TickAll(3).Stabilize();
  // The harness does not report snapshot delivery; do it as a transport would.
  c.raw(1).ReportSnapshot(3, false);
  c.TickAll(3).Stabilize();
  EXPECT_EQ(c.node(3).applied_index, c.node(1).applied_index);
  EXPECT_EQ(c.raft(1).tracker().Find(3)->state(), ProgressState::kReplicate);
  c.Propose(1, "after").Stabilize();
  EXPECT_EQ(c.node(3).applied.rbegin()->second.data, "after");
}

TEST(Snapshot, TemporarilyUnavailableSnapshotIsRetriedLater) {
  // A storage whose snapshot is being built: raft sends nothing and retries.
  class Building final : public Storage {
   public:
    explicit Building(const MemoryStorage* inner) : inner_(inner) {}
    Result<StorageState> InitialState() const override { return inner_->InitialState(); }
    Result<EntryVec> Entries(std::uint64_t lo, std::uint64_t hi, std::uint64_t max) const override {
      return inner_->Entries(lo, hi, max);
    }
    Result<std::uint64_t> Term(std::uint64_t i) const override { return inner_->Term(i); }
    Result<std::uint64_t> FirstIndex() const override { return inner_->FirstIndex(); }
    Result<std::uint64_t> LastIndex() const override { return inner_->LastIndex(); }
    Result<pb::Snapshot> Snapshot() const override {
      if (building) return Error(ErrorCode::kSnapshotTemporarilyUnavailable, "building");
      return inner_->Snapshot();
    }
    bool building = true;

   private:
    const MemoryStorage* inner_;
  };
  MemoryStorage mem;
  pb::Snapshot boot;
  boot.mutable_metadata()->set_index(5);
  boot.mutable_metadata()->set_term(1);
  for (NodeId id : {1, 2}) boot.mutable_metadata()->mutable_conf_state()->add_voters(id);
  ASSERT_TRUE(mem.ApplySnapshot(boot).ok());
  Building storage(&mem);
  Config cfg;
  cfg.id = 1;
  cfg.storage = &storage;
  std::unique_ptr<RawNode> n = std::move(RawNode::Create(cfg)).value();
  n->Campaign();
  auto drain = [&] {
    std::vector<pb::Message> out;
    while (n->HasReady()) {
      Ready rd = n->GetReady();
      EXPECT_TRUE(mem.Append(rd.entries).ok());
      for (pb::Message& m : rd.messages) out.push_back(m);
      n->Advance();
    }
    return out;
  };
  std::vector<pb::Message> out = drain();
  for (const pb::Message& m : OfType(out, pb::MSG_PRE_VOTE)) {
    ASSERT_TRUE(n->Step(Msg(pb::MSG_PRE_VOTE_RESP, 2, 1, m.term())).ok());
  }
  for (const pb::Message& m : OfType(drain(), pb::MSG_VOTE)) {
    ASSERT_TRUE(n->Step(Msg(pb::MSG_VOTE_RESP, 2, 1, m.term())).ok());
  }
  drain();
  ASSERT_EQ(n->raft().role(), Role::kLeader);
  pb::Message rej = Msg(pb::MSG_APP_RESP, 2, 1, n->raft().term());
  rej.set_index(5);
  rej.set_reject(true);
  rej.set_reject_hint(0);
  ASSERT_TRUE(n->Step(rej).ok());
  EXPECT_TRUE(OfType(drain(), pb::MSG_SNAP).empty());
  EXPECT_EQ(n->raft().tracker().Find(2)->state(), ProgressState::kProbe);
  storage.building = false;
  ASSERT_TRUE(n->Step(Msg(pb::MSG_HEARTBEAT_RESP, 2, 1, n->raft().term())).ok());
  EXPECT_EQ(OfType(drain(), pb::MSG_SNAP).size(), 1u);
}

}  // namespace
}  // namespace aspen::raft
