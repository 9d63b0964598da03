// RocksStore::IngestStateSnapshotSst: a snapshot installed through SST files
// equals its source, spans several files when large, and a crash at any step
// leaves either the old state or a marked install that a redo completes.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "storage/coding.h"
#include "storage/rocks_store.h"
#include "storage/snapshot.h"
#include "test_util.h"

namespace aspen::storage {
namespace {

using testing::TempDir;
using CfRows = std::map<std::string, std::string>;

CfRows ReadCf(Store* store, Cf cf) {
  CfRows out;
  auto snap = store->GetSnapshot();
  auto it = snap->NewIterator(cf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok());
  return out;
}

std::map<Cf, CfRows> ReadAll(Store* store) {
  std::map<Cf, CfRows> out;
  for (std::size_t c = 0; c < kNumCfs; ++c) {
    out[static_cast<Cf>(c)] = ReadCf(store, static_cast<Cf>(c));
  }
  return out;
}

// `rows` rows in every CF (raft ones included), keys prefixed by `tag`.
void Fill(Store* store, const std::string& tag, int rows, std::size_t value_bytes) {
  WriteBatch b;
  for (std::size_t c = 0; c < kNumCfs; ++c) {
    for (int i = 0; i < rows; ++i) {
      std::string key = tag;
      PutBigEndian32(&key, static_cast<std::uint32_t>(i));
      b.Put(static_cast<Cf>(c), key, std::string(value_bytes, static_cast<char>('a' + i % 26)));
    }
  }
  ASSERT_TRUE(store->Write(b, true).ok());
}

std::string Take(Store* store, std::uint64_t index) {
  SnapshotHeader h;
  h.applied_index = index;
  h.applied_term = 3;
  StringSink sink;
  auto written = WriteStateSnapshot(*store->GetSnapshot(), h, &sink);
  EXPECT_TRUE(written.ok()) << written.status().ToString();
  return std::move(sink.data());
}

std::unique_ptr<RocksStore> OpenDb(const TempDir& dir) {
  auto opened = RocksStore::Open(dir.Sub("db"));
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

int CountSst(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".sst") ++n;
  }
  return n;
}

TEST(SnapshotSstIngestTest, StateLargerThanOneSstFileInstallsAndEqualsTheSource) {
  TempDir src_dir;
  auto src = OpenDb(src_dir);
  Fill(src.get(), "new", 3000, 256);
  const std::string bytes = Take(src.get(), 77);

  TempDir dst_dir;
  auto dst = OpenDb(dst_dir);
  const int before = CountSst(dst_dir.Sub("db"));
  StringSource source(bytes);
  auto done = dst->IngestStateSnapshotSst(&source, SstIngestOptions{.max_sst_bytes = 64 << 10});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->header.applied_index, 77u);
  // 3000 rows x 256 B per state CF in files of 64 KiB: several per CF.
  EXPECT_GE(CountSst(dst_dir.Sub("db")) - before, 2 * static_cast<int>(StateCfs().size()));
  for (Cf cf : StateCfs()) EXPECT_EQ(ReadCf(dst.get(), cf), ReadCf(src.get(), cf));
  EXPECT_TRUE(ReadCf(dst.get(), Cf::kRaftLog).empty());
  auto incomplete = IngestIncomplete(dst.get());
  ASSERT_TRUE(incomplete.ok());
  EXPECT_FALSE(*incomplete);
  EXPECT_FALSE(std::filesystem::exists(dst->IngestStagingDir()));

  // Survives a restart (the ingested files are in the manifest).
  dst.reset();
  dst = OpenDb(dst_dir);
  for (Cf cf : StateCfs()) EXPECT_EQ(ReadCf(dst.get(), cf), ReadCf(src.get(), cf));
}

TEST(SnapshotSstIngestTest, NonEmptyDestinationIsRefusedWithoutWritingAnything) {
  TempDir src_dir;
  auto src = OpenDb(src_dir);
  Fill(src.get(), "new", 10, 10);
  const std::string bytes = Take(src.get(), 5);
  TempDir dst_dir;
  auto dst = OpenDb(dst_dir);
  Fill(dst.get(), "old", 10, 10);
  const auto old_rows = ReadAll(dst.get());
  StringSource source(bytes);
  auto refused = dst->IngestStateSnapshotSst(&source);
  ASSERT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(ReadAll(dst.get()), old_rows);
  EXPECT_FALSE(std::filesystem::exists(dst->IngestStagingDir()));
}

TEST(SnapshotSstIngestTest, CorruptStreamWritesNothing) {
  TempDir src_dir;
  auto src = OpenDb(src_dir);
  Fill(src.get(), "new", 100, 50);
  std::string bytes = Take(src.get(), 5);
  bytes[bytes.size() / 2] ^= 0x01;
  TempDir dst_dir;
  auto dst = OpenDb(dst_dir);
  Fill(dst.get(), "old", 10, 10);
  const auto old_rows = ReadAll(dst.get());
  StringSource source(bytes);
  auto refused = dst->IngestStateSnapshotSst(&source, SstIngestOptions{.replace_existing = true});
  ASSERT_EQ(refused.status().code(), Code::kCorruption) << refused.status().ToString();
  EXPECT_EQ(ReadAll(dst.get()), old_rows);
}

// A fault after each step, then a restart: the store holds the old state (no
// marker) or is marked incomplete, and a redo installs the new state; the
// raft CFs keep their rows throughout.
TEST(SnapshotSstIngestTest, CrashAtEachStepEndsOldOrRedoneNeverMixed) {
  TempDir src_dir;
  auto src = OpenDb(src_dir);
  Fill(src.get(), "new", 2000, 100);
  const std::string bytes = Take(src.get(), 91);
  for (int step = 1; step <= 3; ++step) {
    SCOPED_TRACE("fault after step " + std::to_string(step));
    TempDir dst_dir;
    auto dst = OpenDb(dst_dir);
    Fill(dst.get(), "old", 500, 100);
    const auto old_rows = ReadAll(dst.get());
    StringSource source(bytes);
    SstIngestOptions o{
        .replace_existing = true, .max_sst_bytes = 32 << 10, .fail_after_step = step};
    auto failed = dst->IngestStateSnapshotSst(&source, o);
    ASSERT_EQ(failed.status().code(), Code::kAborted);

    dst.reset();  // the restart
    dst = OpenDb(dst_dir);
    auto incomplete = IngestIncomplete(dst.get());
    ASSERT_TRUE(incomplete.ok());
    EXPECT_EQ(*incomplete, step >= 2);
    if (!*incomplete) {
      EXPECT_EQ(ReadAll(dst.get()), old_rows);
    } else {
      std::string marker;
      ASSERT_TRUE(dst->Get(Cf::kRaftState, kIngestMarkerKey, &marker).ok());
      EXPECT_EQ(marker, "91");
    }
    // Redo (what a restarted install does) and check the new state exactly.
    o.fail_after_step = 0;
    auto redone = dst->IngestStateSnapshotSst(&source, o);
    ASSERT_TRUE(redone.ok()) << redone.status().ToString();
    for (Cf cf : StateCfs()) EXPECT_EQ(ReadCf(dst.get(), cf), ReadCf(src.get(), cf));
    EXPECT_EQ(ReadCf(dst.get(), Cf::kRaftLog), old_rows.at(Cf::kRaftLog));
    incomplete = IngestIncomplete(dst.get());
    ASSERT_TRUE(incomplete.ok());
    EXPECT_FALSE(*incomplete);
  }
}

// A follower's install (node/snapshot.cc): its own marker value, left set
// for the caller's batch; after a fault at step 2 or 3 and a restart,
// ResumeStagedIngest finishes from the staged files alone (the stream is
// gone), and leaves no staged file behind.
TEST(SnapshotSstIngestTest, ResumeStagedIngestFinishesAnInterruptedInstallWithoutTheStream) {
  TempDir src_dir;
  auto src = OpenDb(src_dir);
  Fill(src.get(), "new", 2000, 100);
  const std::string bytes = Take(src.get(), 91);
  for (int step = 2; step <= 4; ++step) {
    SCOPED_TRACE("fault after step " + std::to_string(step));
    TempDir dst_dir;
    auto dst = OpenDb(dst_dir);
    Fill(dst.get(), "old", 500, 100);
    const auto old_rows = ReadAll(dst.get());
    StringSource source(bytes);
    SstIngestOptions o{.replace_existing = true,
                       .max_sst_bytes = 32 << 10,
                       .fail_after_step = step == 4 ? 0 : step,
                       .marker = "follower-marker",
                       .keep_marker = true};
    auto result = dst->IngestStateSnapshotSst(&source, o);
    if (step == 4) {
      ASSERT_TRUE(result.ok()) << result.status().ToString();
    } else {
      ASSERT_EQ(result.status().code(), Code::kAborted);
    }
    if (step == 2) {
      EXPECT_GE(CountSst(dst->IngestStagingDir()), 2 * static_cast<int>(StateCfs().size()));
    }

    dst.reset();  // the restart
    dst = OpenDb(dst_dir);
    std::string marker;
    ASSERT_TRUE(dst->Get(Cf::kRaftState, kIngestMarkerKey, &marker).ok());
    EXPECT_EQ(marker, "follower-marker");  // kept even after step 3 (keep_marker)
    const bool ingested = step >= 3;
    if (!ingested) {
      for (Cf cf : StateCfs()) EXPECT_TRUE(ReadCf(dst.get(), cf).empty());  // dropped
    }
    ASSERT_TRUE(dst->ResumeStagedIngest(ingested).ok());
    for (Cf cf : StateCfs()) EXPECT_EQ(ReadCf(dst.get(), cf), ReadCf(src.get(), cf));
    EXPECT_EQ(ReadCf(dst.get(), Cf::kRaftLog), old_rows.at(Cf::kRaftLog));
    EXPECT_FALSE(std::filesystem::exists(dst->IngestStagingDir()));
    // Nothing staged any more: a second resume of a not-ingested state has
    // nothing to finish with.
    EXPECT_EQ(dst->ResumeStagedIngest(false).code(), Code::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace aspen::storage
