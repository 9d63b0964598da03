// RocksStore::StateBytes and Defragment: the state's size counts state CFs
// only, and a defragment after deletes gives the space back.
#include <gtest/gtest.h>

#include "storage/rocks_store.h"
#include "test_util.h"

namespace aspen::storage {
namespace {

TEST(RocksMaintenance, DefragmentAfterDeletesShrinksTheStateAndKeepsTheRest) {
  testing::TempDir dir;
  auto store = RocksStore::Open(dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  RocksStore& s = **store;
  const std::string value(1024, 'v');
  WriteBatch b;
  for (int i = 0; i < 4000; ++i) b.Put(Cf::kKv, "key" + std::to_string(i), value);
  b.Put(Cf::kRaftLog, "entry", std::string(8u << 20, 'l'));
  ASSERT_TRUE(s.Write(b, true).ok());
  auto before = s.StateBytes();
  ASSERT_TRUE(before.ok());
  // Memtable entries are an estimate (RocksDB samples the skip list): one
  // clean-clone run measured 0.43x of the 4 MB written, so allow 8x low.
  EXPECT_GT(*before, 4000u * 1024 / 8);
  // The raft log's 8 MiB are not state (memtable overhead aside).
  EXPECT_LT(*before, 2u * 4000 * 1024);

  ASSERT_TRUE(s.Defragment().ok());
  auto flushed = s.StateBytes();
  ASSERT_TRUE(flushed.ok());
  EXPECT_GT(*flushed, 0u);

  WriteBatch del;
  del.DeleteRange(Cf::kKv, "key", "kez");
  ASSERT_TRUE(s.Write(del, true).ok());
  ASSERT_TRUE(s.Defragment().ok());
  auto after = s.StateBytes();
  ASSERT_TRUE(after.ok());
  EXPECT_LT(*after, 64u * 1024) << "before " << *before << ", after " << *after;
  std::string v;
  EXPECT_TRUE(s.Get(Cf::kRaftLog, "entry", &v).ok());
  EXPECT_EQ(s.Get(Cf::kKv, "key1", &v).code(), Code::kNotFound);
}

}  // namespace
}  // namespace aspen::storage
