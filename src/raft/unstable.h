// Unstable: the tail of the log that the application has not yet persisted
// (etcd-io/raft log_unstable.go): entries appended since the last Ready, and a
// snapshot received from the leader and not yet written.
#pragma once

#include <cstdint>
#include <optional>

#include "raft/types.h"

namespace aspen::raft {

class Unstable {
 public:
  explicit Unstable(std::uint64_t offset) : offset_(offset) {}

  // The first index after the unstable snapshot, if there is one.
  std::optional<std::uint64_t> MaybeFirstIndex() const;
  // The last unstable entry's index, else the unstable snapshot's index.
  std::optional<std::uint64_t> MaybeLastIndex() const;
  // The term of entry i when it is held here (or is the snapshot's index).
  std::optional<std::uint64_t> MaybeTerm(std::uint64_t i) const;

  // The application persisted entries up to i (of term t): drop them. A no-op
  // when entry i was replaced meanwhile (its term differs) or is not held.
  void StableTo(std::uint64_t i, std::uint64_t t);
  // The application persisted the snapshot at index i.
  void StableSnapTo(std::uint64_t i);
  // Replaces everything by the snapshot.
  void Restore(const pb::Snapshot& snap);
  // Appends ents, first dropping every held entry at or after ents[0].index().
  // Requires ents non-empty and contiguous, ents[0].index() <= LastIndex + 1.
  void TruncateAndAppend(const EntryVec& ents);
  // Entries in [lo, hi); requires offset() <= lo <= hi <= offset() + size.
  EntryVec Slice(std::uint64_t lo, std::uint64_t hi) const;

  std::uint64_t offset() const { return offset_; }
  const EntryVec& entries() const { return entries_; }
  const std::optional<pb::Snapshot>& snapshot() const { return snapshot_; }

 private:
  void CheckInvariants() const;

  // Invariant: when set, offset_ == snapshot_->metadata().index() + 1.
  std::optional<pb::Snapshot> snapshot_;
  // Invariant: entries_[k].index() == offset_ + k, terms non-decreasing.
  EntryVec entries_;
  // Index of entries_[0] (or of the next entry to append). Every entry below it
  // is in Storage (or covered by the snapshot).
  std::uint64_t offset_;
};

}  // namespace aspen::raft
