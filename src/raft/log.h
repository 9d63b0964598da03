// RaftLog: the log as raft sees it (etcd-io/raft log.go): the persisted part
// read through Storage, followed by the Unstable tail, plus the commit and
// apply cursors.
//
//   snapshot/first index ... applied ... committed ... persisted | unstable ... last
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "raft/error.h"
#include "raft/storage.h"
#include "raft/unstable.h"

namespace aspen::raft {

class RaftLog {
 public:
  // `storage` must outlive the log. Entries handed out per Ready for applying
  // are limited to max_committed_size_per_ready bytes (but at least one).
  RaftLog(const Storage* storage, std::uint64_t max_committed_size_per_ready);

  // Appends ents after the entry (index, log_term) if that entry matches, and
  // commits up to min(committed, last new index). Answers the last new index,
  // or nullopt when (index, log_term) does not match. kInvalidArgument (and no
  // change) when ents would overwrite a committed entry or are malformed: a
  // peer broke Raft's rules.
  Result<std::optional<std::uint64_t>> MaybeAppend(std::uint64_t index, std::uint64_t log_term,
                                                   std::uint64_t committed, const EntryVec& ents);
  // Appends ents (contiguous, starting at most at LastIndex()+1, never over a
  // committed entry) and answers the new last index.
  std::uint64_t Append(const EntryVec& ents);

  // The index of the first entry of ents that is not in the log or whose term
  // differs; 0 when all match.
  std::uint64_t FindConflict(const EntryVec& ents) const;
  // The largest index <= index whose term is <= term (a fast-backup hint), and
  // that entry's term (0 when unknown).
  std::pair<std::uint64_t, std::uint64_t> FindConflictByTerm(std::uint64_t index,
                                                             std::uint64_t term) const;

  std::uint64_t FirstIndex() const;
  std::uint64_t LastIndex() const;
  std::uint64_t LastTerm() const;
  // The highest index up to which this log is durable in Storage (0 while a
  // received snapshot is not yet persisted).
  std::uint64_t PersistedIndex() const;
  // The term of entry i, for i in [FirstIndex()-1, LastIndex()]; kCompacted or
  // kUnavailable outside.
  Result<std::uint64_t> Term(std::uint64_t i) const;
  // Term(i), or 0 when i is out of range.
  std::uint64_t TermOrZero(std::uint64_t i) const;
  bool MatchTerm(std::uint64_t i, std::uint64_t t) const;
  // Raft §5.4.1: is a log ending at (lasti, term) at least as up to date?
  bool IsUpToDate(std::uint64_t lasti, std::uint64_t term) const;

  // Entries from i, at most max_bytes (but at least one); empty when i > LastIndex().
  Result<EntryVec> Entries(std::uint64_t i, std::uint64_t max_bytes) const;
  // Entries in [lo, hi), at most max_bytes (but at least one).
  Result<EntryVec> Slice(std::uint64_t lo, std::uint64_t hi, std::uint64_t max_bytes) const;
  // Every entry from FirstIndex(); for tests.
  EntryVec AllEntries() const;

  // Committed entries not yet handed out for applying: (applied, committed].
  EntryVec NextCommittedEntries() const;
  bool HasNextCommittedEntries() const;

  // Commits max_index if its term is `term` (Raft §5.4.2); true when committed moved.
  bool MaybeCommit(std::uint64_t max_index, std::uint64_t term);
  // Moves committed forward to tocommit (<= LastIndex()); never backwards.
  void CommitTo(std::uint64_t tocommit);
  void AppliedTo(std::uint64_t i);
  void StableTo(std::uint64_t i, std::uint64_t t) { unstable_.StableTo(i, t); }
  void StableSnapTo(std::uint64_t i) { unstable_.StableSnapTo(i); }
  // Replaces the log by a snapshot received from the leader.
  void Restore(const pb::Snapshot& snap);
  // The unstable snapshot if any, else Storage's (may be kSnapshotTemporarilyUnavailable).
  Result<pb::Snapshot> Snapshot() const;

  const Unstable& unstable() const { return unstable_; }
  std::uint64_t committed() const { return committed_; }
  std::uint64_t applied() const { return applied_; }

 private:
  void CheckInvariants() const;

  const Storage* storage_;
  Unstable unstable_;
  // Invariant: FirstIndex() - 1 <= committed_ <= LastIndex(). The highest
  // index known to be stored on a quorum.
  std::uint64_t committed_;
  // Invariant: applied_ <= committed_. The highest index the application has
  // applied (or handed to it in a Ready that was advanced).
  std::uint64_t applied_;
  std::uint64_t max_committed_size_per_ready_;
};

}  // namespace aspen::raft
