// The pre-sized WAL (storage/wal_presize_fs.h): a new WAL file is allocated
// before RocksDB writes to it, synced writes still cost one WAL sync, and
// recovery from a crash image (zero tail, torn tail, many WAL switches) finds
// exactly the synced writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "storage/rocks_store.h"
#include "storage/test_util.h"

namespace aspen::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kPresize = 1u << 20;

RocksOptions SmallOptions() {
  RocksOptions o;
  o.wal_presize_bytes = kPresize;
  o.write_buffer_bytes = 64u << 10;  // frequent flushes: many WAL switches
  o.raft_log_write_buffer_bytes = 64u << 10;
  o.count_syncs = true;
  return o;
}

std::unique_ptr<RocksStore> OpenOrFail(const std::string& dir, const RocksOptions& o) {
  auto opened = RocksStore::Open(dir, o);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::string Key(int i) {
  return "key" + std::to_string(i);
}
std::string Value(int i) {
  return std::string(200, static_cast<char>('a' + i % 26));
}

void PutRange(RocksStore* store, int from, int to) {
  for (int i = from; i < to; ++i) {
    WriteBatch b;
    b.Put(Cf::kKv, Key(i), Value(i));
    ASSERT_TRUE(store->Write(b, /*sync=*/true).ok());
  }
}

void ExpectRange(RocksStore* store, int from, int to) {
  for (int i = from; i < to; ++i) {
    std::string v;
    ASSERT_TRUE(store->Get(Cf::kKv, Key(i), &v).ok()) << Key(i);
    ASSERT_EQ(v, Value(i)) << Key(i);
  }
}

std::vector<fs::path> WalFiles(const std::string& dir) {
  std::vector<fs::path> wals;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log") wals.push_back(e.path());
  }
  std::sort(wals.begin(), wals.end());
  return wals;
}

// A crash image: the files as they are while `store` is open (every synced
// write is in them; nothing of a clean close is). Flushes and compactions are
// paused meanwhile: one that finished mid-copy deleted files the listing had
// named (seen under load: "cannot copy file: No such file" for an .sst).
void CopyLiveDir(RocksStore* store, const std::string& to) {
  ASSERT_TRUE(store->PauseBackgroundWork().ok());
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(store->dir())) {
    if (e.path().filename() == "LOCK") continue;
    fs::copy_file(e.path(), fs::path(to) / e.path().filename());
  }
  ASSERT_TRUE(store->ContinueBackgroundWork().ok());
}

TEST(WalPresizeTest, NewWalIsAllocatedBeforeTheFirstAppend) {
  testing::TempDir dir;
  auto store = OpenOrFail(dir.Sub("db"), SmallOptions());
  ASSERT_NE(store, nullptr);
  PutRange(store.get(), 0, 10);
  auto wals = WalFiles(dir.Sub("db"));
  ASSERT_FALSE(wals.empty());
  EXPECT_EQ(fs::file_size(wals.back()), kPresize);  // appends did not grow it
}

TEST(WalPresizeTest, SyncedWriteStillCostsOneWalSyncAndNoDirectorySync) {
  testing::TempDir dir;
  auto store = OpenOrFail(dir.Sub("db"), SmallOptions());
  ASSERT_NE(store, nullptr);
  const SyncCounts before = store->sync_counts();
  PutRange(store.get(), 0, 100);  // about 25 KB: no memtable switch
  const SyncCounts after = store->sync_counts();
  EXPECT_EQ(after.wal - before.wal, 100u);
  EXPECT_EQ(after.directories - before.directories, 0u);
}

TEST(WalPresizeTest, CleanCloseTrimsTheWalToWhatWasWritten) {
  testing::TempDir dir;
  {
    auto store = OpenOrFail(dir.Sub("db"), SmallOptions());
    ASSERT_NE(store, nullptr);
    PutRange(store.get(), 0, 10);
  }
  for (const auto& wal : WalFiles(dir.Sub("db"))) EXPECT_LT(fs::file_size(wal), kPresize);
  auto store = OpenOrFail(dir.Sub("db"), SmallOptions());
  ASSERT_NE(store, nullptr);
  ExpectRange(store.get(), 0, 10);
}

TEST(WalPresizeTest, CrashImageWithZeroTailRecoversEverySyncedWrite) {
  testing::TempDir dir;
  auto store = OpenOrFail(dir.Sub("db"), SmallOptions());
  ASSERT_NE(store, nullptr);
  PutRange(store.get(), 0, 300);
  CopyLiveDir(store.get(), dir.Sub("crash"));
  auto recovered = OpenOrFail(dir.Sub("crash"), SmallOptions());
  ASSERT_NE(recovered, nullptr);
  ExpectRange(recovered.get(), 0, 300);
  std::string v;
  EXPECT_EQ(recovered->Get(Cf::kKv, Key(300), &v).code(), Code::kNotFound);
}

TEST(WalPresizeTest, CrashImageWithTornTailRecoversThePrefix) {
  testing::TempDir dir;
  auto store = OpenOrFail(dir.Sub("db"), SmallOptions());
  ASSERT_NE(store, nullptr);
  PutRange(store.get(), 0, 50);
  CopyLiveDir(store.get(), dir.Sub("crash"));
  // A torn last write: half a record's worth of garbage right after the last
  // record of the newest WAL, inside its zero-filled allocation.
  auto wals = WalFiles(dir.Sub("crash"));
  ASSERT_FALSE(wals.empty());
  std::fstream f(wals.back(), std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto end = bytes.find_last_not_of('\0');
  ASSERT_NE(end, std::string::npos);
  f.seekp(static_cast<std::streamoff>(end + 1));
  f.write("\x12\x34\x56\x78\x40\x00\x01garbage", 14);
  f.close();
  auto recovered = OpenOrFail(dir.Sub("crash"), SmallOptions());
  ASSERT_NE(recovered, nullptr);
  ExpectRange(recovered.get(), 0, 50);
}

TEST(WalPresizeTest, ReopenAfterManyWalSwitchesFindsEveryWrite) {
  testing::TempDir dir;
  int written = 0;
  for (int round = 0; round < 3; ++round) {
    auto store = OpenOrFail(dir.Sub("db"), SmallOptions());
    ASSERT_NE(store, nullptr);
    ExpectRange(store.get(), 0, written);
    PutRange(store.get(), written, written + 700);  // ~150 KB: two or more memtable flushes
    written += 700;
    // Also recover from the live image of this round, zero tails and all.
    CopyLiveDir(store.get(), dir.Sub("crash" + std::to_string(round)));
    auto recovered = OpenOrFail(dir.Sub("crash" + std::to_string(round)), SmallOptions());
    ASSERT_NE(recovered, nullptr);
    ExpectRange(recovered.get(), 0, written);
  }
}

}  // namespace
}  // namespace aspen::storage
