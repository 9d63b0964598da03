#include "storage/scan_flush.h"

#include <rocksdb/db.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

namespace aspen::storage {

namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void ScanFlush::OnScan(Cf cf, std::uint64_t keys, std::uint64_t hidden) {
  if (options_.hidden_per_key == 0 || keys < options_.min_keys ||
      hidden < options_.hidden_per_key * keys) {
    return;
  }
  std::atomic<std::int64_t>& last = last_check_ns_[static_cast<std::size_t>(cf)];
  const std::int64_t now = NowNs();
  std::int64_t seen = last.load(std::memory_order_relaxed);
  const std::int64_t interval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.min_interval).count();
  if (seen != 0 && now - seen < interval) return;
  // One thread per interval goes on to look at the memtable.
  if (!last.compare_exchange_strong(seen, now, std::memory_order_relaxed)) return;
  rocksdb::ColumnFamilyHandle* h = (*handles_)[static_cast<std::size_t>(cf)];
  std::uint64_t entries = 0;
  if (!db_->GetIntProperty(h, "rocksdb.num-entries-active-mem-table", &entries) ||
      entries < options_.min_memtable_entries) {
    return;
  }
  rocksdb::FlushOptions fo;
  fo.wait = false;
  fo.allow_write_stall = true;
  // A failed flush leaves the memtable as it was: reads stay correct, only as
  // slow as before; RocksDB reports a background error on the next write.
  if (db_->Flush(fo, h).ok()) flushes_.fetch_add(1, std::memory_order_relaxed);
}

HiddenEntryCounter::HiddenEntryCounter() : saved_level_(static_cast<int>(rocksdb::GetPerfLevel())) {
  if (saved_level_ < rocksdb::PerfLevel::kEnableCount) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  }
  start_ = rocksdb::get_perf_context()->internal_key_skipped_count;
}

HiddenEntryCounter::~HiddenEntryCounter() {
  if (saved_level_ < rocksdb::PerfLevel::kEnableCount) {
    rocksdb::SetPerfLevel(static_cast<rocksdb::PerfLevel>(saved_level_));
  }
}

std::uint64_t HiddenEntryCounter::skipped() const {
  return rocksdb::get_perf_context()->internal_key_skipped_count - start_;
}

}  // namespace aspen::storage
