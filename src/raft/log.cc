#include "raft/log.h"

#include <algorithm>
#include <limits>
#include <string>

namespace aspen::raft {
namespace {

// Storage reads other than kCompacted/kUnavailable mean a broken store.
template <typename T>
T MustOk(Result<T> r, const char* what) {
  RAFT_ASSERT_MSG(r.ok(), what);
  return std::move(r).value();
}

}  // namespace

RaftLog::RaftLog(const Storage* storage, std::uint64_t max_committed_size_per_ready)
    : storage_(storage),
      unstable_(MustOk(storage->LastIndex(), "storage LastIndex failed") + 1),
      committed_(MustOk(storage->FirstIndex(), "storage FirstIndex failed") - 1),
      applied_(committed_),
      max_committed_size_per_ready_(max_committed_size_per_ready) {
  RAFT_ASSERT(storage_ != nullptr);
}

Result<std::optional<std::uint64_t>> RaftLog::MaybeAppend(std::uint64_t index,
                                                          std::uint64_t log_term,
                                                          std::uint64_t committed,
                                                          const EntryVec& ents) {
  for (std::size_t k = 0; k < ents.size(); ++k) {
    if (ents[k].index() != index + 1 + k || (k > 0 && ents[k].term() < ents[k - 1].term()) ||
        ents[k].term() < log_term) {
      return Error(ErrorCode::kInvalidArgument, "appended entries are not contiguous after index " +
                                                    std::to_string(index) +
                                                    " with non-decreasing terms");
    }
  }
  if (!MatchTerm(index, log_term)) return std::optional<std::uint64_t>();
  const std::uint64_t last_new = index + ents.size();
  const std::uint64_t conflict = FindConflict(ents);
  if (conflict != 0) {
    if (conflict <= committed_) {
      return Error(ErrorCode::kInvalidArgument, "entry " + std::to_string(conflict) +
                                                    " conflicts with committed entry (commit " +
                                                    std::to_string(committed_) + ")");
    }
    const EntryVec tail(ents.begin() + static_cast<std::ptrdiff_t>(conflict - (index + 1)),
                        ents.end());
    Append(tail);
  }
  CommitTo(std::min(committed, last_new));
  return std::optional<std::uint64_t>(last_new);
}

std::uint64_t RaftLog::Append(const EntryVec& ents) {
  if (ents.empty()) return LastIndex();
  const std::uint64_t after = ents.front().index() - 1;
  RAFT_ASSERT_MSG(after >= committed_, "append would overwrite a committed entry");
  RAFT_ASSERT(after <= LastIndex());
  RAFT_ASSERT(ents.front().term() >= TermOrZero(after));
  unstable_.TruncateAndAppend(ents);
  CheckInvariants();
  return LastIndex();
}

std::uint64_t RaftLog::FindConflict(const EntryVec& ents) const {
  for (const pb::Entry& e : ents) {
    if (!MatchTerm(e.index(), e.term())) return e.index();
  }
  return 0;
}

std::pair<std::uint64_t, std::uint64_t> RaftLog::FindConflictByTerm(std::uint64_t index,
                                                                    std::uint64_t term) const {
  for (; index > 0; --index) {
    Result<std::uint64_t> t = Term(index);
    if (!t.ok()) return {index, 0};  // compacted or unknown: the leader probes further
    if (*t <= term) return {index, *t};
  }
  return {0, 0};
}

std::uint64_t RaftLog::FirstIndex() const {
  if (std::optional<std::uint64_t> i = unstable_.MaybeFirstIndex()) return *i;
  return MustOk(storage_->FirstIndex(), "storage FirstIndex failed");
}

std::uint64_t RaftLog::LastIndex() const {
  if (std::optional<std::uint64_t> i = unstable_.MaybeLastIndex()) return *i;
  return MustOk(storage_->LastIndex(), "storage LastIndex failed");
}

std::uint64_t RaftLog::LastTerm() const {
  Result<std::uint64_t> t = Term(LastIndex());
  RAFT_ASSERT_MSG(t.ok(), "term of the last index is unavailable");
  return *t;
}

std::uint64_t RaftLog::PersistedIndex() const {
  // A pending snapshot replaces the stored log, so nothing is known durable.
  if (unstable_.snapshot()) return 0;
  return unstable_.offset() - 1;
}

Result<std::uint64_t> RaftLog::Term(std::uint64_t i) const {
  const std::uint64_t dummy = FirstIndex() - 1;
  if (i < dummy) {
    return Error(ErrorCode::kCompacted, "term of compacted index " + std::to_string(i));
  }
  if (i > LastIndex()) {
    return Error(ErrorCode::kUnavailable,
                 "term of index " + std::to_string(i) + " past last index");
  }
  if (std::optional<std::uint64_t> t = unstable_.MaybeTerm(i)) return *t;
  Result<std::uint64_t> t = storage_->Term(i);
  if (t.ok() || t.code() == ErrorCode::kCompacted || t.code() == ErrorCode::kUnavailable) {
    return t;
  }
  RaftAssertFail("t.ok()", __FILE__, __LINE__, "storage Term failed");
}

std::uint64_t RaftLog::TermOrZero(std::uint64_t i) const {
  Result<std::uint64_t> t = Term(i);
  return t.ok() ? *t : 0;
}

bool RaftLog::MatchTerm(std::uint64_t i, std::uint64_t t) const {
  Result<std::uint64_t> got = Term(i);
  return got.ok() && *got == t;
}

bool RaftLog::IsUpToDate(std::uint64_t lasti, std::uint64_t term) const {
  const std::uint64_t my_term = LastTerm();
  return term > my_term || (term == my_term && lasti >= LastIndex());
}

Result<EntryVec> RaftLog::Entries(std::uint64_t i, std::uint64_t max_bytes) const {
  if (i > LastIndex()) return EntryVec();
  return Slice(i, LastIndex() + 1, max_bytes);
}

Result<EntryVec> RaftLog::Slice(std::uint64_t lo, std::uint64_t hi, std::uint64_t max_bytes) const {
  RAFT_ASSERT(lo <= hi);
  if (lo < FirstIndex()) {
    return Error(ErrorCode::kCompacted, "slice from compacted index " + std::to_string(lo));
  }
  RAFT_ASSERT_MSG(hi <= LastIndex() + 1, "slice past the last index");
  if (lo == hi) return EntryVec();
  EntryVec out;
  const std::uint64_t offset = unstable_.offset();
  if (lo < offset) {
    Result<EntryVec> stored = storage_->Entries(lo, std::min(hi, offset), max_bytes);
    if (!stored.ok()) {
      if (stored.code() == ErrorCode::kCompacted) return stored.error();
      RAFT_ASSERT_MSG(false, "storage Entries failed for indexes it should hold");
    }
    out = std::move(stored).value();
    // Storage stopped early because of max_bytes: do not add unstable entries.
    if (out.size() < std::min(hi, offset) - lo) return out;
  }
  if (hi > offset) {
    EntryVec tail = unstable_.Slice(std::max(lo, offset), hi);
    out.insert(out.end(), tail.begin(), tail.end());
  }
  LimitSize(&out, max_bytes);
  return out;
}

EntryVec RaftLog::AllEntries() const {
  Result<EntryVec> ents = Entries(FirstIndex(), std::numeric_limits<std::uint64_t>::max());
  RAFT_ASSERT(ents.ok());
  return std::move(ents).value();
}

EntryVec RaftLog::NextCommittedEntries() const {
  const std::uint64_t lo = std::max(applied_ + 1, FirstIndex());
  if (committed_ + 1 <= lo) return EntryVec();
  Result<EntryVec> ents = Slice(lo, committed_ + 1, max_committed_size_per_ready_);
  RAFT_ASSERT_MSG(ents.ok(), "committed entries are unavailable");
  return std::move(ents).value();
}

bool RaftLog::HasNextCommittedEntries() const {
  return committed_ + 1 > std::max(applied_ + 1, FirstIndex());
}

bool RaftLog::MaybeCommit(std::uint64_t max_index, std::uint64_t term) {
  if (max_index > committed_ && TermOrZero(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::CommitTo(std::uint64_t tocommit) {
  if (tocommit <= committed_) return;
  RAFT_ASSERT_MSG(tocommit <= LastIndex(), "commit index past the last index");
  committed_ = tocommit;
}

void RaftLog::AppliedTo(std::uint64_t i) {
  if (i == 0) return;
  RAFT_ASSERT(i <= committed_);
  RAFT_ASSERT(i >= applied_);
  applied_ = i;
}

void RaftLog::Restore(const pb::Snapshot& snap) {
  committed_ = snap.metadata().index();
  unstable_.Restore(snap);
  CheckInvariants();
}

Result<pb::Snapshot> RaftLog::Snapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_->Snapshot();
}

void RaftLog::CheckInvariants() const {
  RAFT_ASSERT(applied_ <= committed_);
  RAFT_ASSERT(committed_ <= LastIndex());
}

}  // namespace aspen::raft
