// ScanFlush: flushes a column family's memtable when scans over it spend their
// time skipping hidden versions (docs/STORAGE.md, "Flushes asked for by scans").
//
// Every Put of an existing key adds a version to the memtable; an iterator
// must step over all of them, and a memtable step is a cache miss. After many
// overwrites of few keys (e.g. 200,000 puts over 10,000 keys) most of a range's
// time went there. A flush writes one version per key (the newest that a live
// snapshot still needs), so the next scans step over one entry per key.
//
// RocksStore's iterators count, per scan, the keys they land on and the hidden
// entries RocksDB skipped to reach them (its per-thread perf counters); a scan
// that saw at least `min_keys` keys and `hidden_per_key` hidden entries per key
// asks for a flush. The flush is granted when the column family's active
// memtable holds at least `min_memtable_entries` entries (after a flush the
// skipped versions are in SST files, which a flush cannot help) and no flush of
// that column family was asked for within `min_interval`. The flush is
// scheduled (FlushOptions::wait = false) and never waits for write stalls to
// clear, so the reading thread only pays the memtable switch.
//
// Thread safety: OnScan may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "storage/column_families.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace aspen::storage {

struct ScanFlushOptions {
  // 0 turns scan-requested flushes off.
  std::uint64_t hidden_per_key = 2;
  std::uint64_t min_keys = 16;
  std::uint64_t min_memtable_entries = 4096;
  std::chrono::milliseconds min_interval{1000};
};

class ScanFlush {
 public:
  // `db` and `handles` (indexed by Cf) must outlive this object.
  ScanFlush(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>* handles,
            const ScanFlushOptions& options)
      : db_(db), handles_(handles), options_(options) {}

  // A scan of `cf` landed on `keys` keys after skipping `hidden` hidden entries.
  void OnScan(Cf cf, std::uint64_t keys, std::uint64_t hidden);

  // Flushes scheduled so far.
  std::uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }

 private:
  rocksdb::DB* db_;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles_;
  ScanFlushOptions options_;
  // Per Cf: steady-clock nanoseconds of the last granted check (0: never).
  std::array<std::atomic<std::int64_t>, kNumCfs> last_check_ns_{};
  std::atomic<std::uint64_t> flushes_{0};
};

// Counts, on the calling thread, the hidden entries RocksDB skips during one
// iterator step: construct before the step, read hidden() after it.
class HiddenEntryCounter {
 public:
  HiddenEntryCounter();
  ~HiddenEntryCounter();
  HiddenEntryCounter(const HiddenEntryCounter&) = delete;
  HiddenEntryCounter& operator=(const HiddenEntryCounter&) = delete;

  // RocksDB's internal_key_skipped_count since construction: older versions
  // of keys already passed, plus one per Next (the entry it moves off).
  // Entries newer than the iterator's snapshot and tombstones are not in it:
  // a flush would not remove them.
  std::uint64_t skipped() const;

 private:
  int saved_level_;
  std::uint64_t start_;
};

}  // namespace aspen::storage
