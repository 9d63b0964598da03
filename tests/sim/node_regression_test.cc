// Bugs of node::Node that the simulator found (docs/SIMULATOR.md, "Known
// findings"), each pinned by a small hand-driven scenario: nodes in manual
// mode on MemStores, a manual clock and a wire the test delivers in order.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "node/hand_cluster.h"
#include "node/node.h"

namespace aspen::node {
namespace {

using testing::HandCluster;

sm::v1::Command Put(const std::string& key) {
  sm::v1::Command c;
  c.mutable_put()->set_key(key);
  c.mutable_put()->set_value("v");
  return c;
}

sm::v1::Command Delete(const std::string& key) {
  sm::v1::Command c;
  c.mutable_delete_range()->set_key(key);
  return c;
}

// Found by aspen-sim seed 186: request ids restarted at 1 on every Open, so
// an entry a follower forwarded just before it crashed, committed after its
// restart, completed the restarted node's new request with the OLD command's
// response (the new write could be acknowledged without being applied).
TEST(NodeRegression, EntryOfAPreviousIncarnationDoesNotAnswerANewRequest) {
  HandCluster c(3);
  for (int i = 0; i < 300 && c.Leader() == 0; ++i) c.Step();
  const NodeId leader = c.Leader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = leader == 1 ? 2 : 1;

  // The follower forwards a delete to the leader, then crashes before the
  // leader gets it; the forwarded proposal is held on the wire.
  c.Deliver();
  c.nodes.at(follower)->Propose(Delete("old"), [](Result<sm::v1::Response>) {});
  c.nodes.at(follower)->RunOnce();
  std::deque<raft::pb::Message> held;
  held.swap(c.wire.q);
  ASSERT_FALSE(held.empty());
  c.nodes.erase(follower);
  c.stores.at(follower)->Crash();
  c.clock.steady_ms += 500;
  c.Open(follower, 3);
  for (int i = 0; i < 300 && c.nodes.at(follower)->GetStatus().leader == 0; ++i) c.Step();
  ASSERT_NE(c.nodes.at(follower)->GetStatus().leader, 0u);

  // The restarted follower's first request is a put; the old delete reaches
  // the leader first, so it commits (and is applied) before the put.
  std::optional<Result<sm::v1::Response>> answer;
  c.nodes.at(follower)->Propose(Put("new"),
                                [&](Result<sm::v1::Response> r) { answer = std::move(r); });
  c.nodes.at(follower)->RunOnce();
  for (auto it = held.rbegin(); it != held.rend(); ++it) c.wire.q.push_front(std::move(*it));
  for (int i = 0; i < 300 && !answer.has_value(); ++i) c.Step();
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status().ToString();
  EXPECT_TRUE((*answer)->has_put()) << "the put was answered with " << (*answer)->DebugString();
}

// Found by aspen-sim seeds 830 and 1821 (docs/SIMULATOR.md, "Leases"): when a
// revocation of a lease id and then its grant were applied in one batch, the
// Lessor was told every grant of the batch before every revocation, so it
// dropped a lease the state holds: KeepAlive answered "lease not found" for a
// granted lease, and the lease would never expire.
TEST(NodeRegression, RevokeThenGrantOfOneIdInOneBatchKeepsTheLease) {
  HandCluster c(1);
  for (int i = 0; i < 300 && c.Leader() == 0; ++i) c.Step();
  ASSERT_EQ(c.Leader(), 1u);
  Node& n = *c.nodes.at(1);
  std::optional<Result<sm::v1::Response>> revoked;
  std::optional<Result<sm::v1::Response>> granted;
  // Queued together, they are appended, committed and applied in one batch.
  n.Propose(testing::RevokeCommand(42),
            [&](Result<sm::v1::Response> r) { revoked = std::move(r); });
  n.Propose(testing::GrantCommand(42, 5),
            [&](Result<sm::v1::Response> r) { granted = std::move(r); });
  for (int i = 0; i < 100 && !granted.has_value(); ++i) c.Step();
  ASSERT_TRUE(revoked.has_value() && revoked->ok());
  EXPECT_EQ((*revoked)->error().code(), static_cast<int>(Code::kNotFound));
  ASSERT_TRUE(granted.has_value() && granted->ok());
  ASSERT_TRUE((*granted)->has_lease_grant()) << (*granted)->DebugString();
  auto ttl = n.KeepAlive(42);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_EQ(*ttl, 5);
}

// Found by aspen-sim (seed 256 with --safety-ms 8000, docs/SIMULATOR.md
// "Leases"): a leader proposed the revocation of an expired lease, stepped
// down before it committed, was elected again (extending every lease), renewed
// the lease for a client (TTL 1 s), and then committed its old revocation 8 ms
// later. A new leader now takes over the leases only once it has applied an
// entry of its own term, by when every earlier revocation has applied.
TEST(NodeRegression, NewLeaderRenewsLeasesOnlyAfterApplyingAnEntryOfItsTerm) {
  HandCluster c(3);
  const NodeId old_leader = testing::ElectAndGrant(&c, 42, 30);
  ASSERT_NE(old_leader, 0u);
  ASSERT_TRUE(c.nodes.at(old_leader)->KeepAlive(42).ok());
  c.Deliver();  // every member applied the grant

  // The old leader goes away; stop as soon as a new leader exists, before
  // its first entry commits.
  c.nodes.erase(old_leader);
  const NodeId leader = c.ElectOneMessageAtATime();
  ASSERT_NE(leader, 0u);
  Node& n = *c.nodes.at(leader);
  ASSERT_LT(n.GetStatus().applied_index, n.RaftForTesting().log().LastIndex());
  // The keep-alive waits (etcd's Renew on a member that is not yet the
  // primary lessor): it is renewed only once the leader applied its entry.
  std::optional<Result<std::int64_t>> kept;
  std::uint64_t applied_when_kept = 0;
  n.KeepAlive(42, [&](Result<std::int64_t> r) {
    kept = std::move(r);
    applied_when_kept = n.GetStatus().applied_index;
  });
  EXPECT_FALSE(kept.has_value()) << "renewed before its term's first entry";
  const std::uint64_t term_entry = n.RaftForTesting().log().LastIndex();
  for (int i = 0; i < 100 && !kept.has_value(); ++i) c.Step();
  ASSERT_TRUE(kept.has_value());
  ASSERT_TRUE(kept->ok()) << kept->status().ToString();
  EXPECT_EQ(**kept, 30);
  EXPECT_GE(applied_when_kept, term_entry);
}

}  // namespace
}  // namespace aspen::node
