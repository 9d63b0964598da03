// Lease keep-alive and time-to-live wait where etcd's Renew waits (node/
// lessor.h): an expired lease until its revocation applies, a new leader until
// it has taken over the leases; bounded by lease_wait_timeout_ms, ended by
// Stop. Nodes driven by hand on the test's thread (hand_cluster.h), so every
// step of a wait is deterministic.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "node/hand_cluster.h"
#include "node/node.h"
#include "sm/reads.h"

namespace aspen::node {
namespace {

using testing::ElectAndGrant;
using testing::HandCluster;
using testing::RevokeCommand;

bool LeaseInState(Node& n, std::int64_t id) {
  auto leases = sm::Leases(*n.GetSnapshot());
  EXPECT_TRUE(leases.ok());
  for (const sm::LeaseInfo& l : *leases) {
    if (l.id == id) return true;
  }
  return false;
}

TEST(LeaseWait, KeepAliveOfAnExpiredLeaseWaitsForItsRevocationThenAnswersNotFound) {
  HandCluster c(1);
  ASSERT_EQ(ElectAndGrant(&c, 42, 1), 1u);  // one node, leader, holding lease 42
  Node& n = *c.nodes.at(1);
  // The deadline passes; no expiry round has run, so the revocation is due
  // but not yet proposed.
  c.clock.steady_ms += 1500;
  std::optional<Result<std::int64_t>> kept;
  bool revoked_when_answered = false;
  n.KeepAlive(42, [&](Result<std::int64_t> r) {
    kept = std::move(r);
    revoked_when_answered = !LeaseInState(n, 42);
  });
  std::optional<Result<LeaseStatus>> ttl;
  n.LeaseTimeToLive(42, [&](Result<LeaseStatus> r) { ttl = std::move(r); });
  ASSERT_TRUE(ttl.has_value()) << "time-to-live of an expired lease does not wait";
  ASSERT_TRUE(ttl->ok()) << ttl->status().ToString();
  EXPECT_EQ((*ttl)->remaining_ttl_s, 0);
  EXPECT_FALSE(kept.has_value()) << "an expired lease was answered before its revocation";
  n.RunOnce();
  EXPECT_FALSE(kept.has_value());
  // The next expiry round proposes the revocation; once it applies, the
  // keep-alive answers "not found" (etcd's ErrLeaseNotFound).
  for (int i = 0; i < 100 && !kept.has_value(); ++i) c.Step();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->status().code(), Code::kNotFound) << kept->status().ToString();
  EXPECT_TRUE(revoked_when_answered);
}

TEST(LeaseWait, KeepAliveOnANewLeaderWaitsForItsLeaseTakeoverAndTimeToLiveToo) {
  HandCluster c(3);
  const NodeId old_leader = ElectAndGrant(&c, 42, 30);
  ASSERT_NE(old_leader, 0u);
  c.Deliver();
  c.nodes.erase(old_leader);
  const NodeId leader = c.ElectOneMessageAtATime();
  ASSERT_NE(leader, 0u);
  Node& n = *c.nodes.at(leader);
  std::optional<Result<std::int64_t>> kept;
  std::optional<Result<LeaseStatus>> ttl;
  n.KeepAlive(42, [&](Result<std::int64_t> r) { kept = std::move(r); });
  n.LeaseTimeToLive(42, [&](Result<LeaseStatus> r) { ttl = std::move(r); });
  EXPECT_FALSE(kept.has_value());
  EXPECT_FALSE(ttl.has_value());
  // A follower answers at once: not leader (the server forwards).
  const NodeId follower =
      c.nodes.begin()->first == leader ? c.nodes.rbegin()->first : c.nodes.begin()->first;
  std::optional<Result<std::int64_t>> on_follower;
  c.nodes.at(follower)->KeepAlive(42, [&](Result<std::int64_t> r) { on_follower = std::move(r); });
  ASSERT_TRUE(on_follower.has_value());
  EXPECT_EQ(on_follower->status().code(), Code::kUnavailable);
  EXPECT_EQ(on_follower->status().message().rfind("not leader", 0), 0u)
      << on_follower->status().ToString();
  for (int i = 0; i < 100 && !(kept.has_value() && ttl.has_value()); ++i) c.Step();
  ASSERT_TRUE(kept.has_value() && ttl.has_value());
  ASSERT_TRUE(kept->ok()) << kept->status().ToString();
  EXPECT_EQ(**kept, 30);
  ASSERT_TRUE(ttl->ok()) << ttl->status().ToString();
  EXPECT_EQ((*ttl)->granted_ttl_s, 30);
  EXPECT_EQ((*ttl)->remaining_ttl_s, 30);  // the new leader extended it
}

TEST(LeaseWait, AWaitingKeepAliveEndsWithRequestTimedOutNamingTheBound) {
  NodeOptions o;
  o.lease_wait_timeout_ms = 200;
  HandCluster c(1, o);
  ASSERT_EQ(ElectAndGrant(&c, 42, 1), 1u);  // one node, leader, holding lease 42
  Node& n = *c.nodes.at(1);
  c.clock.steady_ms += 1500;
  std::optional<Result<std::int64_t>> kept;
  n.KeepAlive(42, [&](Result<std::int64_t> r) { kept = std::move(r); });
  // Only the timers run (Tick without RunOnce): the revocation is proposed
  // but never applied, so only the bound can end the wait.
  int ticks = 0;
  for (; ticks < 100 && !kept.has_value(); ++ticks) {
    c.clock.steady_ms += 10;
    n.Tick();
  }
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(ticks, 20);  // 200 ms of 10 ms ticks
  EXPECT_EQ(kept->status().code(), Code::kUnavailable);
  const std::string& m = kept->status().message();
  EXPECT_EQ(m.rfind("request timed out: ", 0), 0u) << m;
  EXPECT_NE(m.find("lease_wait_timeout_ms (200 ms)"), std::string::npos) << m;
  EXPECT_NE(m.find("revocation"), std::string::npos) << m;
  EXPECT_TRUE(LeaseInState(n, 42));  // never applied
}

TEST(LeaseWait, StopAnswersEveryWaitingCallAndLaterOnesNodeStopped) {
  HandCluster c(1);
  ASSERT_EQ(ElectAndGrant(&c, 42, 1), 1u);  // one node, leader, holding lease 42
  Node& n = *c.nodes.at(1);
  c.clock.steady_ms += 1500;
  std::optional<Result<std::int64_t>> first, second;
  n.KeepAlive(42, [&](Result<std::int64_t> r) { first = std::move(r); });
  n.KeepAlive(42, [&](Result<std::int64_t> r) { second = std::move(r); });
  EXPECT_FALSE(first.has_value() || second.has_value());
  n.Stop();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->status().code(), Code::kUnavailable);
  EXPECT_EQ(first->status().message(), "node stopped");
  EXPECT_EQ(second->status().message(), "node stopped");
  auto later = n.KeepAlive(42);  // synchronous form: answered at once
  EXPECT_EQ(later.status().message(), "node stopped");
  auto later_ttl = n.LeaseTimeToLive(42);
  EXPECT_EQ(later_ttl.status().message(), "node stopped");
}

TEST(LeaseWait, AKeepAliveOnALeaderThatCommittedARevocationButHasNotAppliedItIsNeverRenewed) {
  // tests/goclient lease_revoke_elsewhere: a client revokes through a
  // follower, which applies the revocation (the leader told it the commit)
  // and answers; the client's next keep-alive reaches the leader, whose own
  // apply of the revocation is still in its store write. etcd's LeaseRenew
  // waits until the leader's applied index reaches its commit index.
  HandCluster c(3);
  const NodeId leader = ElectAndGrant(&c, 42, 30);
  ASSERT_NE(leader, 0u);
  c.Deliver();
  const NodeId follower = leader == 1 ? 2 : 1;
  Node& l = *c.nodes.at(leader);
  Node& f = *c.nodes.at(follower);
  std::optional<Result<sm::v1::Response>> revoked;
  f.Propose(RevokeCommand(42), [&](Result<sm::v1::Response> r) { revoked = std::move(r); });
  f.RunOnce();  // forwards the proposal to the leader
  // Deliver everything but the followers' acks of the revocation's entry:
  // the leader appended it; it is not committed yet.
  std::vector<raft::pb::Message> acks;
  for (int i = 0; i < 1000 && !c.wire.q.empty(); ++i) {
    raft::pb::Message m = std::move(c.wire.q.front());
    c.wire.q.pop_front();
    const NodeId to = m.to();
    if (to == leader && m.type() == raft::pb::MSG_APP_RESP) {
      acks.push_back(std::move(m));
      continue;
    }
    ASSERT_TRUE(c.nodes.at(to)->Receive(std::move(m)).ok());
    c.nodes.at(to)->RunOnce();
  }
  ASSERT_FALSE(acks.empty());
  ASSERT_FALSE(revoked.has_value());
  for (raft::pb::Message& m : acks) ASSERT_TRUE(l.Receive(std::move(m)).ok());

  // The leader commits the revocation, tells the followers (before its own
  // write, Raft thesis 10.2.1), and applies it in a write that takes 800 ms.
  c.stores.at(leader)->DelayWrites(std::chrono::milliseconds(800));
  std::thread leader_loop([&] { l.RunOnce(); });
  for (int i = 0; i < 700 && !revoked.has_value(); ++i) {
    for (raft::pb::Message& m : c.wire.TakeAll()) {
      if (m.to() != follower) continue;
      ASSERT_TRUE(f.Receive(std::move(m)).ok());
      f.RunOnce();
    }
    if (!revoked.has_value()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(revoked.has_value()) << "the follower did not apply the revocation";
  ASSERT_TRUE(revoked->ok()) << revoked->status().ToString();
  ASSERT_FALSE((*revoked)->has_error()) << (*revoked)->DebugString();
  const bool leader_applied_before = !LeaseInState(l, 42);

  std::mutex mu;
  std::vector<Result<std::int64_t>> answers;
  l.KeepAlive(42, [&](Result<std::int64_t> r) {
    std::lock_guard lock(mu);
    answers.push_back(std::move(r));
  });
  const bool leader_applied_after = !LeaseInState(l, 42);
  leader_loop.join();
  c.stores.at(leader)->DelayWrites(std::chrono::microseconds(0));
  ASSERT_FALSE(leader_applied_before || leader_applied_after)
      << "the keep-alive did not arrive while the leader's write was under way";
  {
    // It waited for the apply in progress, not for a raft round trip: the
    // Ready that applied the revocation answered it.
    std::lock_guard lock(mu);
    EXPECT_EQ(answers.size(), 1u);
  }
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu);
      if (!answers.empty()) break;
    }
    c.Step();
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status().code(), Code::kNotFound)
      << "a lease revoked (committed, and applied by a follower) was renewed: "
      << (answers[0].ok() ? "TTL " + std::to_string(*answers[0]) : answers[0].status().ToString());
}

}  // namespace
}  // namespace aspen::node
