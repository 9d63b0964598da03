// MemStore: the in-memory Store of the simulator, with a crash model.
//
// It implements the Store contract (store.h) and passes the same typed suite as
// RocksStore (tests/storage/store_contract_test.cc).
//
// Crash model: MemStore keeps two states, the live one (what reads see) and
// the durable one (the live state as of the last Write with sync=true that
// returned OK). Crash() replaces the live state with the durable one: every
// write since the last synced write is lost, exactly the worst case the
// durability contract allows. A real RocksDB may keep more after a crash (the
// OS can still hold unsynced WAL bytes), never less.
//
// Fault injection (for the simulator): FailNextWrites(n, status) makes the
// next n Write calls return `status` without changing anything (live or
// durable), as a disk that reports an I/O error would.
//
// Deterministic: no clock, no randomness, no background threads. (One
// exception for in-process tests with real threads: DelayWrites makes each
// Write sleep first, as a slow disk would; the simulator never sets it.)
//
// Snapshots are copy-on-write: a snapshot shares each column family's map with
// the store; the next write to a shared map copies it first.
//
// Thread safety: as store.h (one writer; snapshots and reads from any thread).
// Crash and FailNextWrites must not race with Write.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/store.h"

namespace aspen::storage {

class MemStore final : public Store {
 public:
  using Map = std::map<std::string, std::string>;  // std::string orders as unsigned bytes
  using Maps = std::array<std::shared_ptr<Map>, kNumCfs>;

  MemStore();

  Status Write(const WriteBatch& batch, bool sync) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  Status Get(Cf cf, std::string_view key, std::string* value) override;
  StoreStats stats() const override;

  // Drops every write since the last successful synced write.
  void Crash();
  // The next n Writes fail with `status` (non-ok) and have no effect.
  void FailNextWrites(int n, Status status);
  // Each later Write sleeps `delay` before it starts (0: no delay).
  void DelayWrites(std::chrono::microseconds delay) { delay_us_.store(delay.count()); }
  // Writes since the last synced write (what a Crash() would lose).
  std::size_t unsynced_writes() const;

 private:
  // Applies batch to maps, copying any map still shared with a snapshot.
  static void Apply(const WriteBatch& batch, Maps* maps);

  mutable std::mutex mu_;
  Maps live_;
  // The state as of the last synced write; never shared with snapshots.
  Maps durable_;
  // Batches written since the last sync, replayed into durable_ on the next.
  std::vector<WriteBatch> unsynced_;
  std::atomic<std::int64_t> delay_us_{0};
  int fail_writes_ = 0;
  Status fail_status_;
  StoreStats stats_;
};

}  // namespace aspen::storage
