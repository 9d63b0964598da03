// Bugs of node::Node that the simulator found (docs/SIMULATOR.md, "Known
// findings"), each pinned by a small hand-driven scenario: nodes in manual
// mode on MemStores, a manual clock and a wire the test delivers in order.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "node/node.h"
#include "storage/mem_store.h"

namespace aspen::node {
namespace {

class ManualClock final : public Clock {
 public:
  std::int64_t NowMs() const override { return 1'700'000'000'000 + steady_ms; }
  std::int64_t SteadyMs() const override { return steady_ms; }
  std::int64_t steady_ms = 0;
};

class Wire final : public Transport {
 public:
  void Send(std::vector<raft::pb::Message> messages) override {
    for (auto& m : messages) q.push_back(std::move(m));
  }
  std::deque<raft::pb::Message> q;
};

struct Cluster {
  ManualClock clock;
  Wire wire;
  std::map<NodeId, std::unique_ptr<storage::MemStore>> stores;
  std::map<NodeId, std::unique_ptr<Node>> nodes;

  explicit Cluster(int n) {
    for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id) {
      stores[id] = std::make_unique<storage::MemStore>();
      Open(id, n);
    }
  }
  void Open(NodeId id, int n) {
    NodeOptions o;
    o.id = id;
    for (NodeId p = 1; p <= static_cast<NodeId>(n); ++p) o.initial_cluster[p] = "";
    o.store = stores[id].get();
    o.clock = &clock;
    o.transport = &wire;
    o.tick_interval_ms = 10;
    o.log = [](std::string_view) {};
    auto opened = Node::Open(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    nodes[id] = std::move(opened).value();
  }
  void Deliver() {
    for (auto& [id, n] : nodes) n->RunOnce();
    while (!wire.q.empty()) {
      raft::pb::Message m = std::move(wire.q.front());
      wire.q.pop_front();
      auto it = nodes.find(m.to());
      if (it == nodes.end()) continue;
      const Status st = it->second->Receive(std::move(m));
      (void)st;  // a message to a restarted node may be stale
      it->second->RunOnce();
    }
  }
  void Step() {
    Deliver();
    clock.steady_ms += 10;
    for (auto& [id, n] : nodes) n->Tick();
  }
  NodeId Leader() {
    for (auto& [id, n] : nodes) {
      if (n->GetStatus().role == Role::kLeader) return id;
    }
    return 0;
  }
};

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
  Cluster c(3);
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

sm::v1::Command Grant(std::int64_t id, std::int64_t ttl_s) {
  sm::v1::Command c;
  c.mutable_lease_grant()->set_id(id);
  c.mutable_lease_grant()->set_ttl(ttl_s);
  return c;
}

sm::v1::Command Revoke(std::int64_t id) {
  sm::v1::Command c;
  c.mutable_lease_revoke()->set_id(id);
  return c;
}

// Found by aspen-sim seeds 830 and 1821 (docs/SIMULATOR.md, "Leases"): when a
// revocation of a lease id and then its grant were applied in one batch, the
// Lessor was told every grant of the batch before every revocation, so it
// dropped a lease the state holds: KeepAlive answered "lease not found" for a
// granted lease, and the lease would never expire.
TEST(NodeRegression, RevokeThenGrantOfOneIdInOneBatchKeepsTheLease) {
  Cluster c(1);
  for (int i = 0; i < 300 && c.Leader() == 0; ++i) c.Step();
  ASSERT_EQ(c.Leader(), 1u);
  Node& n = *c.nodes.at(1);
  std::optional<Result<sm::v1::Response>> revoked;
  std::optional<Result<sm::v1::Response>> granted;
  // Queued together, they are appended, committed and applied in one batch.
  n.Propose(Revoke(42), [&](Result<sm::v1::Response> r) { revoked = std::move(r); });
  n.Propose(Grant(42, 5), [&](Result<sm::v1::Response> r) { granted = std::move(r); });
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
  Cluster c(3);
  for (int i = 0; i < 300 && c.Leader() == 0; ++i) c.Step();
  const NodeId old_leader = c.Leader();
  ASSERT_NE(old_leader, 0u);
  std::optional<Result<sm::v1::Response>> granted;
  c.nodes.at(old_leader)->Propose(Grant(42, 30), [&](Result<sm::v1::Response> r) {
    granted = std::move(r);
  });
  for (int i = 0; i < 100 && !granted.has_value(); ++i) c.Step();
  ASSERT_TRUE(granted.has_value() && granted->ok());
  ASSERT_TRUE(c.nodes.at(old_leader)->KeepAlive(42).ok());
  c.Deliver();  // every member applied the grant

  // The old leader goes away; deliver one message at a time and stop as soon
  // as a new leader exists, before its first entry commits.
  c.nodes.erase(old_leader);
  NodeId leader = 0;
  for (int i = 0; i < 1000 && leader == 0; ++i) {
    if (c.wire.q.empty()) {
      c.clock.steady_ms += 10;
      for (auto& [id, n] : c.nodes) n->Tick();
      for (auto& [id, n] : c.nodes) n->RunOnce();
      leader = c.Leader();
      continue;
    }
    raft::pb::Message m = std::move(c.wire.q.front());
    c.wire.q.pop_front();
    auto it = c.nodes.find(m.to());
    if (it == c.nodes.end()) continue;
    (void)it->second->Receive(std::move(m));
    it->second->RunOnce();
    leader = c.Leader();
  }
  ASSERT_NE(leader, 0u);
  ASSERT_LT(c.nodes.at(leader)->GetStatus().applied_index,
            c.nodes.at(leader)->RaftForTesting().log().LastIndex());
  auto early = c.nodes.at(leader)->KeepAlive(42);
  EXPECT_EQ(early.status().code(), Code::kUnavailable) << "renewed before its term's first entry";
  for (int i = 0; i < 100 && !c.nodes.at(leader)->KeepAlive(42).ok(); ++i) c.Step();
  auto later = c.nodes.at(leader)->KeepAlive(42);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(*later, 30);
}

}  // namespace
}  // namespace aspen::node
