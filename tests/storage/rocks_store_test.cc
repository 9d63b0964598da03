// RocksStore specifics: reopening, and clear errors (not crashes) for a locked,
// corrupt or inaccessible data dir.
#include "storage/rocks_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "storage/mem_store.h"
#include "storage/subprocess.h"
#include "storage/test_util.h"

namespace aspen::storage {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<RocksStore> MustOpen(const std::string& dir) {
  auto opened = RocksStore::Open(dir);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

TEST(RocksStore, DataSurvivesCloseAndReopenInEveryColumnFamily) {
  testing::TempDir tmp;
  {
    auto store = MustOpen(tmp.Sub("db"));
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    for (std::size_t i = 0; i < kNumCfs; ++i) b.Put(static_cast<Cf>(i), "k", std::to_string(i));
    ASSERT_TRUE(store->Write(b, true).ok());
  }
  auto store = MustOpen(tmp.Sub("db"));
  ASSERT_NE(store, nullptr);
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    std::string v;
    ASSERT_TRUE(store->Get(static_cast<Cf>(i), "k", &v).ok());
    EXPECT_EQ(v, std::to_string(i));
  }
}

// Every key of `cf` with its value, in order.
std::vector<std::pair<std::string, std::string>> Dump(Store& store, Cf cf) {
  std::vector<std::pair<std::string, std::string>> out;
  auto snap = store.GetSnapshot();
  auto it = snap->NewIterator(cf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok());
  return out;
}

// RocksStore::Write hands RocksDB each column family's ops sorted by key
// (docs/STORAGE.md, "Insert order within a batch"); the result must be the
// batch applied in its own order, as MemStore applies it: the last op on a
// key wins, and a DeleteRange sees exactly the ops before it. Random batches
// over few keys, so one batch touches a key many times, in both engines,
// with every state read back after each batch and after a reopen (the WAL
// replays the reordered batch).
TEST(RocksStore, WriteOrderKeepsTheResultOfOpsOnOneKey) {
  testing::TempDir tmp;
  auto rocks = MustOpen(tmp.Sub("db"));
  ASSERT_NE(rocks, nullptr);
  MemStore mem;
  std::uint32_t seed = 12345;
  auto next = [&seed](std::uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
  };
  const Cf cfs[] = {Cf::kKv, Cf::kIndex, Cf::kHistory};
  for (int round = 0; round < 200; ++round) {
    WriteBatch b;
    const std::uint32_t ops = 1 + next(40);
    for (std::uint32_t i = 0; i < ops; ++i) {
      const Cf cf = cfs[next(3)];
      const std::string key = "k" + std::to_string(next(12));
      const std::uint32_t kind = next(20);
      if (kind < 12) {
        b.Put(cf, key, "v" + std::to_string(round) + "." + std::to_string(i));
      } else if (kind < 19) {
        b.Delete(cf, key);
      } else {
        std::string end = "k" + std::to_string(next(12));
        b.DeleteRange(cf, std::min(key, end), std::max(key, end));
      }
    }
    ASSERT_TRUE(rocks->Write(b, round % 7 == 0).ok());
    ASSERT_TRUE(mem.Write(b, false).ok());
    for (Cf cf : cfs) ASSERT_EQ(Dump(*rocks, cf), Dump(mem, cf)) << "round " << round;
  }
  rocks.reset();
  rocks = MustOpen(tmp.Sub("db"));
  ASSERT_NE(rocks, nullptr);
  for (Cf cf : cfs) EXPECT_EQ(Dump(*rocks, cf), Dump(mem, cf));
}

TEST(RocksStore, CreatesMissingParentDirectories) {
  testing::TempDir tmp;
  auto store = MustOpen(tmp.Sub("a/b/c"));
  EXPECT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(tmp.Sub("a/b/c/CURRENT")));
}

TEST(RocksStore, MissingDirWithoutCreateIsAnError) {
  testing::TempDir tmp;
  RocksOptions options;
  options.create_if_missing = false;
  auto opened = RocksStore::Open(tmp.Sub("nope"), options);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.status().message(), HasSubstr(tmp.Sub("nope")));
}

TEST(RocksStore, DirLockedByAnotherProcessIsAClearError) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("db");
  testing::Subprocess holder({ASPEN_STORAGE_CRASH_CHILD, "hold", dir});
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(holder.ReadUntilLine(std::chrono::seconds(20))) << "holder did not open the DB";
  auto opened = RocksStore::Open(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Code::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(),
              HasSubstr("data dir " + dir + " is locked by another aspen process"));
  holder.CloseStdin();
  EXPECT_EQ(holder.Wait(), 0);
  // Once the holder is gone the dir opens.
  EXPECT_NE(MustOpen(dir), nullptr);
}

TEST(RocksStore, DirAlreadyOpenInThisProcessIsAClearError) {
  testing::TempDir tmp;
  auto first = MustOpen(tmp.Sub("db"));
  ASSERT_NE(first, nullptr);
  auto second = RocksStore::Open(tmp.Sub("db"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("is locked"));
}

TEST(RocksStore, CorruptManifestIsCorruptionNotACrash) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("db");
  ASSERT_NE(MustOpen(dir), nullptr);
  int manifests = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) != 0) continue;
    std::ofstream out(entry.path(), std::ios::binary | std::ios::trunc);
    out << std::string(4096, '\x5a');
    ++manifests;
  }
  ASSERT_EQ(manifests, 1);
  auto opened = RocksStore::Open(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Code::kCorruption) << opened.status().ToString();
  EXPECT_THAT(opened.status().message(), HasSubstr("data dir " + dir + " holds a corrupt"));
}

TEST(RocksStore, GarbageCurrentFileIsAnErrorNotACrash) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("db");
  ASSERT_NE(MustOpen(dir), nullptr);
  {
    std::ofstream out(dir + "/CURRENT", std::ios::binary | std::ios::trunc);
    out << "\x01\x02garbage";
  }
  auto opened = RocksStore::Open(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.status().message(), HasSubstr(dir));
}

TEST(RocksStore, UnwritableDirIsPermissionDenied) {
  // Run the open in a helper that drops to user nobody when we are root (root
  // ignores file modes), against a dir that only its owner may write.
  testing::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  const std::string dir = tmp.Sub("db");
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  ASSERT_EQ(::chmod(dir.c_str(), 0555), 0);
  testing::Subprocess child({ASPEN_STORAGE_CRASH_CHILD, "open", dir, "--as-nobody"});
  ASSERT_TRUE(child.ok());
  child.ReadToEof();
  const int status = child.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << child.output();
  EXPECT_THAT(child.output(), HasSubstr("IOError"));
  EXPECT_THAT(child.output(), HasSubstr("permission denied"));
  EXPECT_THAT(child.output(), HasSubstr(dir));
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
}

}  // namespace
}  // namespace aspen::storage
