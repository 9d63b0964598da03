// Crash consistency of RocksStore + LogStore with real processes: a child
// (storage_crash_child loop) appends synced log entries and applies them with
// unsynced batches; the parent SIGKILLs it at random moments and checks what
// survived after every kill. Pipes only, no network.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>

#include "storage/crash_workload.h"
#include "storage/log_store.h"
#include "storage/rocks_store.h"
#include "storage/subprocess.h"
#include "storage/test_util.h"

namespace aspen::storage {
namespace {

// 200 SIGKILLs; 100 in the sanitizer tree, where each cycle costs 3-4 times
// more (the release tree runs all 200).
#ifdef ASPEN_SANITIZED_TESTS
constexpr int kCycles = 100;
#else
constexpr int kCycles = 200;
#endif

std::uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("ASPEN_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// The largest index the child reported durable, from its stdout (complete
// lines only), or 0.
std::uint64_t MaxReported(const std::string& out) {
  std::uint64_t max = 0;
  std::size_t start = 0;
  for (std::size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    max = std::max<std::uint64_t>(max, std::stoull(out.substr(start, nl - start)));
    start = nl + 1;
  }
  return max;
}

// Checks the invariants of the store in `dir` after a kill; returns the log's
// last index.
std::uint64_t CheckAfterCrash(const std::string& dir, std::uint64_t durable, int cycle) {
  SCOPED_TRACE("cycle " + std::to_string(cycle));
  auto store = RocksStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return 0;
  auto log = LogStore::Open(store->get());  // verifies the chain
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  if (!log.ok()) return 0;
  const LogStore& l = **log;
  // Every index reported durable is in the log (or compacted below it).
  EXPECT_LE(durable, l.LastIndex());
  EXPECT_TRUE(l.Term(std::max(durable, l.FirstIndex() - 1)).ok());
  auto state = l.InitialState();
  EXPECT_TRUE(state.ok());
  if (state.ok()) {
    EXPECT_EQ(state->hard_state.commit, l.LastIndex());  // same batch as the entry
  }
  // Apply lags the log by at most the one unsynced apply after the last append.
  auto applied = crash_workload::AppliedIndex(store->get());
  EXPECT_TRUE(applied.ok());
  if (!applied.ok()) return 0;
  EXPECT_LE(*applied, l.LastIndex());
  EXPECT_GE(*applied + 1, l.LastIndex());
  // The kv data is exactly the entries 1..applied_index, each with its data.
  auto it = store->get()->GetSnapshot()->NewIterator(Cf::kKv);
  std::uint64_t want = 1;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++want) {
    if (it->key() != crash_workload::KvKey(want) ||
        it->value() != crash_workload::MakeEntry(want).data) {
      ADD_FAILURE() << "kv data diverges at entry " << want;
      break;
    }
  }
  EXPECT_EQ(want - 1, *applied);
  return l.LastIndex();
}

TEST(CrashProcess, SigkillNeverLosesAReportedAppendOrTearsApply) {
  const std::uint64_t seed = SeedFromEnv();
  std::cout << "crash test seed=" << seed << " (rerun with ASPEN_CRASH_SEED=" << seed << ")"
            << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  // A quarter of the kills land anywhere in the first 80 ms (open, replay,
  // first appends); the rest 0-20 ms after the child's first durable append.
  std::uniform_int_distribution<int> early_ms(0, 80);
  std::uniform_int_distribution<int> late_ms(0, 20);
  std::bernoulli_distribution early(0.25);
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("db");
  std::uint64_t durable = 0;  // largest index any child reported
  std::uint64_t last = 0;
  int progressed = 0;
  for (int cycle = 0; cycle < kCycles && !HasFailure(); ++cycle) {
    testing::Subprocess child({ASPEN_STORAGE_CRASH_CHILD, "loop", dir});
    ASSERT_TRUE(child.ok());
    if (early(rng)) {
      child.ReadFor(std::chrono::milliseconds(early_ms(rng)));
    } else {
      ASSERT_TRUE(child.ReadUntilLine(std::chrono::seconds(20))) << "child never appended";
      child.ReadFor(std::chrono::milliseconds(late_ms(rng)));
    }
    int status = 0;
    ASSERT_FALSE(child.Exited(&status)) << "child exited early, status " << status;
    child.Kill();
    child.Wait();
    child.ReadToEof();
    const std::uint64_t reported = MaxReported(child.output());
    if (reported > durable) {
      durable = reported;
      ++progressed;
    }
    const std::uint64_t now = CheckAfterCrash(dir, durable, cycle);
    EXPECT_GE(now, last) << "the log shrank across a crash";
    last = now;
  }
  std::cout << "crash test: " << kCycles << " kills, " << progressed
            << " cycles reported progress, log last index " << last << std::endl;
  // Not vacuous: children made progress in many cycles, across compactions.
  EXPECT_GE(progressed, kCycles / 2);
  EXPECT_GT(last, crash_workload::kCompactEvery);
}

}  // namespace
}  // namespace aspen::storage
