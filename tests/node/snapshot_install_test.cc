// A follower behind the compacted log installs the leader's snapshot through
// RocksStore's SST ingest (node/snapshot.cc): a fault after each step of the
// install, then a restart, leaves the old state with the old log or the new
// state with a log at the snapshot index, never a mix; the member then
// catches up and its HashKV equals the leader's.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "node/cluster.h"
#include "sm/reads.h"
#include "storage/log_store.h"
#include "storage/snapshot.h"
#include "storage/test_util.h"

namespace aspen::node::testing {
namespace {

ClusterOptions RocksCompacting(const std::string& dir) {
  ClusterOptions o;
  o.snapshot_count = 50;
  o.snapshot_catchup_entries = 10;
  o.rocks_dir = dir;
  return o;
}

std::uint32_t Hash(storage::Store* store) {
  auto h = sm::HashKV(*store->GetSnapshot());
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? h->hash32 : 0;
}

std::uint64_t Applied(storage::Store* store) {
  auto a = sm::ReadAppliedState(*store->GetSnapshot());
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? a->applied_index : 0;
}

bool Marked(storage::Store* store) {
  auto m = storage::IngestIncomplete(store);
  EXPECT_TRUE(m.ok());
  return m.ok() && *m;
}

int CountFiles(const std::string& dir, const std::string& ext) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ext) ++n;
  }
  return n;
}

bool LogSays(Cluster& c, const std::string& text) {
  auto lines = c.log_lines();
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

// `n` bytes that compress poorly (the SST files' sizes follow the state's).
std::string Noise(std::size_t n, std::uint64_t seed) {
  std::string out(n, '\0');
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (char& ch : out) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ch = static_cast<char>('!' + (x >> 33) % 90);
  }
  return out;
}

// Stops `down`, writes well past the compaction point with values of
// `value_bytes`, and returns the leader's commit index then.
std::uint64_t FallBehind(Cluster& c, NodeId leader, NodeId down, std::size_t value_bytes) {
  c.Stop(down);
  for (int i = 0; i < 300; ++i) {
    auto put = ProposeSync(
        c.node(leader),
        PutCmd("k" + std::to_string(i % 120), Noise(value_bytes, static_cast<std::uint64_t>(i))));
    EXPECT_TRUE(put.ok()) << put.status().ToString();
  }
  const NodeStatus ls = c.node(leader)->GetStatus();
  EXPECT_GT(ls.first_index, 100u);  // the stopped follower's next entries are gone
  return ls.commit_index;
}

void ExpectCaughtUp(Cluster& c, NodeId leader, NodeId down) {
  ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("after", "y")).ok());
  const std::uint64_t commit = c.node(leader)->GetStatus().commit_index;
  ASSERT_TRUE(WaitFor([&] { return c.node(down)->GetStatus().applied_index >= commit; },
                      std::chrono::seconds(15)));
  auto hash = [&](NodeId id) { return sm::HashKV(*c.node(id)->GetSnapshot()).value().hash32; };
  EXPECT_EQ(hash(down), hash(leader));
  EXPECT_EQ(GetValue(c.node(down), "after", 0), std::optional<std::string>("y"));
  EXPECT_EQ(GetValue(c.node(down), "k119", 0), GetValue(c.node(leader), "k119", 0));
}

TEST(NodeSnapshotIngest, FaultAtEachInstallStepRestartsConsistentAndCatchesUp) {
  for (int step = 1; step <= 3; ++step) {
    SCOPED_TRACE("fault after step " + std::to_string(step));
    storage::testing::TempDir dir;
    Cluster c(RocksCompacting(dir.path()));
    c.StartAll();
    const NodeId leader = c.WaitLeader();
    ASSERT_NE(leader, 0u);
    const NodeId down = leader % 3 + 1;
    ASSERT_TRUE(ProposeSync(c.node(leader), PutCmd("before", "x")).ok());
    ASSERT_TRUE(c.WaitApplied(c.node(leader)->GetStatus().commit_index));
    FallBehind(c, leader, down, 512);
    const std::uint64_t old_applied = Applied(c.rocks(down));
    const std::uint32_t old_hash = Hash(c.rocks(down));

    c.SetIngestOptions(down, {.max_sst_bytes = 16 << 10, .fail_after_step = step});
    c.Start(down);
    const std::string fault = "injected fault after step " + std::to_string(step);
    ASSERT_TRUE(WaitFor([&] { return LogSays(c, fault); }, std::chrono::seconds(15)));
    if (step >= 2) {
      // Between the drop and the log reset, readers get the state as it was
      // before the install, not the empty or not-yet-committed one.
      EXPECT_EQ(sm::HashKV(*c.node(down)->GetSnapshot()).value().hash32, old_hash);
      EXPECT_EQ(GetValue(c.node(down), "before", 0), std::optional<std::string>("x"));
      EXPECT_NE(Hash(c.rocks(down)), old_hash);  // the store itself changed
    }
    c.Stop(down);  // the crash: every step before the fault was synced
    c.ReopenStore(down);
    storage::RocksStore* store = c.rocks(down);
    if (step == 1) {
      // The rows of a state much larger than one file sit in many files.
      EXPECT_GE(CountFiles(store->IngestStagingDir(), ".sst"), 4);
    }
    EXPECT_EQ(Marked(store), step >= 2);

    // Open alone (no loop yet): recovery makes the store consistent.
    std::uint64_t snap_index = 0;
    {
      auto opened = Node::Open(c.OptionsFor(down));
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      EXPECT_FALSE(Marked(store));
      auto log = storage::LogStore::Open(store);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      const std::uint64_t applied = Applied(store);
      if (step == 1) {
        // Old state, old log.
        EXPECT_EQ(applied, old_applied);
        EXPECT_EQ(Hash(store), old_hash);
        EXPECT_GE((*log)->LastIndex(), applied);
      } else {
        // New state at the snapshot index, the log reset to it.
        EXPECT_GT(applied, old_applied);
        EXPECT_EQ((*log)->Truncated().index, applied);
        EXPECT_EQ((*log)->LastIndex(), applied);
        auto initial = (*log)->InitialState();
        ASSERT_TRUE(initial.ok());
        EXPECT_EQ(initial->hard_state.commit, applied);
        EXPECT_GE(initial->hard_state.term, (*log)->Truncated().term);
        EXPECT_FALSE(std::filesystem::exists(store->IngestStagingDir()));
        EXPECT_TRUE(LogSays(c, "finished a snapshot install a restart interrupted"));
        // After step 2 the old state was dropped and nothing ingested: the
        // staged files alone rebuilt the new state.
        EXPECT_EQ(LogSays(c, "staged files ingested again"), step == 2);
        snap_index = applied;
      }
      EXPECT_EQ((*opened)->GetStatus().applied_index, applied);
    }

    c.SetIngestOptions(down, {.max_sst_bytes = 16 << 10});
    c.Start(down);
    ExpectCaughtUp(c, leader, down);
    // The log chain continues from the snapshot's chain hash.
    c.Stop(down);
    auto log = storage::LogStore::Open(c.rocks(down));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_TRUE((*log)->VerifyChain().ok());
    if (snap_index != 0) {
      EXPECT_GE((*log)->FirstIndex(), snap_index + 1);
    }
  }
}

TEST(NodeSnapshotIngest, FollowerInstallOfAStateLargerThanOneSstFileMatchesTheLeader) {
  storage::testing::TempDir dir;
  Cluster c(RocksCompacting(dir.path()));
  c.StartAll();
  const NodeId leader = c.WaitLeader();
  ASSERT_NE(leader, 0u);
  const NodeId down = leader % 3 + 1;
  FallBehind(c, leader, down, 1024);
  const int before = CountFiles(dir.path() + "/node-" + std::to_string(down) + "/db", ".sst");
  c.SetIngestOptions(down, {.max_sst_bytes = 8 << 10});
  c.Start(down);
  ExpectCaughtUp(c, leader, down);
  EXPECT_EQ(c.node(down)->GetStatus().snapshots_installed, 1u);
  EXPECT_FALSE(Marked(c.rocks(down)));
  // 120 keys x 1 KiB (and their history) in files of 8 KiB.
  EXPECT_GE(CountFiles(dir.path() + "/node-" + std::to_string(down) + "/db", ".sst") - before, 10);
  // The installed state survives a restart.
  c.Stop(down);
  c.Start(down);
  ExpectCaughtUp(c, leader, down);
}

}  // namespace
}  // namespace aspen::node::testing
