// Three real `aspen serve` processes on loopback under continuous write load
// from several client threads: kill -9 of the leader, repeatedly, and of
// followers, each restarted on its data dir. Each round must elect a new
// leader within a few election timeouts; at the end every acknowledged write
// is readable (linearizable read) on every member, and every member has the
// same HashKV at the same revision.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "etcdserverpb/maintenance.grpc.pb.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

// The members' default election timeout (docs/OPERATIONS.md).
constexpr auto kElectionTimeout = 1000ms;
// A new leader must be agreed on within this many election timeouts.
constexpr int kElectionBudget = 5;
constexpr int kWriters = 4;
constexpr int kRounds = 4;
// Members here are killed: connect and ask briefly, poll often.
constexpr auto kDial = 300ms;
const LeaderPoll kPoll = [] {
  LeaderPoll p;
  p.call_timeout = 500ms;
  p.dial_timeout = kDial;
  p.every = 20ms;
  return p;
}();

struct Hash {
  bool ok = false;
  std::uint32_t hash = 0;
  std::int64_t revision = 0;
  std::string error;
};

Hash HashKV(const std::string& endpoint) {
  auto stub = etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 2s);
  etcdserverpb::HashKVRequest req;
  etcdserverpb::HashKVResponse resp;
  const grpc::Status st = stub->HashKV(&ctx, req, &resp);
  if (!st.ok()) return Hash{false, 0, 0, st.error_message()};
  return Hash{true, resp.hash(), resp.header().revision(), ""};
}

// Writers: each thread puts unique keys through a client of every member and
// records the writes that were acknowledged.
class WriteLoad {
 public:
  explicit WriteLoad(const std::vector<std::string>& endpoints) {
    for (int t = 0; t < kWriters; ++t) {
      threads_.emplace_back([this, t, endpoints] {
        auto c = ClientFor(endpoints, 1500ms, kDial);
        for (int n = 0; !stop_.load(); ++n) {
          const std::string key = "w" + std::to_string(t) + "-" + std::to_string(n);
          const std::string value = "v" + std::to_string(n);
          if (c->Put(key, value).ok()) {
            std::lock_guard lock(mu_);
            acked_[key] = value;
          } else {
            failed_.fetch_add(1);
            std::this_thread::sleep_for(20ms);
          }
        }
      });
    }
  }
  ~WriteLoad() { Stop(); }
  void Stop() {
    stop_.store(true);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::size_t acked() {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  std::map<std::string, std::string> acked_writes() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  std::uint64_t failed() const { return failed_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> failed_{0};
  std::mutex mu_;
  std::map<std::string, std::string> acked_;
  std::vector<std::thread> threads_;
};

// Waits until the writers have `more` acknowledged writes beyond `base`.
bool WaitForProgress(WriteLoad& load, std::size_t base, std::size_t more,
                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (load.acked() >= base + more) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

class KillRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> dir = MakeTempDir("aspen-kill");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    for (int i = 0; i < 3; ++i) {
      ports_.push_back(PickMemberPorts());
      initial_ +=
          (i ? "," : "") + std::string("n") + std::to_string(i) + "=" + ports_[i].peer_url();
    }
    members_.resize(3);
    for (int i = 0; i < 3; ++i) {
      StartMember(i, /*wait_ready=*/false);
      endpoints_.push_back(ports_[i].client_endpoint());
    }
  }

  void StartMember(int i, bool wait_ready) {
    auto m = AspenMember::Start("n" + std::to_string(i), dir_ + "/n" + std::to_string(i), ports_[i],
                                {"--initial-cluster=" + initial_, "--initial-cluster-token=kill"},
                                wait_ready);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    members_[i] = std::move(m).value();
  }

  int IndexOf(std::uint64_t member_id) {
    for (int i = 0; i < 3; ++i) {
      auto s = ClientFor({endpoints_[i]}, 500ms, kDial)->EndpointStatus();
      if (s.ok() && s->header().member_id() == member_id) return i;
    }
    return -1;
  }

  std::vector<std::string> Others(int i) {
    std::vector<std::string> out;
    for (int j = 0; j < 3; ++j) {
      if (j != i) out.push_back(endpoints_[j]);
    }
    return out;
  }

  std::string dir_;
  std::string initial_;
  std::vector<MemberPorts> ports_;
  std::vector<std::string> endpoints_;
  std::vector<std::unique_ptr<AspenMember>> members_;
};

TEST_F(KillRestartTest, RepeatedKill9OfLeaderAndFollowersLosesNoAcknowledgedWrite) {
  std::uint64_t leader = WaitForLeader(endpoints_, 20s, 0, kPoll);
  ASSERT_NE(leader, 0u) << members_[0]->Log();
  WriteLoad load(endpoints_);
  ASSERT_TRUE(WaitForProgress(load, 0, 20, 10s)) << "no writes acknowledged before the faults";

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // kill -9 the leader under load; the survivors elect a new one.
    const int li = IndexOf(leader);
    ASSERT_GE(li, 0);
    members_[li]->Kill();
    const auto killed_at = std::chrono::steady_clock::now();
    const std::uint64_t next =
        WaitForLeader(Others(li), kElectionBudget * kElectionTimeout, leader, kPoll);
    ASSERT_NE(next, 0u) << "no new leader within " << kElectionBudget << " election timeouts";
    const auto took = std::chrono::steady_clock::now() - killed_at;
    std::printf("round %d: leader n%d killed, new leader after %lld ms\n", round, li,
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    // Writes go on with one member down.
    ASSERT_TRUE(WaitForProgress(load, load.acked(), 10, 10s))
        << "no writes acknowledged after the new leader was elected";
    StartMember(li, /*wait_ready=*/true);

    // kill -9 a follower, let writes go on, restart it.
    leader = WaitForLeader(endpoints_, 10s, 0, kPoll);
    ASSERT_NE(leader, 0u);
    const int fi = (IndexOf(leader) + 1 + round % 2) % 3;
    members_[fi]->Kill();
    ASSERT_TRUE(WaitForProgress(load, load.acked(), 10, 10s))
        << "no writes acknowledged with follower n" << fi << " down";
    StartMember(fi, /*wait_ready=*/true);
    leader = WaitForLeader(endpoints_, 10s, 0, kPoll);
    ASSERT_NE(leader, 0u);
  }
  load.Stop();
  const std::map<std::string, std::string> acked = load.acked_writes();
  std::printf("%zu writes acknowledged, %llu failed or unknown\n", acked.size(),
              static_cast<unsigned long long>(load.failed()));

  // Every acknowledged write on every member (linearizable reads).
  for (const std::string& e : endpoints_) {
    client::GetOptions o;
    o.prefix = true;
    Result<etcdserverpb::RangeResponse> got = Status::Unavailable("not tried");
    for (int attempt = 0; attempt < 50 && !got.ok(); ++attempt) {
      got = ClientFor({e}, 3000ms, kDial)->Get("w", o);
      if (!got.ok()) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(got.ok()) << e << ": " << got.status().ToString();
    std::map<std::string, std::string> seen;
    for (const auto& kv : got->kvs()) seen[kv.key()] = kv.value();
    std::size_t missing = 0;
    for (const auto& [k, v] : acked) {
      auto it = seen.find(k);
      if (it == seen.end() || it->second != v) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "member " << e << " lacks acknowledged writes";
  }

  // Every member at the same revision has the same HashKV.
  std::vector<Hash> hashes;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool same_revision = false;
  while (!same_revision && std::chrono::steady_clock::now() < deadline) {
    hashes.clear();
    for (const std::string& e : endpoints_) hashes.push_back(HashKV(e));
    same_revision = true;
    for (const Hash& h : hashes) {
      same_revision = same_revision && h.ok && h.revision == hashes[0].revision;
    }
    if (!same_revision) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(same_revision) << "members did not reach one revision: " << hashes[0].revision << " "
                             << hashes[1].revision << " " << hashes[2].revision << " "
                             << hashes[0].error;
  EXPECT_EQ(hashes[0].hash, hashes[1].hash);
  EXPECT_EQ(hashes[0].hash, hashes[2].hash);
}

}  // namespace
}  // namespace aspen::testing
