// MemStore specifics: the crash model and fault injection of the simulator's
// store (the shared contract is in store_contract_test.cc).
#include "storage/mem_store.h"

#include <gtest/gtest.h>

#include <string>

namespace aspen::storage {
namespace {

std::string GetOr(Store* s, Cf cf, std::string_view k) {
  std::string v;
  Status st = s->Get(cf, k, &v);
  return st.ok() ? v : "<none>";
}

Status Put(Store* s, std::string_view k, std::string_view v, bool sync) {
  WriteBatch b;
  b.Put(Cf::kKv, k, v);
  return s->Write(b, sync);
}

TEST(MemStore, CrashDropsExactlyTheWritesAfterTheLastSync) {
  MemStore store;
  ASSERT_TRUE(Put(&store, "a", "1", false).ok());
  ASSERT_TRUE(Put(&store, "b", "1", true).ok());  // makes "a" durable too
  ASSERT_TRUE(Put(&store, "a", "2", false).ok());
  WriteBatch del;
  del.DeleteRange(Cf::kKv, "a", "z");
  ASSERT_TRUE(store.Write(del, false).ok());
  EXPECT_EQ(store.unsynced_writes(), 2u);
  store.Crash();
  EXPECT_EQ(store.unsynced_writes(), 0u);
  EXPECT_EQ(GetOr(&store, Cf::kKv, "a"), "1");
  EXPECT_EQ(GetOr(&store, Cf::kKv, "b"), "1");
}

TEST(MemStore, CrashWithNothingEverSyncedLeavesAnEmptyStore) {
  MemStore store;
  ASSERT_TRUE(Put(&store, "a", "1", false).ok());
  store.Crash();
  EXPECT_EQ(GetOr(&store, Cf::kKv, "a"), "<none>");
}

TEST(MemStore, RepeatedCrashesAndWritesKeepTheModel) {
  MemStore store;
  for (int round = 0; round < 5; ++round) {
    const std::string r = std::to_string(round);
    ASSERT_TRUE(Put(&store, "synced" + r, r, true).ok());
    ASSERT_TRUE(Put(&store, "lost" + r, r, false).ok());
    store.Crash();
    for (int k = 0; k <= round; ++k) {
      EXPECT_EQ(GetOr(&store, Cf::kKv, "synced" + std::to_string(k)), std::to_string(k));
      EXPECT_EQ(GetOr(&store, Cf::kKv, "lost" + std::to_string(k)), "<none>");
    }
  }
}

TEST(MemStore, SnapshotTakenBeforeACrashKeepsItsView) {
  MemStore store;
  ASSERT_TRUE(Put(&store, "a", "unsynced", false).ok());
  auto snap = store.GetSnapshot();
  store.Crash();
  std::string v;
  ASSERT_TRUE(snap->Get(Cf::kKv, "a", &v).ok());
  EXPECT_EQ(v, "unsynced");
  EXPECT_EQ(GetOr(&store, Cf::kKv, "a"), "<none>");
}

TEST(MemStore, InjectedFailuresReturnTheStatusAndChangeNothing) {
  MemStore store;
  ASSERT_TRUE(Put(&store, "a", "1", true).ok());
  store.FailNextWrites(2, Status::IOError("injected: disk full"));
  Status s = Put(&store, "a", "2", true);
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_EQ(s.message(), "injected: disk full");
  EXPECT_EQ(Put(&store, "b", "2", false).code(), Code::kIOError);
  EXPECT_EQ(GetOr(&store, Cf::kKv, "a"), "1");
  EXPECT_EQ(GetOr(&store, Cf::kKv, "b"), "<none>");
  EXPECT_EQ(store.stats().writes, 1u);
  // The third write goes through again.
  EXPECT_TRUE(Put(&store, "a", "3", true).ok());
  store.Crash();
  EXPECT_EQ(GetOr(&store, Cf::kKv, "a"), "3");
}

TEST(MemStore, FailedSyncedWriteDoesNotMakeEarlierWritesDurable) {
  MemStore store;
  ASSERT_TRUE(Put(&store, "a", "1", false).ok());
  store.FailNextWrites(1, Status::IOError("injected"));
  EXPECT_FALSE(Put(&store, "b", "1", true).ok());
  store.Crash();
  EXPECT_EQ(GetOr(&store, Cf::kKv, "a"), "<none>");
}

TEST(MemStore, WritesAfterASnapshotDoNotLeakIntoIt) {
  // Copy-on-write: the first write after a snapshot copies the shared map.
  MemStore store;
  ASSERT_TRUE(Put(&store, "a", "1", false).ok());
  auto snap = store.GetSnapshot();
  auto it = snap->NewIterator(Cf::kKv);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Put(&store, "k" + std::to_string(i), "v", false).ok());
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace aspen::storage
