// One fsync per synced write, none per unsynced write (DESIGN.md, "The write
// path"), measured with the counting FileSystem (storage/counting_fs.h).
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "storage/log_store.h"
#include "storage/rocks_store.h"
#include "storage/test_util.h"

namespace aspen::storage {
namespace {

class FsyncCountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksOptions options;
    options.count_syncs = true;
    auto opened = RocksStore::Open(dir_.Sub("db"), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    // Open itself syncs the MANIFEST, OPTIONS and directories; count after it.
    at_open_ = store_->sync_counts();
  }

  void PutN(int n, bool sync) {
    for (int i = 0; i < n; ++i) {
      WriteBatch b;
      b.Put(Cf::kKv, "key" + std::to_string(next_++), std::string(64, 'v'));
      ASSERT_TRUE(store_->Write(b, sync).ok());
    }
  }

  // Sync calls since `since`.
  SyncCounts Since(const SyncCounts& since) const {
    SyncCounts now = store_->sync_counts();
    return SyncCounts{now.wal - since.wal, now.other_files - since.other_files,
                      now.directories - since.directories};
  }

  static void Report(const char* what, int writes, const SyncCounts& c) {
    std::cout << what << ": " << writes << " writes -> " << c.total() << " syncs (wal " << c.wal
              << ", other files " << c.other_files << ", directories " << c.directories << ")"
              << std::endl;
  }

  testing::TempDir dir_;
  std::unique_ptr<RocksStore> store_;
  SyncCounts at_open_;
  int next_ = 0;
};

TEST_F(FsyncCountTest, OpenSyncsAreCountedAndAttributed) {
  Report("open", 0, at_open_);
  EXPECT_GT(at_open_.total(), 0u);  // the counter sees RocksDB's own syncs
}

TEST_F(FsyncCountTest, EachSyncedWriteCostsExactlyOneWalSync) {
  constexpr int kWrites = 50;
  PutN(kWrites, /*sync=*/true);
  SyncCounts c = Since(at_open_);
  Report("synced writes", kWrites, c);
  EXPECT_EQ(c.wal, static_cast<std::uint64_t>(kWrites));
  EXPECT_EQ(c.total(), static_cast<std::uint64_t>(kWrites));
}

TEST_F(FsyncCountTest, UnsyncedWritesCostNoSync) {
  constexpr int kWrites = 200;
  PutN(kWrites, /*sync=*/false);
  SyncCounts c = Since(at_open_);
  Report("unsynced writes", kWrites, c);
  EXPECT_EQ(c.total(), 0u);
}

TEST_F(FsyncCountTest, SyncedAppendPlusUnsyncedApplyCostsOneSync) {
  auto log = LogStore::Open(store_.get());
  ASSERT_TRUE(log.ok());
  constexpr int kPairs = 20;
  SyncCounts before = store_->sync_counts();
  for (int i = 1; i <= kPairs; ++i) {
    std::vector<LogEntry> entries(1);
    entries[0].index = static_cast<std::uint64_t>(i);
    entries[0].term = 1;
    entries[0].data = std::string(100, 'd');
    WriteBatch append;
    ASSERT_TRUE((*log)->AppendToBatch(&append, entries).ok());
    (*log)->SetHardState(&append, HardState{1, 1, static_cast<std::uint64_t>(i)});
    ASSERT_TRUE(store_->Write(append, /*sync=*/true).ok());
    WriteBatch apply;
    for (int k = 0; k < 10; ++k) apply.Put(Cf::kKv, "k" + std::to_string(i * 10 + k), "v");
    apply.Put(Cf::kMeta, "applied_index", std::to_string(i));
    ASSERT_TRUE(store_->Write(apply, /*sync=*/false).ok());
  }
  SyncCounts c = Since(before);
  Report("append+apply pairs", 2 * kPairs, c);
  EXPECT_EQ(c.wal, static_cast<std::uint64_t>(kPairs));
  EXPECT_EQ(c.total(), static_cast<std::uint64_t>(kPairs));
}

TEST_F(FsyncCountTest, EmptySyncedBatchStillSyncs) {
  PutN(1, /*sync=*/false);
  SyncCounts before = store_->sync_counts();
  ASSERT_TRUE(store_->Write(WriteBatch(), /*sync=*/true).ok());
  SyncCounts c = Since(before);
  Report("empty synced batch", 1, c);
  EXPECT_EQ(c.total(), 1u);
}

TEST_F(FsyncCountTest, WithoutCountingTheCountsStayZero) {
  auto plain = RocksStore::Open(dir_.Sub("plain"));
  ASSERT_TRUE(plain.ok());
  WriteBatch b;
  b.Put(Cf::kKv, "a", "b");
  ASSERT_TRUE((*plain)->Write(b, true).ok());
  EXPECT_EQ((*plain)->sync_calls(), 0u);
}

}  // namespace
}  // namespace aspen::storage
