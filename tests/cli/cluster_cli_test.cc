// `aspen member list`, `endpoint status`, `endpoint health` and failover of the
// client commands against three real `aspen serve` members on loopback.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/serve_process.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

ProgramRun Aspen(std::vector<std::string> args, const std::string& endpoints) {
  args.insert(args.begin(), ASPEN_BINARY);
  args.insert(args.end(), {"--endpoints", endpoints, "--dial-timeout", "500ms"});
  return RunProgram(args, "", 15s);
}

TEST(ClusterCliTest, ThreeMembersOneRowEachAndHealthFailsWhenOneIsKilled) {
  Result<std::string> dir = MakeTempDir("aspen-cli-cluster");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> cluster = AspenCluster::Start(*dir, 3, "cli");
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  std::vector<std::unique_ptr<AspenMember>>& members = cluster->members;
  const std::string all = cluster->JoinedEndpoints();

  // Healthy once a leader serves linearizable reads on every member. A
  // follower whose ReadIndex was lost or collided with another member's used
  // to stay unhealthy until the deadline (reads are now retried).
  ProgramRun health;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  do {
    std::this_thread::sleep_for(200ms);
    health = Aspen({"endpoint", "health"}, all);
  } while (health.exit_code != 0 && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(health.exit_code, 0) << health.out << health.err << members[0]->Log();
  EXPECT_EQ(std::count(health.out.begin(), health.out.end(), '\n'), 3) << health.out;

  ProgramRun list = Aspen({"member", "list", "-o", "json"}, all);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const Json m = Json::parse(list.out);
  ASSERT_EQ(m["members"].size(), 3u);

  ProgramRun status = Aspen({"endpoint", "status", "-o", "json"}, all);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const Json s = Json::parse(status.out);
  ASSERT_EQ(s["endpoints"].size(), 3u);
  int leaders = 0;
  std::size_t follower = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const Json& row = s["endpoints"][i];
    EXPECT_EQ(row["endpoint"], members[i]->endpoint());  // in --endpoints order
    EXPECT_EQ(row["leader"], s["endpoints"][0]["leader"]);
    if (row["is_leader"] == true) {
      ++leaders;
    } else {
      follower = i;
    }
  }
  EXPECT_EQ(leaders, 1);

  // One member down: health names it and exits 3; the rest keep working.
  members[follower]->Kill();
  const auto killed_at = std::chrono::steady_clock::now();
  Json d;
  bool as_expected = false;
  while (!as_expected && std::chrono::steady_clock::now() < killed_at + 20s) {
    ProgramRun degraded =
        Aspen({"endpoint", "health", "-o", "json", "--command-timeout", "2s"}, all);
    EXPECT_EQ(degraded.exit_code, 3) << degraded.out << degraded.err;
    d = Json::parse(degraded.out);
    as_expected = true;
    for (std::size_t i = 0; i < 3; ++i) {
      as_expected = as_expected && d["endpoints"][i]["health"] == (i != follower);
    }
  }
  EXPECT_TRUE(as_expected) << d.dump();
  // Writes may start at the dead member; the client moves past an endpoint it
  // cannot connect to, so cas and txn succeed through the list.
  ProgramRun cas = Aspen({"cas", "cluster/k", "v1", "--create"}, all);
  EXPECT_EQ(cas.exit_code, 0) << cas.err;
  ProgramRun txn = Aspen({"txn", "-f", "/dev/null"}, all);
  EXPECT_EQ(txn.exit_code, 0) << txn.err;  // no compares: the success branch
  ProgramRun get = Aspen({"get", "cluster/k"}, all);
  EXPECT_EQ(get.out, "cluster/k\nv1\n");
  members.clear();
  std::filesystem::remove_all(*dir);
}

}  // namespace
}  // namespace aspen::testing
