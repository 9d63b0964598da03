// The peer transport in a real 3-member cluster of `aspen serve` processes:
// a follower that stops reading (SIGSTOP) never holds up the leader, whose
// writes keep committing with the other follower while many proposals per
// Ready are queued (and coalesced) for the stopped one; once resumed, it
// catches up to every acknowledged write. Members sending over different
// peer streams (tcp, grpc) replicate to each other.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

// The keys under `prefix` that the member at `endpoint` itself has applied
// (serializable reads), polled every `every` until they equal `want` or
// `timeout` passes; the last reading.
std::map<std::string, std::string> AppliedUnder(const std::string& endpoint,
                                                const std::string& prefix,
                                                const std::map<std::string, std::string>& want,
                                                std::chrono::milliseconds timeout,
                                                std::chrono::milliseconds every) {
  client::GetOptions o;
  o.prefix = true;
  o.serializable = true;
  auto c = ClientFor({endpoint});
  std::map<std::string, std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = c->Get(prefix, o);
    if (got.ok()) {
      seen.clear();
      for (const auto& kv : got->kvs()) seen[kv.key()] = kv.value();
      if (seen == want) break;
    }
    std::this_thread::sleep_for(every);
  }
  return seen;
}

TEST(PeerClusterTest, StoppedFollowerNeverBlocksWritesAndCatchesUpWhenResumed) {
  Result<std::string> dir = MakeTempDir("aspen-peer-cluster");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> cluster = AspenCluster::Start(*dir, 3);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  const std::vector<std::string>& endpoints = cluster->endpoints;
  const int leader = IndexOfMember(endpoints, WaitForLeader(endpoints, 20s));
  ASSERT_GE(leader, 0) << cluster->members[0]->Log();
  const int stopped = (leader + 1) % 3;
  const pid_t stopped_pid = cluster->members[stopped]->process().pid();
  ASSERT_EQ(kill(stopped_pid, SIGSTOP), 0);

  // 8 writers through the leader: several proposals per Ready, so appends to
  // the stopped follower pile up in its queue while the other one acks.
  constexpr int kWriters = 8, kPerWriter = 40;
  const std::string value(16384, 'v');  // 5 MiB in all
  std::mutex mu;
  std::map<std::string, std::string> acked;
  std::atomic<int> failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto c = ClientFor({endpoints[leader]});
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string k = "k" + std::to_string(w) + "-" + std::to_string(i);
        const std::string v = value + std::to_string(i);
        if (c->Put(k, v).ok()) {
          std::lock_guard lock(mu);
          acked[k] = v;
        } else {
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(acked.size(), static_cast<std::size_t>(kWriters * kPerWriter));
  // Each put waits for one fsync on two members, not for the stopped one.
  EXPECT_LT(took, 20s);

  ASSERT_EQ(kill(stopped_pid, SIGCONT), 0);
  const std::map<std::string, std::string> seen =
      AppliedUnder(endpoints[stopped], "k", acked, 20s, 100ms);
  EXPECT_EQ(seen.size(), acked.size());
  EXPECT_TRUE(seen == acked) << "the resumed follower did not catch up";
}

// Members that send over different streams (--peer-stream grpc on one, the
// default tcp on the others) form one cluster: every member's peer port
// receives both kinds, so every write made through any member reaches all.
TEST(PeerClusterTest, MembersSendingOverDifferentStreamsReplicateEveryWrite) {
  Result<std::string> dir = MakeTempDir("aspen-peer-mixed");
  ASSERT_TRUE(dir.ok());
  std::vector<MemberPorts> ports;
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    ports.push_back(PickMemberPorts());
    initial += (i ? "," : "") + std::string("n") + std::to_string(i) + "=" + ports[i].peer_url();
  }
  std::vector<std::unique_ptr<AspenMember>> members;
  std::vector<std::string> endpoints;
  for (int i = 0; i < 3; ++i) {
    auto m = AspenMember::Start("n" + std::to_string(i), *dir + "/n" + std::to_string(i), ports[i],
                                {"--initial-cluster=" + initial, "--initial-cluster-token=mixed",
                                 i == 0 ? "--peer-stream=grpc" : "--peer-stream=tcp"},
                                /*wait_ready=*/false);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    endpoints.push_back((*m)->endpoint());
    members.push_back(std::move(m).value());
  }
  ASSERT_NE(WaitForLeader(endpoints, 20s), 0u) << members[0]->Log();
  std::map<std::string, std::string> acked;
  for (int i = 0; i < 30; ++i) {
    auto c = ClientFor({endpoints[static_cast<std::size_t>(i % 3)]});
    const std::string k = "m" + std::to_string(i);
    ASSERT_TRUE(c->Put(k, "v" + std::to_string(i)).ok()) << "through member " << i % 3;
    acked[k] = "v" + std::to_string(i);
  }
  for (int i = 0; i < 3; ++i) {
    const std::map<std::string, std::string> seen =
        AppliedUnder(endpoints[static_cast<std::size_t>(i)], "m", acked, 10s, 50ms);
    EXPECT_TRUE(seen == acked) << "member n" << i << " has " << seen.size() << " of "
                               << acked.size() << " writes";
  }
}

}  // namespace
}  // namespace aspen::testing
