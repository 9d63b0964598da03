// MemoryStorage: Storage held in memory, for tests, the harness and the
// benchmark (etcd-io/raft's MemoryStorage). Not thread-safe: use it from the
// thread that drives raft.
//
// Layout. Invariant: entries_ is never empty; entries_[0] is a dummy entry whose
// index and term are those of the latest snapshot (0, 0 initially), and
// entries_[k].index == entries_[0].index + k for every k.
#pragma once

#include <cstdint>

#include "raft/storage.h"

namespace aspen::raft {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  Result<StorageState> InitialState() const override;
  Result<EntryVec> Entries(std::uint64_t lo, std::uint64_t hi,
                           std::uint64_t max_bytes) const override;
  Result<std::uint64_t> Term(std::uint64_t i) const override;
  Result<std::uint64_t> FirstIndex() const override;
  Result<std::uint64_t> LastIndex() const override;
  Result<pb::Snapshot> Snapshot() const override;

  // Writers, used by the application while handling a Ready.
  void SetHardState(const pb::HardState& hs) { hard_state_ = hs; }
  const pb::HardState& hard_state() const { return hard_state_; }
  // Sets the configuration InitialState() reports (also set by ApplySnapshot).
  void SetConfState(const pb::ConfState& cs) {
    snapshot_.mutable_metadata()->mutable_conf_state()->CopyFrom(cs);
  }

  // Replaces the whole log with `snap`. kSnapOutOfDate when snap is not newer
  // than the snapshot held.
  Error ApplySnapshot(const pb::Snapshot& snap);
  // Records a snapshot of the state at index i (<= LastIndex()) with the given
  // configuration and data. kSnapOutOfDate when i is not newer than the
  // snapshot held; kUnavailable when i > LastIndex().
  Result<pb::Snapshot> CreateSnapshot(std::uint64_t i, const pb::ConfState& cs, std::string data);
  // Discards entries before compact_index (which becomes the dummy entry).
  // kCompacted when already compacted; kUnavailable when past LastIndex().
  Error Compact(std::uint64_t compact_index);
  // Appends entries, first discarding any held entries at or after the first
  // new index (entries already compacted are skipped). kInvalidArgument when
  // the new entries would leave a gap or are not contiguous.
  Error Append(const EntryVec& entries);

 private:
  std::uint64_t offset() const { return entries_.front().index(); }
  std::uint64_t last_index() const { return offset() + entries_.size() - 1; }

  pb::HardState hard_state_;
  pb::Snapshot snapshot_;
  EntryVec entries_;
};

}  // namespace aspen::raft
