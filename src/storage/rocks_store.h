// RocksStore: the Store of a real node, one RocksDB instance with a column
// family per Cf and a single WAL shared by all of them (DESIGN.md, "The write
// path"; the options and why: docs/STORAGE.md and rocks_options.cc).
//
// Durability is store.h's contract: Write(sync=true) fsyncs the WAL once and
// so covers every earlier unsynced Write. Recovery uses RocksDB's
// point-in-time WAL recovery, so after a crash the DB holds a prefix of the
// writes; Open then makes that prefix durable with one synced write.
//
// Sync cost: exactly one WAL fdatasync per Write(sync=true) and none per
// Write(sync=false), plus one directory fsync on the first synced write to
// each new WAL file (RocksDB starts a new WAL when it flushes a memtable).
//
// Thread safety: as store.h. RocksDB itself is thread-safe; Write is
// additionally serialized by the caller contract (one writer).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/counting_fs.h"
#include "storage/scan_flush.h"
#include "storage/snapshot.h"
#include "storage/store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
}  // namespace rocksdb

namespace aspen::storage {

struct RocksOptions {
  // Create the directory and the DB when missing (the column families are
  // always created when missing).
  bool create_if_missing = true;
  // One LRU block cache shared by every column family.
  std::size_t block_cache_bytes = 64u << 20;
  // Memtable size of kv, index and lease.
  std::size_t write_buffer_bytes = 32u << 20;
  // Memtable size of raft_log: appends are sequential and soon deleted, so a
  // large buffer lets most entries die before they are ever flushed.
  std::size_t raft_log_write_buffer_bytes = 64u << 20;
  // Flush the column families holding the oldest WAL once the WALs exceed this
  // (bounds recovery time and WAL disk use).
  std::uint64_t max_total_wal_bytes = 256u << 20;
  int max_background_jobs = 2;
  // Size each new WAL file is allocated at before RocksDB writes to it, so a
  // synced append does not grow the file (WalPresizeFileSystem); 0 = off.
  std::uint64_t wal_presize_bytes = 64u << 20;
  // Wrap the file system in a CountingFileSystem; see sync_counts().
  bool count_syncs = false;
  // Flush kv/index/lease memtables that scans find full of hidden versions
  // (scan_flush.h); hidden_per_key = 0 turns it off.
  ScanFlushOptions scan_flush;
};

// How RocksStore::IngestStateSnapshotSst installs a snapshot stream.
struct SstIngestOptions {
  // As IngestOptions::replace_existing.
  bool replace_existing = false;
  // An SST file closes once it reaches this many bytes, counted both before
  // compression (keys + values written) and on disk; a state larger than
  // this spans several files. The raw count bounds memory: a writer keeps
  // one data block plus every key's filter hash and every block's index
  // entry until it finishes the file.
  std::uint64_t max_sst_bytes = 64u << 20;
  // Fault injection for the crash tests: return Aborted right after this step
  // (1: SST files written; 2: marker set and old state dropped; 3: files
  // ingested, marker still set). 0: never.
  int fail_after_step = 0;
  // The marker's value; empty: the snapshot's applied index in decimal (what
  // `aspen snapshot restore` writes). A follower's install stores its raft
  // snapshot metadata here (node/snapshot.cc), so Open can finish the install.
  std::string marker = {};
  // Leave the marker set after step 3: the caller clears it in the batch that
  // makes the rest of the store match the new state (a follower's log reset).
  bool keep_marker = false;
};

class RocksStore final : public Store {
 public:
  // Opens (or creates) the DB in `dir`. Errors, each naming the directory:
  //   - FailedPrecondition "data dir D is locked by another aspen process"
  //     when another process (or another RocksStore in this one) has it open;
  //   - Corruption when the DB's files fail RocksDB's checks;
  //   - IOError for permission and other OS errors ("permission denied").
  static Result<std::unique_ptr<RocksStore>> Open(const std::string& dir,
                                                  const RocksOptions& options = {});

  // Closes the DB without flushing memtables (avoid_flush_during_shutdown):
  // the WAL already holds every write; unsynced writes may or may not survive
  // a crash after this, exactly as the contract allows.
  ~RocksStore() override;

  RocksStore(const RocksStore&) = delete;
  RocksStore& operator=(const RocksStore&) = delete;

  // store.h. A batch with an inverted DeleteRange is rejected whole
  // (InvalidArgument) before anything is written.
  Status Write(const WriteBatch& batch, bool sync) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  Status Get(Cf cf, std::string_view key, std::string* value) override;
  StoreStats stats() const override;

  // Counts of OS sync calls since Open, when opened with count_syncs; all
  // zero otherwise. sync_calls() is their total.
  SyncCounts sync_counts() const;
  std::uint64_t sync_calls() const { return sync_counts().total(); }
  // Memtable flushes scheduled because scans skipped many hidden versions.
  std::uint64_t scan_flushes() const;

  const std::string& dir() const { return dir_; }

  // ----- Streaming snapshot install (rocks_store_ingest.cc) -----

  // Installs a snapshot stream (snapshot.h) without holding it in memory:
  // in one pass that checks the whole stream, writes each state CF's rows
  // through rocksdb::SstFileWriter into files of at most
  // options.max_sst_bytes in the staging dir (IngestStagingDir; removed
  // again when a check fails, the store untouched), then in one synced batch sets the
  // ingest marker (snapshot.h's kIngestMarkerKey, value: the snapshot's
  // applied index) and drops the old state CFs' rows, ingests every file at
  // once (IngestExternalFiles, files moved), and clears the marker (synced).
  // A crash before the marker leaves the old state untouched; after it,
  // IngestIncomplete() is true until an install completes (or, with
  // keep_marker, until the caller clears it). The raft CFs are not touched
  // otherwise. Errors as IngestStateSnapshot, plus IOError for
  // the staging dir.
  Result<SnapshotSummary> IngestStateSnapshotSst(ByteSource* source,
                                                 const SstIngestOptions& options = {});
  // dir()'s parent + "/snapshot-ingest" (the data dir's, for <data>/db).
  std::string IngestStagingDir() const;
  // store.h. The staged files are named "<cf>-<n>.sst" and the staging dir is
  // synced before the marker is written, so after step 2 they are all there.
  Status ResumeStagedIngest(bool already_ingested) override;

  // ----- Maintenance (rocks_maintenance.cc) -----

  // Bytes the state column families (snapshot.h's IsStateCf) take: live SST
  // files plus memtables. What the NOSPACE quota and Status.dbSizeInUse count;
  // it shrinks when deleted rows are compacted away (Defragment).
  Result<std::uint64_t> StateBytes() const;
  // etcd's Defragment: flushes every column family's memtable (so old WAL
  // files can go) and compacts the state column families completely, which
  // drops deleted rows and their tombstones.
  Status Defragment();
  // Stops flushes and compactions, waiting for those running, until
  // ContinueBackgroundWork: the directory's files then stay as they are (tests
  // copy an open store's files as a crash image).
  Status PauseBackgroundWork();
  Status ContinueBackgroundWork();

 private:
  RocksStore() = default;

  std::string dir_;
  // Declaration order is destruction order in reverse: the DB and its handles
  // go before the Env and FileSystem they use.
  std::shared_ptr<CountingFileSystem> counting_fs_;
  std::unique_ptr<rocksdb::Env> env_;  // the Env over the wrapped FileSystem
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // indexed by Cf; owned, freed in ~
  std::unique_ptr<ScanFlush> scan_flush_;              // null when turned off
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> synced_writes_{0};
};

}  // namespace aspen::storage
