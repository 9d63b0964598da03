// Node in in-process clusters: election, replication, forwarding, failover,
// linearizable reads, membership. Real threads and clock, 10 ms ticks.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "node/cluster.h"
#include "sm/reads.h"

namespace aspen::node::testing {
namespace {

TEST(NodeCluster, SingleNodeElectsItselfAndAppliesPuts) {
  Cluster c({.size = 1});
  c.StartAll();
  ASSERT_EQ(c.WaitLeader(std::chrono::milliseconds(2000)), 1u);
  for (int i = 0; i < 10; ++i) {
    auto r = ProposeSync(c.node(1), PutCmd("k" + std::to_string(i), "v" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->has_error() && r->error().code() != 0);
    EXPECT_EQ(r->put().header().revision(), 2 + i);
  }
  EXPECT_EQ(GetValue(c.node(1), "k7", c.node(1)->NowMs()), "v7");
  EXPECT_EQ(c.node(1)->GetStatus().revision, 11);
}

TEST(NodeCluster, ThreeNodesReplicateToEveryReplica) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("key" + std::to_string(i), "x")).ok());
  }
  const std::uint64_t applied = c.node(leader)->GetStatus().applied_index;
  ASSERT_TRUE(c.WaitApplied(applied));
  std::optional<sm::KvHash> first;
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(GetValue(c.node(id), "key19", 0), "x") << "node " << id;
    auto h = sm::HashKV(*c.node(id)->GetSnapshot());
    ASSERT_TRUE(h.ok());
    if (!first) first = *h;
    EXPECT_EQ(h->sha256, first->sha256) << "node " << id;
  }
}

// Membership checks (etcd's "not enough started members") read the leader's
// Progress(). raft clears each peer's recent_active at every quorum check and
// sets it again on the peer's next answer; a peer whose heartbeat answers are
// often lost was shown inactive in between, and `member remove` was refused
// at random. A peer that stops answering still turns inactive.
TEST(NodeCluster, HealthyPeersStayActiveAcrossQuorumChecksAndAnIsolatedOneTurnsInactive) {
  // 40 ms ticks: a peer counts as active if heard within two election
  // timeouts (800 ms here), a window a loaded machine's scheduling delays do
  // not reach (with 10 ms ticks, 200 ms: failed at load 15-17).
  ClusterOptions options;
  options.tick_interval_ms = 40;
  Cluster c(options);
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  // Every peer heard from since the election.
  auto put = ProposeSync(c.node(leader), PutCmd("k", "v"));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_TRUE(c.WaitApplied(c.node(leader)->GetStatus().commit_index));
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& [id, p] : c.node(leader)->Progress()) {
      if (!p.active) return false;
    }
    return true;
  }));
  std::atomic<std::uint64_t> answers{0};
  // Two of every three heartbeat answers are lost: a peer is heard from a few
  // ticks after each quorum check instead of at once.
  c.net().SetDropFilter([&](const raft::pb::Message& m) {
    return m.type() == raft::pb::MSG_HEARTBEAT_RESP && answers.fetch_add(1) % 3 != 0;
  });
  int samples = 0, inactive = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until) {
    for (const auto& [id, p] : c.node(leader)->Progress()) {
      ++samples;
      if (!p.active) ++inactive;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  EXPECT_GT(samples, 100);
  // The old code showed them inactive in about 13% of readings (the blink
  // after each quorum check scales with the tick); a loaded machine can still
  // stretch a window now and then, so a few readings are allowed.
  EXPECT_LT(inactive * 100, samples)
      << "healthy peers shown inactive in " << inactive << " of " << samples << " readings";
  c.net().SetDropFilter(nullptr);

  const NodeId isolated = leader == 3 ? 2 : 3;
  c.net().Isolate(isolated);
  // Election timeout here: 10 ticks of 40 ms; inactive within two.
  EXPECT_TRUE(WaitFor([&] { return !c.node(leader)->Progress().at(isolated).active; },
                      std::chrono::seconds(3)));
  c.net().Heal();
}

TEST(NodeCluster, ProposalOnFollowerIsForwardedAndCompletedAfterApply) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = leader == 1 ? 2 : 1;
  auto r = ProposeSync(c.node(follower), PutCmd("fwd", "yes"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->put().header().revision(), 1);
  // Completed only after the follower itself applied it.
  EXPECT_EQ(GetValue(c.node(follower), "fwd", 0), "yes");
}

TEST(NodeCluster, NewLeaderTakesOverWithoutLosingAcknowledgedWrites) {
  Cluster c;
  c.StartAll();
  const NodeId old_leader = c.WaitLeader();
  ASSERT_NE(old_leader, 0u);
  for (int i = 0; i < 30; ++i) {
    auto r = ProposeSync(c.node(old_leader), PutCmd("acked" + std::to_string(i), "v"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  c.Stop(old_leader);
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  ASSERT_NE(leader, old_leader);
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("after", "failover")).ok());
  for (NodeId id = 1; id <= 3; ++id) {
    if (!c.running(id)) continue;
    ASSERT_TRUE(ReadBarrierSync(c.node(id)).ok());
    for (int i = 0; i < 30; ++i) {
      EXPECT_EQ(GetValue(c.node(id), "acked" + std::to_string(i), 0), "v") << "node " << id;
    }
  }
  // The old leader rejoins as a follower and catches up.
  c.Start(old_leader);
  const std::uint64_t applied = c.node(leader)->GetStatus().applied_index;
  ASSERT_TRUE(c.WaitApplied(applied));
  EXPECT_EQ(GetValue(c.node(old_leader), "after", 0), "failover");
}

TEST(NodeCluster, ReadBarrierOnFollowerSeesEveryAcknowledgedWrite) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = leader == 3 ? 2 : 3;
  for (int i = 0; i < 20; ++i) {
    const std::string value = "v" + std::to_string(i);
    ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("lin", value)).ok());
    // Straight after the leader acknowledged: the follower may lag, but not
    // once its barrier returned.
    ASSERT_TRUE(ReadBarrierSync(c.node(follower)).ok());
    EXPECT_EQ(GetValue(c.node(follower), "lin", 0), value);
  }
}

// Raft never resends a MsgReadIndex or its response: the node reissues the
// read under a fresh context after an election timeout (100 ms here), well
// before the 2 s request deadline.
void ExpectFollowerReadSurvivesOneDropped(raft::pb::MessageType type) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = leader == 3 ? 2 : 3;
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("k", "v")).ok());
  auto dropped = std::make_shared<std::atomic<int>>(0);
  c.net().SetDropFilter([type, dropped](const raft::pb::Message& m) {
    return m.type() == type && dropped->fetch_add(1) == 0;
  });
  const auto start = std::chrono::steady_clock::now();
  const Status s = ReadBarrierSync(c.node(follower), std::chrono::seconds(5));
  const auto took = std::chrono::steady_clock::now() - start;
  c.net().SetDropFilter({});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(dropped->load(), 1);
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_EQ(GetValue(c.node(follower), "k", 0), "v");
}

TEST(NodeCluster, FollowerReadIsRetriedWhenItsReadIndexRequestIsLost) {
  ExpectFollowerReadSurvivesOneDropped(raft::pb::MSG_READ_INDEX);
}

TEST(NodeCluster, FollowerReadIsRetriedWhenTheReadIndexResponseIsLost) {
  ExpectFollowerReadSurvivesOneDropped(raft::pb::MSG_READ_INDEX_RESP);
}

// Every member numbers its reads from 1; the leader keys pending reads by
// context, so the contexts must differ across members or one member's read is
// silently merged into another's and never answered.
TEST(NodeCluster, SimultaneousReadsOnEveryMemberAllSucceed) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (NodeId id = 1; id <= 3; ++id) {
      threads.emplace_back([&, id] {
        if (ReadBarrierSync(c.node(id), std::chrono::seconds(5)).ok()) ok.fetch_add(1);
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_EQ(ok.load(), 3) << "round " << round;
  }
}

TEST(NodeCluster, ConcurrentReadBarriersFromManyThreadsAllSucceed) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  std::vector<std::thread> readers;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (ReadBarrierSync(c.node(leader)).ok()) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(ok.load(), 160);
}

TEST(NodeCluster, ReadBarriersIssuedOnEveryMemberAtOnceAllComplete) {
  // The leader keeps pending read-index requests by their context; members
  // that numbered their contexts alike (each one's first barrier, its second,
  // ...) had all but one dropped there, to wait out the request timeout.
  Cluster c({.size = 3, .request_timeout_ms = 10'000});
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("settled", "1")).ok());
  for (int round = 0; round < 10; ++round) {
    std::vector<std::future<Status>> answers;
    for (NodeId id = 1; id <= 3; ++id) {
      auto promise = std::make_shared<std::promise<Status>>();
      answers.push_back(promise->get_future());
      c.node(id)->ReadBarrier([promise](Status s) { promise->set_value(std::move(s)); });
    }
    for (std::size_t i = 0; i < answers.size(); ++i) {
      ASSERT_EQ(answers[i].wait_for(std::chrono::seconds(3)), std::future_status::ready)
          << "round " << round << ": node " << i + 1 << "'s barrier still waiting after 3 s";
      EXPECT_TRUE(answers[i].get().ok());
    }
  }
}

TEST(NodeCluster, IsolatedLeaderTimesOutProposalsAndStepsDown) {
  Cluster c({.size = 3, .request_timeout_ms = 300});
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  c.net().Isolate(leader);
  auto r = ProposeSync(c.node(leader), PutCmd("lost", "?"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == Code::kDeadlineExceeded ||
              r.status().code() == Code::kUnavailable)
      << r.status().ToString();
  // check-quorum: the isolated leader steps down after an election timeout.
  EXPECT_TRUE(WaitFor([&] { return c.node(leader)->GetStatus().role != Role::kLeader; }));
  c.net().Heal();
  const NodeId next = c.WaitLeader();
  ASSERT_NE(next, 0u);
  ASSERT_TRUE(ProposeSync(c.node(next), PutCmd("healed", "1")).ok());
}

TEST(NodeCluster, ProposalOverwrittenByANewLeaderFailsAtOnceAsNotApplied) {
  Cluster c({.size = 3, .request_timeout_ms = 10'000});
  c.StartAll();
  const NodeId old_leader = c.WaitLeader();
  ASSERT_NE(old_leader, 0u);
  ASSERT_TRUE(ProposeSync(c.node(old_leader), PutCmd("before", "1")).ok());
  ASSERT_TRUE(c.WaitApplied(c.node(old_leader)->GetStatus().applied_index));
  c.net().Isolate(old_leader);
  // Appended to the isolated leader's log only: it can never commit.
  auto promise = std::make_shared<std::promise<Result<sm::v1::Response>>>();
  auto answer = promise->get_future();
  c.node(old_leader)->Propose(PutCmd("doomed", "x"), [promise](Result<sm::v1::Response> r) {
    promise->set_value(std::move(r));
  });
  NodeId next = 0;
  ASSERT_TRUE(WaitFor([&] {
    for (NodeId id = 1; id <= 3; ++id) {
      if (id != old_leader && c.node(id)->GetStatus().role == Role::kLeader) next = id;
    }
    return next != 0;
  }));
  ASSERT_TRUE(ProposeSync(c.node(next), PutCmd("winner", "1")).ok());
  const auto healed_at = std::chrono::steady_clock::now();
  c.net().Heal();
  // The old leader's entry is replaced when it rejoins: answered long before
  // the 10 s request timeout, as definitely not applied.
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - healed_at, std::chrono::seconds(5));
  Result<sm::v1::Response> r = answer.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("not applied"), std::string::npos);
  ASSERT_TRUE(ReadBarrierSync(c.node(old_leader)).ok());
  EXPECT_FALSE(GetValue(c.node(old_leader), "doomed", 0).has_value());
  EXPECT_EQ(GetValue(c.node(old_leader), "winner", 0), "1");
}

// Runs a membership call (`submit` takes the completion callback) and waits
// up to 5 s for its answer.
template <typename Submit>
Status MembershipChangeSync(Submit&& submit) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto f = promise->get_future();
  submit([promise](Status s) { promise->set_value(s); });
  if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    return Status::Internal("test: no answer to the membership change in time");
  }
  return f.get();
}

TEST(NodeCluster, MembershipAddLearnerPromoteAndRemove) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  auto change = [](auto&& submit) { return MembershipChangeSync(submit); };
  EXPECT_TRUE(change([&](auto cb) { c.node(leader)->AddMember(7, "node-7", true, cb); }).ok());
  auto members = c.node(leader)->Members();
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members.back().id, 7u);
  EXPECT_TRUE(members.back().learner);
  EXPECT_EQ(members.back().peer_address, "node-7");
  EXPECT_EQ(change([&](auto cb) { c.node(leader)->AddMember(7, "x", false, cb); }).code(),
            Code::kFailedPrecondition);
  // Node 7 never runs, so it is not in sync with the leader: etcd's refusal.
  const Status promote = change([&](auto cb) { c.node(leader)->PromoteMember(7, cb); });
  EXPECT_EQ(promote.code(), Code::kFailedPrecondition);
  EXPECT_EQ(promote.message(), "can only promote a learner member which is in sync with leader");
  EXPECT_TRUE(c.node(leader)->Members().back().learner);
  EXPECT_TRUE(change([&](auto cb) { c.node(leader)->RemoveMember(7, cb); }).ok());
  EXPECT_EQ(c.node(leader)->Members().size(), 3u);
  EXPECT_EQ(change([&](auto cb) { c.node(leader)->RemoveMember(7, cb); }).code(), Code::kNotFound);
  // Writes still commit with the original three voters.
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("after-membership", "ok")).ok());
}

TEST(NodeCluster, PublishedAttributesReachEveryMemberAndRemovedIdsStayOut) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  auto change = [](auto&& submit) { return MembershipChangeSync(submit); };
  // A follower publishes its name and client URLs; every member lists them.
  const NodeId follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(change([&](auto cb) {
                c.node(follower)->PublishAttributes("f", "http://f:1,http://f:2", cb);
              }).ok());
  for (NodeId id : {NodeId{1}, NodeId{2}, NodeId{3}}) {
    bool seen = false;
    for (int i = 0; i < 200 && !seen; ++i) {
      for (const Member& m : c.node(id)->Members()) {
        seen |= m.id == follower && m.name == "f" && m.client_urls == "http://f:1,http://f:2";
      }
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(seen) << "member " << id;
  }
  // Its role is unchanged.
  for (const Member& m : c.node(leader)->Members()) {
    if (m.id == follower) {
      EXPECT_FALSE(m.learner);
    }
  }
  // A removed id is refused as a sender and never comes back.
  ASSERT_TRUE(change([&](auto cb) { c.node(leader)->AddMember(7, "node-7", true, cb); }).ok());
  ASSERT_TRUE(change([&](auto cb) { c.node(leader)->RemoveMember(7, cb); }).ok());
  raft::pb::Message from_removed;
  from_removed.set_type(raft::pb::MSG_HEARTBEAT);
  from_removed.set_from(7);
  from_removed.set_to(leader);
  const Status refused = c.node(leader)->Receive(from_removed);
  EXPECT_EQ(refused.code(), Code::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "the member has been permanently removed from the cluster");
  // The peer port's batch path refuses it too (nothing queued).
  EXPECT_EQ(c.node(leader)->ReceiveBatch({from_removed}), 0u);
  const Status again = change([&](auto cb) { c.node(leader)->AddMember(7, "node-7", true, cb); });
  EXPECT_EQ(again.code(), Code::kFailedPrecondition) << again.ToString();
  EXPECT_EQ(c.node(leader)->Members().size(), 3u);
  EXPECT_FALSE(c.node(leader)->Removed());
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("after-removal", "ok")).ok());
}

TEST(NodeCluster, LeasesLiveOnTheLeaderAndANewLeaderExtendsThem) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = leader == 1 ? 2 : 1;
  sm::v1::Command grant;
  grant.mutable_lease_grant()->set_ttl(2);
  auto g = ProposeSync(c.node(follower), grant);  // granted through a follower
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const std::int64_t lease = g->lease_grant().id();
  ASSERT_NE(lease, 0);
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("lk", "v", lease)).ok());
  ASSERT_TRUE(c.node(leader)->KeepAlive(lease).ok());
  auto on_follower = c.node(follower)->KeepAlive(lease);
  EXPECT_EQ(on_follower.status().code(), Code::kUnavailable);
  EXPECT_NE(on_follower.status().message().find("not leader"), std::string::npos);
  ASSERT_TRUE(c.WaitApplied(c.node(leader)->GetStatus().applied_index));
  c.Stop(leader);
  const NodeId next = c.WaitLeader();
  ASSERT_NE(next, 0u);
  auto left = c.node(next)->LeaseTimeToLive(lease);
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_EQ(left->granted_ttl_s, 2);
  EXPECT_EQ(left->remaining_ttl_s, 2);  // extended by its full TTL on election
  EXPECT_EQ(GetValue(c.node(next), "lk", 0), "v");
  // Without keep-alives the new leader revokes it.
  EXPECT_TRUE(WaitFor([&] { return !GetValue(c.node(next), "lk", 0).has_value(); },
                      std::chrono::seconds(5)));
}

// A lease granted through a follower is answered there once the follower
// applied it; the leader's own apply may still be running (here its store is
// slow, 20 ms a write). A keep-alive or TTL lookup on the leader right then must find the
// lease, not report it missing (a client would drop a live lease).
TEST(NodeCluster, LeaseGrantedThroughAFollowerIsFoundOnALeaderThatHasNotAppliedItYet) {
  Cluster c;
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  const NodeId follower = leader == 1 ? 2 : 1;
  c.store(leader)->DelayWrites(std::chrono::milliseconds(20));
  for (int round = 0; round < 5; ++round) {
    sm::v1::Command grant;
    grant.mutable_lease_grant()->set_ttl(30);
    auto g = ProposeSync(c.node(follower), grant);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    const std::int64_t lease = g->lease_grant().id();
    auto kept = c.node(leader)->KeepAlive(lease);
    ASSERT_TRUE(kept.ok()) << "round " << round << ": " << kept.status().ToString();
    EXPECT_EQ(*kept, 30);
    grant.mutable_lease_grant()->set_ttl(40);
    auto g2 = ProposeSync(c.node(follower), grant);
    ASSERT_TRUE(g2.ok()) << g2.status().ToString();
    auto left = c.node(leader)->LeaseTimeToLive(g2->lease_grant().id());
    ASSERT_TRUE(left.ok()) << "round " << round << ": " << left.status().ToString();
    EXPECT_EQ(left->granted_ttl_s, 40);
  }
  c.store(leader)->DelayWrites(std::chrono::microseconds(0));
  // An unknown lease is still reported missing (after the barrier).
  EXPECT_EQ(c.node(leader)->KeepAlive(0x7777).status().code(), Code::kNotFound);
  EXPECT_EQ(c.node(leader)->LeaseTimeToLive(0x7777).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace aspen::node::testing

namespace aspen::node::testing {
namespace {

ClusterOptions CompactingOptions() {
  ClusterOptions o;
  o.snapshot_count = 50;
  o.snapshot_catchup_entries = 10;
  return o;
}

TEST(NodeSnapshot, HealthyFollowersKeepUpWithoutSnapshotsWhileTheLogIsCompacted) {
  Cluster c(CompactingOptions());
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("k" + std::to_string(i), "v")).ok());
  }
  const NodeStatus ls = c.node(leader)->GetStatus();
  ASSERT_TRUE(c.WaitApplied(ls.commit_index));
  EXPECT_GT(ls.compactions, 0u);
  EXPECT_GT(ls.first_index, 1u);
  // Never past the applied index less the catch-up entries.
  EXPECT_LE(ls.first_index, ls.applied_index - 10 + 1);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.node(id)->GetStatus().snapshots_installed, 0u) << "node " << id;
    EXPECT_GT(c.node(id)->GetStatus().compactions, 0u) << "node " << id;
  }
}

TEST(NodeSnapshot, FollowerBehindTheCompactedLogInstallsASnapshotAndMatchesTheLeader) {
  Cluster c(CompactingOptions());
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  const NodeId down = leader % 3 + 1;
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("before", "x")).ok());
  c.Stop(down);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(
        ProposeSync(c.node(leader), PutCmd("k" + std::to_string(i % 40), std::to_string(i))).ok());
  }
  const NodeStatus ls = c.node(leader)->GetStatus();
  ASSERT_GT(ls.first_index, 100u);  // the stopped follower's next entries are gone
  c.Start(down);
  ASSERT_TRUE(WaitFor([&] { return c.node(down)->GetStatus().applied_index >= ls.commit_index; },
                      std::chrono::seconds(10)));
  EXPECT_EQ(c.node(down)->GetStatus().snapshots_installed, 1u);
  auto hash = [&](NodeId id) { return sm::HashKV(*c.node(id)->GetSnapshot()).value().hash32; };
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("after", "y")).ok());
  ASSERT_TRUE(c.WaitApplied(c.node(leader)->GetStatus().commit_index));
  EXPECT_EQ(hash(down), hash(leader));
  EXPECT_EQ(GetValue(c.node(down), "after", 0), std::optional<std::string>("y"));
  EXPECT_EQ(GetValue(c.node(down), "k39", 0), GetValue(c.node(leader), "k39", 0));
  // The installed state survives a restart (its log starts after the snapshot).
  c.Stop(down);
  c.Start(down);
  ASSERT_TRUE(c.WaitApplied(c.node(leader)->GetStatus().commit_index));
  EXPECT_EQ(hash(down), hash(leader));
}

}  // namespace
}  // namespace aspen::node::testing
