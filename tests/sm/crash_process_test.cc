// Crash consistency of the whole write path below Raft, with real processes:
// a child (sm_crash_child) appends synced log entries and applies them with
// unsynced batches; the parent SIGKILLs it at random moments (kCycles), and
// after each kill checks that every acknowledged write is in the log and
// committed, the chain hash verifies, recovery brings applied_index to the
// commit index, and the state equals a replay of the committed log from
// scratch (same revision, same HashKV). Pipes only, no network.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "sm/crash_workload.h"
#include "sm/reads.h"
#include "sm/recovery.h"
#include "sm/state_machine.h"
#include "storage/log_store.h"
#include "storage/mem_store.h"
#include "storage/rocks_store.h"
#include "storage/subprocess.h"
#include "storage/test_util.h"

namespace aspen::sm {
namespace {

// 200 SIGKILLs; 100 in the sanitizer tree, where each cycle costs 3-4 times
// more (the release tree runs all 200).
#ifdef ASPEN_SANITIZED_TESTS
constexpr int kCycles = 100;
#else
constexpr int kCycles = 200;
#endif

std::uint64_t MaxAcked(const std::string& out) {
  std::uint64_t max = 0;
  std::size_t start = 0;
  for (std::size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    max = std::max<std::uint64_t>(max, std::stoull(out.substr(start, nl - start)));
    start = nl + 1;
  }
  return max;
}

// The state a correct node must have after applying log entries 1..commit:
// a state machine over a MemStore that applies the committed log in order,
// from scratch, and keeps up across kills (commit only grows, and committed
// entries never change), so each check costs the new entries only.
class Replay {
 public:
  Replay() {
    auto sm = StateMachine::Open(&mem_);
    EXPECT_TRUE(sm.ok());
    if (sm.ok()) sm_ = std::move(*sm);
  }

  KvHash StateAt(const storage::LogStore& log, std::uint64_t commit) {
    if (sm_ == nullptr) return KvHash{};
    EXPECT_GE(commit, sm_->applied_index());
    if (commit > sm_->applied_index()) {
      auto entries = log.Entries(sm_->applied_index() + 1, commit + 1, UINT64_MAX);
      EXPECT_TRUE(entries.ok()) << entries.status().ToString();
      std::vector<Entry> batch;
      for (const auto& e : *entries) batch.push_back(Entry{e.index, e.data});
      EXPECT_TRUE(sm_->ApplyAndWrite(batch).ok());
    }
    EXPECT_EQ(sm_->applied_index(), commit);
    auto hash = HashKV(*mem_.GetSnapshot());
    EXPECT_TRUE(hash.ok());
    return *hash;
  }

 private:
  storage::MemStore mem_;
  std::unique_ptr<StateMachine> sm_;
};

void CheckAfterKill(const std::string& dir, std::uint64_t acked, int cycle, Replay* replay,
                    int* replays) {
  SCOPED_TRACE("cycle " + std::to_string(cycle) + ", acked " + std::to_string(acked));
  auto store = storage::RocksStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto log = storage::LogStore::Open(store->get());  // verifies the chain hash
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto initial = (*log)->InitialState();
  ASSERT_TRUE(initial.ok());
  const std::uint64_t commit = initial->hard_state.commit;
  // Every acknowledged write is durable and committed.
  ASSERT_GE(commit, acked);
  ASSERT_EQ((*log)->LastIndex(), commit);
  auto acked_entry = (*log)->Entries(acked, acked + 1, UINT64_MAX);
  if (acked > 0) {
    ASSERT_TRUE(acked_entry.ok());
    EXPECT_EQ((*acked_entry)[0].data, testing::CrashCommand(acked));
  }
  auto sm = StateMachine::Open(store->get());
  ASSERT_TRUE(sm.ok()) << sm.status().ToString();
  // The unsynced apply may lag the synced append by at most the one entry in
  // flight, never lead it.
  ASSERT_LE((*sm)->applied_index(), commit);
  ASSERT_GE((*sm)->applied_index() + 1, commit);
  auto report = ReplayCommitted(**log, sm->get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ((*sm)->applied_index(), commit);
  if (report->replayed > 0) ++*replays;
  // The state equals a replay of the committed log.
  auto hash = HashKV(*(*store)->GetSnapshot());
  ASSERT_TRUE(hash.ok());
  const KvHash expected = replay->StateAt(**log, commit);
  EXPECT_EQ(hash->revision, expected.revision);
  EXPECT_EQ(hash->revision, (*sm)->revision());
  EXPECT_EQ(hash->sha256, expected.sha256);
  auto applied_state = ReadAppliedState(*(*store)->GetSnapshot());
  ASSERT_TRUE(applied_state.ok());
  EXPECT_EQ(applied_state->applied_index, commit);
}

TEST(SmCrashProcessTest, EveryAcknowledgedWriteSurvivesSigkillAndStateEqualsLogReplay) {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("ASPEN_CRASH_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::cout << "seed " << seed << " (rerun with ASPEN_CRASH_SEED=" << seed << ")" << std::endl;
  std::mt19937_64 rng(seed);
  storage::testing::TempDir dir;
  const std::string db = dir.Sub("db");
  std::uint64_t acked_total = 0;
  Replay replay;
  int replays = 0;        // kills that landed between a synced append and its apply
  int waited_cycles = 0;  // cycles whose kill came after an acknowledged write
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    storage::testing::Subprocess child({ASPEN_SM_CRASH_CHILD, db});
    ASSERT_TRUE(child.ok());
    // Every other cycle, on average, the kill may land anywhere from the
    // start (while the child opens the store or replays the log); in the
    // others it lands only after the child acknowledged a write, so the log
    // grows however slow the machine (an ASan build among parallel tests can
    // spend all of a short run opening RocksDB).
    if (std::bernoulli_distribution(0.5)(rng)) {
      ASSERT_TRUE(child.ReadUntilLine(std::chrono::seconds(60)))
          << "the child acknowledged no write within 60 s; it printed: " << child.output();
      ++waited_cycles;
    }
    // Let it open, recover and write for a random while, then kill it.
    const auto run = std::chrono::milliseconds(std::uniform_int_distribution<int>(40, 160)(rng));
    child.ReadFor(run);
    child.Kill();
    child.ReadFor(std::chrono::milliseconds(300));  // drain to EOF
    const std::uint64_t acked = std::max(acked_total, MaxAcked(child.output()));
    acked_total = acked;
    CheckAfterKill(db, acked, cycle, &replay, &replays);
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::cout << kCycles << " kills (" << waited_cycles << " after an acknowledged write), "
            << acked_total << " acknowledged writes, all present; " << replays
            << " recoveries replayed the log" << std::endl;
  // Each cycle that waited added at least one write to the log.
  EXPECT_GE(acked_total, static_cast<std::uint64_t>(waited_cycles));
  EXPECT_GT(waited_cycles, 0);
}

}  // namespace
}  // namespace aspen::sm
