#include "storage/rocks_options.h"

#include <algorithm>
#include <memory>
#include <string>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace aspen::storage {

namespace {

rocksdb::CompressionType PickCompression() {
  // LZ4 when this RocksDB build has it: cheap enough for the write path.
  const auto supported = rocksdb::GetSupportedCompressions();
  for (auto want : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), want) != supported.end()) return want;
  }
  return rocksdb::kNoCompression;
}

rocksdb::BlockBasedTableOptions TableOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                             bool bloom) {
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;  // shared and bounded: the only cache of SST blocks
  // Index and filter blocks live in (and are bounded by) the block cache, the
  // level-0 ones pinned since every point read touches them.
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.format_version = 5;
  if (bloom) {
    // ~1% false positives: a point read of a missing key (Txn compares, puts
    // that read the previous version) mostly skips the SST files.
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    t.whole_key_filtering = true;
  }
  return t;
}

// kv, index, lease: point reads and range scans of the state machine.
rocksdb::ColumnFamilyOptions StateCf(const RocksOptions& o,
                                     const std::shared_ptr<rocksdb::Cache>& cache,
                                     rocksdb::CompressionType compression) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_bytes;
  cf.max_write_buffer_number = 3;
  cf.compression = compression;
  cf.level_compaction_dynamic_level_bytes = true;  // bounded space amplification
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(TableOptions(cache, true)));
  return cf;
}

// raft_log: sequential appends by index, reads near the tail, deletion of the
// whole prefix by one DeleteRange. No bloom filter: reads are seeks and scans,
// and Term() lookups hit the memtable. A large memtable lets most entries be
// compacted away before they are ever flushed; no compression because entries
// are short-lived and their payloads are already compact commands.
rocksdb::ColumnFamilyOptions RaftLogCf(const RocksOptions& o,
                                       const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.raft_log_write_buffer_bytes;
  cf.max_write_buffer_number = 4;
  cf.compression = rocksdb::kNoCompression;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(TableOptions(cache, false)));
  return cf;
}

// raft_state, meta: a handful of keys rewritten on every Ready / apply. Small
// memtables keep their flushes cheap; a bloom filter is pointless for a few
// keys that always exist.
rocksdb::ColumnFamilyOptions SmallCf(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 4u << 20;
  cf.max_write_buffer_number = 2;
  cf.compression = rocksdb::kNoCompression;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(TableOptions(cache, false)));
  return cf;
}

}  // namespace

RocksConfig MakeRocksConfig(const RocksOptions& o, rocksdb::Env* env) {
  RocksConfig config;
  rocksdb::DBOptions& db = config.db;
  if (env != nullptr) db.env = env;
  db.create_if_missing = o.create_if_missing;
  db.create_missing_column_families = true;
  db.paranoid_checks = true;
  // The WAL is on (never disableWAL) and written to the OS on every Write
  // (manual_wal_flush off): an unsynced write survives a process crash, and a
  // synced write is one fdatasync of the WAL. Nothing on the write path
  // flushes memtables; background jobs do.
  db.manual_wal_flush = false;
  db.wal_bytes_per_sync = 0;     // no background WAL syncs: only Write(sync=true) syncs
  db.bytes_per_sync = 1u << 20;  // smooth SST writeback off the write path
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;  // a prefix
  db.max_total_wal_size = o.max_total_wal_bytes;
  db.max_background_jobs = o.max_background_jobs;
  // Closing must be quick and must not write: the WAL already has everything.
  db.avoid_flush_during_shutdown = true;
  db.keep_log_file_num = 4;
  db.max_log_file_size = 16u << 20;

  const auto cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  const auto compression = PickCompression();
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    const Cf cf = static_cast<Cf>(i);
    rocksdb::ColumnFamilyOptions cf_options;
    switch (cf) {
      case Cf::kRaftLog: cf_options = RaftLogCf(o, cache); break;
      case Cf::kRaftState:
      case Cf::kMeta: cf_options = SmallCf(cache); break;
      case Cf::kKv:
      case Cf::kIndex:
      case Cf::kLease:
      case Cf::kHistory: cf_options = StateCf(o, cache, compression); break;
    }
    config.column_families.emplace_back(std::string(CfName(cf)), cf_options);
  }
  config.column_families.emplace_back(rocksdb::kDefaultColumnFamilyName, SmallCf(cache));
  return config;
}

}  // namespace aspen::storage
