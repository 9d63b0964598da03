#include "raft/unstable.h"

#include "raft/raft_assert.h"

namespace aspen::raft {

std::optional<std::uint64_t> Unstable::MaybeFirstIndex() const {
  if (snapshot_) return snapshot_->metadata().index() + 1;
  return std::nullopt;
}

std::optional<std::uint64_t> Unstable::MaybeLastIndex() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->metadata().index();
  return std::nullopt;
}

std::optional<std::uint64_t> Unstable::MaybeTerm(std::uint64_t i) const {
  if (i < offset_) {
    if (snapshot_ && snapshot_->metadata().index() == i) return snapshot_->metadata().term();
    return std::nullopt;
  }
  const std::optional<std::uint64_t> last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  return entries_[i - offset_].term();
}

void Unstable::StableTo(std::uint64_t i, std::uint64_t t) {
  const std::optional<std::uint64_t> gt = MaybeTerm(i);
  if (!gt || *gt != t || i < offset_) return;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(i + 1 - offset_));
  offset_ = i + 1;
  CheckInvariants();
}

void Unstable::StableSnapTo(std::uint64_t i) {
  if (snapshot_ && snapshot_->metadata().index() == i) snapshot_.reset();
}

void Unstable::Restore(const pb::Snapshot& snap) {
  offset_ = snap.metadata().index() + 1;
  entries_.clear();
  snapshot_ = snap;
  CheckInvariants();
}

void Unstable::TruncateAndAppend(const EntryVec& ents) {
  RAFT_ASSERT(!ents.empty());
  for (std::size_t k = 1; k < ents.size(); ++k) {
    RAFT_ASSERT(ents[k].index() == ents[k - 1].index() + 1);
    RAFT_ASSERT(ents[k].term() >= ents[k - 1].term());
  }
  const std::uint64_t after = ents.front().index();
  RAFT_ASSERT(after >= 1);
  // Terms never decrease along the log, across the join too.
  if (after > offset_ && after <= offset_ + entries_.size()) {
    RAFT_ASSERT(ents.front().term() >= entries_[after - offset_ - 1].term());
  }
  if (after == offset_ + entries_.size()) {
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  } else if (after <= offset_) {
    // Replaces the whole unstable tail, and (in Storage) everything from after.
    offset_ = after;
    entries_ = ents;
  } else {
    RAFT_ASSERT(after < offset_ + entries_.size());
    entries_.resize(after - offset_);
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  }
  CheckInvariants();
}

EntryVec Unstable::Slice(std::uint64_t lo, std::uint64_t hi) const {
  RAFT_ASSERT(lo <= hi);
  RAFT_ASSERT(offset_ <= lo && hi <= offset_ + entries_.size());
  return EntryVec(entries_.begin() + static_cast<std::ptrdiff_t>(lo - offset_),
                  entries_.begin() + static_cast<std::ptrdiff_t>(hi - offset_));
}

void Unstable::CheckInvariants() const {
  if (snapshot_) RAFT_ASSERT(offset_ == snapshot_->metadata().index() + 1);
  // O(1): TruncateAndAppend checks the appended run is contiguous.
  if (entries_.empty()) return;
  RAFT_ASSERT(entries_.front().index() == offset_);
  RAFT_ASSERT(entries_.back().index() == offset_ + entries_.size() - 1);
}

}  // namespace aspen::raft
