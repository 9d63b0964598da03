// Lease keep-alives wait where etcd's wait (node/lessor.h,
// server/lease_service.cc), seen from clients of real `aspen serve` members:
// a keep-alive of an expired lease whose revocation is not applied yet answers
// "not found" (TTL 0) once it is, instead of UNAVAILABLE; and the real
// `etcdctl lease keep-alive` (one stream over every member's endpoint) keeps a
// lease alive while the leadership moves from member to member (a keep-alive
// reaching a new leader before its lease takeover waits there; one waiting on
// a leader that steps down is forwarded to the next one).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

std::string Hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The index of the member whose id is `id`, -1 if none answers with it.
int IndexOf(const std::vector<std::string>& endpoints, std::uint64_t id) {
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    auto s = ClientFor({endpoints[i]})->EndpointStatus();
    if (s.ok() && s->header().member_id() == id) return static_cast<int>(i);
  }
  return -1;
}

TEST(LeaseWaitProcessTest, KeepAliveOfAnExpiredLeaseBeforeItsRevocationAnswersNotFound) {
  Result<std::string> dir = MakeTempDir("aspen-lease-expired");
  ASSERT_TRUE(dir.ok());
  auto member = AspenMember::Start("n1", *dir + "/n1", PickMemberPorts(), {});
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  auto client = ClientFor({(*member)->endpoint()});
  // The window: the lease's TTL has passed (time-to-live answers 0) and the
  // leader's next expiry round (every 500 ms) has not revoked it yet (then
  // time-to-live answers -1). Polled every 5 ms; a lease whose window was
  // missed between two polls is replaced by a new one.
  int hit = 0;
  for (int attempt = 0; attempt < 5 && hit == 0; ++attempt) {
    auto grant = client->LeaseGrant(2);  // the minimum TTL at the default timing
    ASSERT_TRUE(grant.ok()) << grant.status().ToString();
    const std::int64_t lease = grant->id();
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until) {
      auto ttl = client->LeaseTimeToLive(lease);
      ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
      if (ttl->ttl() < 0) break;  // revoked already: missed this lease's window
      if (ttl->ttl() == 0) {
        const auto asked = std::chrono::steady_clock::now();
        auto kept = client->LeaseKeepAliveOnce(lease);
        // Before: UNAVAILABLE "lease expired; its revocation is in progress".
        EXPECT_EQ(kept.status().code(), Code::kNotFound) << kept.status().ToString();
        auto after = client->LeaseTimeToLive(lease);
        ASSERT_TRUE(after.ok()) << after.status().ToString();
        EXPECT_EQ(after->ttl(), -1) << "answered before the revocation applied";
        EXPECT_LT(std::chrono::steady_clock::now() - asked, 3s);
        ++hit;
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_EQ(hit, 1) << "never saw an expired lease before its revocation";
}

TEST(LeaseWaitProcessTest, EtcdctlKeepAliveSurvivesLeaderMovesAndTheLeaseStaysAlive) {
  Result<std::string> dir = MakeTempDir("aspen-lease-move");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> cluster = AspenCluster::Start(*dir, 3);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  const std::vector<std::string>& endpoints = cluster->endpoints;
  std::uint64_t leader = WaitForLeader(endpoints, 20s);
  ASSERT_NE(leader, 0u) << cluster->members[0]->Log();

  auto client = ClientFor(endpoints);
  auto grant = client->LeaseGrant(5);  // etcdctl renews every 5/3 s
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  const std::int64_t lease = grant->id();
  const std::string log = *dir + "/keepalive.log";
  auto keep = ChildProcess::Spawn({"/usr/bin/etcdctl", "--endpoints=" + cluster->JoinedEndpoints(),
                                   "lease", "keep-alive", Hex(static_cast<std::uint64_t>(lease))},
                                  log);
  ASSERT_TRUE(keep.ok()) << keep.status().ToString();

  // Three moves, each to the next member; between them the lease is alive
  // through every member (the new leader extended it, etcdctl renews it).
  for (int move = 0; move < 3; ++move) {
    std::this_thread::sleep_for(1200ms);
    const int from = IndexOf(endpoints, leader);
    ASSERT_GE(from, 0);
    const int to = (from + 1) % 3;
    auto target = ClientFor({endpoints[to]})->EndpointStatus();
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    ProgramRun moved = Etcdctl(endpoints[from], {"move-leader", Hex(target->header().member_id())});
    ASSERT_EQ(moved.exit_code, 0) << moved.out << moved.err;
    leader = WaitForLeader(endpoints, 10s, leader);
    ASSERT_EQ(leader, target->header().member_id());
    for (const std::string& ep : endpoints) {
      auto ttl = ClientFor({ep})->LeaseTimeToLive(lease);
      ASSERT_TRUE(ttl.ok()) << ep << ": " << ttl.status().ToString();
      EXPECT_EQ(ttl->grantedttl(), 5);
      EXPECT_GT(ttl->ttl(), 0) << "lease expired after move " << move << " (via " << ep << ")";
    }
    ASSERT_TRUE((*keep)->Running()) << "etcdctl lease keep-alive ended after move " << move;
  }
  std::this_thread::sleep_for(1200ms);
  ASSERT_TRUE((*keep)->Running());
  (*keep)->Stop(SIGINT, 2s);
  std::ifstream in(log);
  std::stringstream out;
  out << in.rdbuf();
  const std::string text = out.str();
  EXPECT_NE(text.find("keepalived with TTL(5)"), std::string::npos) << text;
  EXPECT_EQ(text.find("expired or revoked"), std::string::npos) << text;
  EXPECT_EQ(text.find("rror"), std::string::npos) << text;
  auto ttl = client->LeaseTimeToLive(lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_GT(ttl->ttl(), 0);
}

// A follower forwards keep-alives to the leader with asynchronous peer calls
// (server/peer_client.h). It used to make them on its worker pool, one
// blocking call each: with the leader hung (SIGSTOP here; a partition or a
// frozen VM alike) every forward waited out the 2 s peer deadline, a dozen
// keep-alive streams held all 4 workers, and the follower's serializable
// reads, which run on the same pool, stalled for seconds (this test's reads
// hit their 3 s deadline on the old code). The long election timeout keeps
// the hung leader the one the follower forwards to.
TEST(LeaseWaitProcessTest, AFollowerKeepsServingReadsWhileKeepAlivesItForwardsWaitOnAHungLeader) {
  Result<std::string> dir = MakeTempDir("aspen-lease-hung");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> cluster =
      AspenCluster::Start(*dir, 3, "t1", {"--election-timeout=6000", "--heartbeat-interval=100"});
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  const std::vector<std::string>& endpoints = cluster->endpoints;
  const std::uint64_t leader = WaitForLeader(endpoints, 30s);
  ASSERT_NE(leader, 0u) << cluster->members[0]->Log();
  const int lead = IndexOf(endpoints, leader);
  ASSERT_GE(lead, 0);
  const std::string follower = endpoints[(lead + 1) % 3];
  auto client = ClientFor({follower});
  ASSERT_TRUE(client->Put("k", "v").ok());

  // Twelve keep-alive streams on the follower, each renewing every second.
  std::vector<std::unique_ptr<ChildProcess>> keepers;
  for (int i = 0; i < 12; ++i) {
    auto grant = client->LeaseGrant(3);
    ASSERT_TRUE(grant.ok()) << grant.status().ToString();
    auto keep = ChildProcess::Spawn({"/usr/bin/etcdctl", "--endpoints=" + follower, "lease",
                                     "keep-alive", Hex(static_cast<std::uint64_t>(grant->id()))},
                                    *dir + "/keepalive" + std::to_string(i) + ".log");
    ASSERT_TRUE(keep.ok()) << keep.status().ToString();
    keepers.push_back(std::move(*keep));
  }
  std::this_thread::sleep_for(1500ms);

  const pid_t hung = cluster->members[lead]->process().pid();
  ::kill(hung, SIGSTOP);
  std::chrono::milliseconds slowest{0};
  int reads = 0;
  std::string failed;
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    const auto start = std::chrono::steady_clock::now();
    client::GetOptions o;
    o.serializable = true;
    auto got = client->Get("k", o);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    if (!got.ok() && failed.empty()) failed = got.status().ToString();
    slowest = std::max(slowest, took);
    ++reads;
    std::this_thread::sleep_for(10ms);
  }
  ::kill(hung, SIGCONT);
  for (auto& k : keepers) k->Stop(SIGINT, 2s);
  EXPECT_EQ(failed, "") << "a serializable read on the follower failed";
  EXPECT_GT(reads, 20);
  // Before: 3 s (the read's deadline); now tens of ms.
  EXPECT_LT(slowest, 1000ms) << "a serializable read on the follower waited behind forwarded "
                                "keep-alives";
}

}  // namespace
}  // namespace aspen::testing
