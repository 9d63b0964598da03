// Flushes asked for by scans (storage/scan_flush.h): a scan that steps over
// many hidden versions of the keys it returns schedules one flush of that
// column family's memtable; afterwards scans step over (almost) none, return
// exactly what they did before, and older snapshots keep their versions.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>

#include "storage/rocks_store.h"
#include "storage/scan_flush.h"
#include "test_util.h"

namespace aspen::storage {
namespace {

constexpr int kKeys = 1000;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%05d", i);
  return buf;
}

std::string Value(int i, int version) {
  return "v" + std::to_string(version) + "-" + std::to_string(i);
}

// Every key written `versions` times, newest last, one batch per version.
void Overwrite(RocksStore& s, int first_version, int versions) {
  for (int v = first_version; v < first_version + versions; ++v) {
    WriteBatch b;
    for (int i = 0; i < kKeys; ++i) b.Put(Cf::kKv, Key(i), Value(i, v));
    ASSERT_TRUE(s.Write(b, false).ok());
  }
}

struct ScanResult {
  std::map<std::string, std::string> rows;
  std::uint64_t skipped = 0;  // RocksDB's count: hidden entries + one per Next
};

ScanResult ScanAll(const Snapshot& snap) {
  ScanResult r;
  HiddenEntryCounter counter;
  auto it = snap.NewIterator(Cf::kKv, "k", std::string("l"));
  for (it->Seek("k"); it->Valid(); it->Next()) {
    r.rows.emplace(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok());
  r.skipped = counter.skipped();
  return r;
}

void ExpectVersion(const ScanResult& r, int version) {
  ASSERT_EQ(r.rows.size(), static_cast<std::size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) EXPECT_EQ(r.rows.at(Key(i)), Value(i, version)) << Key(i);
}

std::uint64_t Hidden(const ScanResult& r) {
  return r.skipped - std::min<std::uint64_t>(r.skipped, kKeys - 1);
}

// Scans until one steps over at most `max_hidden` hidden entries (the
// scheduled flush finished), for at most 20 s; returns that scan.
ScanResult ScanUntilFlushed(RocksStore& s, std::uint64_t max_hidden) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    ScanResult r = ScanAll(*s.GetSnapshot());
    if (Hidden(r) <= max_hidden || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

RocksOptions Options(std::uint64_t hidden_per_key) {
  RocksOptions o;
  o.scan_flush.hidden_per_key = hidden_per_key;
  o.scan_flush.min_memtable_entries = kKeys;
  o.scan_flush.min_interval = std::chrono::hours(1);
  return o;
}

TEST(ScanFlush, AScanOverManyHiddenVersionsFlushesOnceAndLaterScansSkipNone) {
  testing::TempDir dir;
  auto store = RocksStore::Open(dir.Sub("db"), Options(2));
  ASSERT_TRUE(store.ok());
  RocksStore& s = **store;
  Overwrite(s, 1, 8);

  ScanResult first = ScanAll(*s.GetSnapshot());
  ExpectVersion(first, 8);
  // 7 hidden versions per key, plus one per Next.
  EXPECT_GE(first.skipped, 7u * kKeys);
  EXPECT_EQ(s.scan_flushes(), 1u);

  ScanResult later = ScanUntilFlushed(s, kKeys / 10);
  ExpectVersion(later, 8);
  EXPECT_LE(Hidden(later), kKeys / 10u) << "the flush did not drop the hidden versions";
  // Within min_interval no second flush, however many scans.
  EXPECT_EQ(s.scan_flushes(), 1u);
}

TEST(ScanFlush, ScansOverKeysWrittenOnceNeverFlush) {
  testing::TempDir dir;
  auto store = RocksStore::Open(dir.Sub("db"), Options(2));
  ASSERT_TRUE(store.ok());
  RocksStore& s = **store;
  Overwrite(s, 1, 1);
  for (int i = 0; i < 5; ++i) ExpectVersion(ScanAll(*s.GetSnapshot()), 1);
  EXPECT_EQ(s.scan_flushes(), 0u);
}

TEST(ScanFlush, TurnedOffScansNeverFlush) {
  testing::TempDir dir;
  auto store = RocksStore::Open(dir.Sub("db"), Options(0));
  ASSERT_TRUE(store.ok());
  RocksStore& s = **store;
  Overwrite(s, 1, 8);
  ExpectVersion(ScanAll(*s.GetSnapshot()), 8);
  EXPECT_EQ(s.scan_flushes(), 0u);
}

TEST(ScanFlush, ASmallMemtableIsNotFlushedEvenWhenScansSkipMuch) {
  testing::TempDir dir;
  RocksOptions o = Options(2);
  o.scan_flush.min_memtable_entries = 100 * kKeys;
  auto store = RocksStore::Open(dir.Sub("db"), o);
  ASSERT_TRUE(store.ok());
  RocksStore& s = **store;
  Overwrite(s, 1, 8);
  ExpectVersion(ScanAll(*s.GetSnapshot()), 8);
  EXPECT_EQ(s.scan_flushes(), 0u);
}

TEST(ScanFlush, ASnapshotTakenBeforeTheFlushKeepsReadingItsVersions) {
  testing::TempDir dir;
  auto store = RocksStore::Open(dir.Sub("db"), Options(2));
  ASSERT_TRUE(store.ok());
  RocksStore& s = **store;
  Overwrite(s, 1, 1);
  std::unique_ptr<Snapshot> old = s.GetSnapshot();
  Overwrite(s, 2, 7);

  ExpectVersion(ScanAll(*s.GetSnapshot()), 8);
  EXPECT_EQ(s.scan_flushes(), 1u);
  // The flush keeps the version the old snapshot sees: one hidden per key.
  ScanResult later = ScanUntilFlushed(s, kKeys + kKeys / 10);
  ExpectVersion(later, 8);
  EXPECT_LE(Hidden(later), kKeys + kKeys / 10u);
  ExpectVersion(ScanAll(*old), 1);
  std::string v;
  ASSERT_TRUE(old->Get(Cf::kKv, Key(7), &v).ok());
  EXPECT_EQ(v, Value(7, 1));
}

}  // namespace
}  // namespace aspen::storage
