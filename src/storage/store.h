// Store: the one embedded database of a node (DESIGN.md, "The write path").
//
// Two implementations share this contract and one typed test suite
// (tests/storage/store_contract_test.cc):
//   - RocksStore: one RocksDB instance, a column family per Cf, one WAL.
//   - MemStore: in memory, for the simulator; models a crash as losing every
//     write since the last synced write.
//
// Durability contract (the same for both engines):
//   - Write(batch, sync=false) is atomic and visible to later reads at once;
//     it is durable only once a later (or this) Write with sync=true returns OK.
//   - Write(batch, sync=true) makes this batch and every earlier batch durable
//     (RocksDB's WAL is one ordered log, so a synced write covers earlier
//     unsynced ones). This is the only fsync on Aspen's write path.
//   - After a crash, the store holds exactly a prefix of the writes, ending at
//     or after the last synced one.
//
// Thread safety: Write may be called from one thread at a time; GetSnapshot and
// reads through snapshots may run concurrently with Write from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/column_families.h"
#include "storage/write_batch.h"

namespace aspen::storage {

// Ordered iteration over one column family of a snapshot, within
// [lower, upper) when bounds are given. Keys compare as unsigned bytes.
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // First key >= target.
  virtual void Seek(std::string_view target) = 0;
  // Last key <= target.
  virtual void SeekForPrev(std::string_view target) = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  // Valid only until the next move; requires Valid().
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-ok when iteration stopped on an error rather than at the end.
  virtual Status status() const = 0;
};

// A consistent, immutable view of every column family at one point in time.
// Owned by the caller; valid while the Store lives.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  // NotFound when absent.
  virtual Status Get(Cf cf, std::string_view key, std::string* value) const = 0;
  // lower/upper: optional bounds ("" lower means from the start; nullopt upper
  // means to the end).
  virtual std::unique_ptr<Iterator> NewIterator(
      Cf cf, std::string_view lower = {}, std::optional<std::string_view> upper = {}) const = 0;
};

struct StoreStats {
  std::uint64_t writes = 0;         // Write calls that succeeded
  std::uint64_t synced_writes = 0;  // of which with sync=true
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies every op of `batch` atomically, in order. See the durability
  // contract above. An empty batch with sync=true still syncs.
  virtual Status Write(const WriteBatch& batch, bool sync) = 0;

  // A consistent view as of now (includes unsynced writes).
  virtual std::unique_ptr<Snapshot> GetSnapshot() = 0;

  // Convenience: Get from the latest state.
  virtual Status Get(Cf cf, std::string_view key, std::string* value) = 0;

  virtual StoreStats stats() const = 0;

  // Finishes a state install through staged files (RocksStore's SST ingest)
  // that a crash interrupted after it set the ingest marker (snapshot.h
  // kIngestMarkerKey). The caller knows from the state itself whether the
  // files were ingested: already_ingested true removes the staged files;
  // false ingests them now (the old state was dropped with the marker, so
  // the files hold the whole new state). FailedPrecondition when nothing is
  // staged: a store that installs through one batch (MemStore) never leaves
  // a marker behind.
  virtual Status ResumeStagedIngest(bool already_ingested) {
    (void)already_ingested;
    return Status::FailedPrecondition("this store keeps no staged snapshot files");
  }
};

}  // namespace aspen::storage
