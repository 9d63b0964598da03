// ReplayCommitted: after a crash that drops unsynced apply batches, the state
// machine catches up from the synced log (DESIGN.md, "The write path", 4).
#include "sm/recovery.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sm/crash_workload.h"
#include "sm/reads.h"
#include "storage/mem_store.h"

namespace aspen::sm {
namespace {

// Log entries [from, to] of the crash workload, term 1.
std::vector<storage::LogEntry> MakeEntries(std::uint64_t from, std::uint64_t to) {
  std::vector<storage::LogEntry> entries;
  for (std::uint64_t i = from; i <= to; ++i) {
    storage::LogEntry e;
    e.index = i;
    e.term = 1;
    e.data = testing::CrashCommand(i);
    entries.push_back(e);
  }
  return entries;
}

// Appends entries [from, to] synced (commit = to), without applying them.
void AppendSynced(storage::MemStore* store, storage::LogStore* log, std::uint64_t from,
                  std::uint64_t to) {
  std::vector<storage::LogEntry> entries = MakeEntries(from, to);
  storage::WriteBatch append;
  ASSERT_TRUE(log->AppendToBatch(&append, entries).ok());
  log->SetHardState(&append, storage::HardState{1, 1, to});
  ASSERT_TRUE(store->Write(append, /*sync=*/true).ok());
}

// Appends entries [from, to] synced (commit = to) and applies them unsynced.
void AppendAndApply(storage::MemStore* store, storage::LogStore* log, StateMachine* sm,
                    std::uint64_t from, std::uint64_t to) {
  AppendSynced(store, log, from, to);
  std::vector<Entry> apply;
  const std::vector<storage::LogEntry> entries = MakeEntries(from, to);
  for (const auto& e : entries) apply.push_back(Entry{e.index, e.data});
  ASSERT_TRUE(sm->ApplyAndWrite(apply).ok());
}

TEST(ReplayCommitted, RestoresAppliesLostInACrashFromTheSyncedLog) {
  storage::MemStore store;
  auto log = storage::LogStore::Open(&store);
  ASSERT_TRUE(log.ok());
  auto sm = StateMachine::Open(&store);
  ASSERT_TRUE(sm.ok());
  AppendAndApply(&store, log->get(), sm->get(), 1, 30);
  const KvHash before = *HashKV(*store.GetSnapshot());

  // The applies of 1..30 were never synced on their own, but the append of
  // 31..40 syncs them too (one ordered WAL); the applies of 31..40 are lost.
  AppendAndApply(&store, log->get(), sm->get(), 31, 40);
  const KvHash full = *HashKV(*store.GetSnapshot());
  store.Crash();

  auto log2 = storage::LogStore::Open(&store);
  ASSERT_TRUE(log2.ok());
  auto sm2 = StateMachine::Open(&store);
  ASSERT_TRUE(sm2.ok());
  EXPECT_EQ((*sm2)->applied_index(), 30u);
  EXPECT_EQ(HashKV(*store.GetSnapshot())->sha256, before.sha256);

  auto report = ReplayCommitted(**log2, sm2->get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->applied_before, 30u);
  EXPECT_EQ(report->commit, 40u);
  EXPECT_EQ(report->replayed, 10u);
  EXPECT_EQ((*sm2)->applied_index(), 40u);
  const KvHash after = *HashKV(*store.GetSnapshot());
  EXPECT_EQ(after.sha256, full.sha256);
  EXPECT_EQ(after.revision, full.revision);
}

TEST(ReplayCommitted, DoesNothingWhenTheStateIsCurrent) {
  storage::MemStore store;
  auto log = storage::LogStore::Open(&store);
  auto sm = StateMachine::Open(&store);
  ASSERT_TRUE(log.ok() && sm.ok());
  AppendAndApply(&store, log->get(), sm->get(), 1, 5);
  auto report = ReplayCommitted(**log, sm->get());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->replayed, 0u);
}

TEST(ReplayCommitted, ReplaysInBoundedChunks) {
  storage::MemStore store;
  auto log = storage::LogStore::Open(&store);
  auto sm = StateMachine::Open(&store);
  ASSERT_TRUE(log.ok() && sm.ok());
  AppendAndApply(&store, log->get(), sm->get(), 1, 1);
  store.Crash();  // the apply of entry 1 was never synced: it is lost
  auto log2 = storage::LogStore::Open(&store);
  auto sm2 = StateMachine::Open(&store);
  ASSERT_TRUE(log2.ok() && sm2.ok());
  // Entries beyond the first exist only in the log.
  AppendSynced(&store, log2->get(), 2, 50);
  auto report = ReplayCommitted(**log2, sm2->get(), /*max_chunk_bytes=*/64);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->replayed, 50u);
  EXPECT_EQ((*sm2)->applied_index(), 50u);
}

TEST(ReplayCommitted, CompactedEntriesThatMustBeReplayedAreCorruption) {
  storage::MemStore store;
  auto log = storage::LogStore::Open(&store);
  auto sm = StateMachine::Open(&store);
  ASSERT_TRUE(log.ok() && sm.ok());
  // A log with entries 1..20 whose state machine never applied any of them,
  // compacted to 10: entries 1..10 are gone and cannot be replayed.
  AppendSynced(&store, log->get(), 1, 20);
  storage::WriteBatch compact;
  ASSERT_TRUE((*log)->CompactTo(&compact, 10).ok());
  ASSERT_TRUE(store.Write(compact, true).ok());
  auto report = ReplayCommitted(**log, sm->get());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Code::kCorruption);
  EXPECT_NE(report.status().message().find("compacted"), std::string::npos);
}

}  // namespace
}  // namespace aspen::sm
