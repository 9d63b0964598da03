// A 3-member cluster of real `aspen serve` processes on loopback: elections,
// kill -9 of the leader, and every acknowledged write readable on every
// surviving member.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

TEST(ClusterTest, KillingTheLeaderKeepsEveryAcknowledgedWrite) {
  Result<std::string> dir = MakeTempDir("aspen-cluster");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> cluster = AspenCluster::Start(*dir, 3);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  std::vector<std::unique_ptr<AspenMember>>& members = cluster->members;
  const std::vector<std::string>& endpoints = cluster->endpoints;
  const std::uint64_t leader = WaitForLeader(endpoints, 20s);
  ASSERT_NE(leader, 0u) << members[0]->Log();

  auto cluster_client = ClientFor(endpoints);
  auto list = cluster_client->MemberList();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->members_size(), 3);
  std::set<std::string> names;
  for (const auto& m : list->members()) {
    names.insert(m.name());  // other members' names come over their peer ports
    ASSERT_EQ(m.clienturls_size(), 1);
    EXPECT_EQ(m.clienturls(0).rfind("http://127.0.0.1:", 0), 0u);
  }
  EXPECT_EQ(names, (std::set<std::string>{"n0", "n1", "n2"}));

  std::map<std::string, std::string> acked;
  for (int i = 0; i < 30; ++i) {
    const std::string k = "k" + std::to_string(i), v = "v" + std::to_string(i);
    if (cluster_client->Put(k, v).ok()) acked[k] = v;
  }
  ASSERT_EQ(acked.size(), 30u);

  int leader_index = -1;
  for (int i = 0; i < 3; ++i) {
    auto s = ClientFor({endpoints[i]})->EndpointStatus();
    if (s.ok() && s->header().member_id() == leader) leader_index = i;
  }
  ASSERT_GE(leader_index, 0);

  // Leases through a follower: keep-alive and time-to-live are answered by
  // the leader over the peer port.
  auto follower = ClientFor({endpoints[(leader_index + 1) % 3]});
  auto grant = follower->LeaseGrant(30);
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  auto kept = follower->LeaseKeepAliveOnce(grant->id());
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->ttl(), 30);
  auto ttl = follower->LeaseTimeToLive(grant->id());
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_EQ(ttl->grantedttl(), 30);
  EXPECT_GT(ttl->ttl(), 0);
  EXPECT_EQ(follower->LeaseKeepAliveOnce(0x7777).status().code(), Code::kNotFound);
  members[leader_index]->Kill();
  std::vector<std::string> survivors;
  for (int i = 0; i < 3; ++i) {
    if (i != leader_index) survivors.push_back(endpoints[i]);
  }
  // Election timeout is 1 s: a new leader within a few of them.
  const auto killed_at = std::chrono::steady_clock::now();
  const std::uint64_t new_leader = WaitForLeader(survivors, 10s, leader);
  ASSERT_NE(new_leader, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 10s);

  auto survivor_client = ClientFor(survivors);
  for (int i = 30; i < 60; ++i) {
    const std::string k = "k" + std::to_string(i), v = "v" + std::to_string(i);
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (survivor_client->Put(k, v).ok()) {
        acked[k] = v;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  EXPECT_EQ(acked.size(), 60u);

  for (const std::string& e : survivors) {
    client::GetOptions o;
    o.prefix = true;
    auto got = ClientFor({e})->Get("k", o);  // linearizable: read barrier first
    ASSERT_TRUE(got.ok()) << e << ": " << got.status().ToString();
    std::map<std::string, std::string> seen;
    for (const auto& kv : got->kvs()) seen[kv.key()] = kv.value();
    for (const auto& [k, v] : acked) EXPECT_EQ(seen[k], v) << "member " << e << " key " << k;
  }
}

}  // namespace
}  // namespace aspen::testing
