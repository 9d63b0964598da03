#include "raft/memory_storage.h"

#include <string>
#include <utility>

namespace aspen::raft {

MemoryStorage::MemoryStorage() {
  entries_.emplace_back();
}

Result<StorageState> MemoryStorage::InitialState() const {
  StorageState st;
  st.hard_state = hard_state_;
  st.conf_state = snapshot_.metadata().conf_state();
  return st;
}

Result<EntryVec> MemoryStorage::Entries(std::uint64_t lo, std::uint64_t hi,
                                        std::uint64_t max_bytes) const {
  RAFT_ASSERT(lo <= hi);
  if (lo <= offset()) {
    return Error(ErrorCode::kCompacted, "entries from " + std::to_string(lo) +
                                            " are compacted (first index " +
                                            std::to_string(offset() + 1) + ")");
  }
  if (hi > last_index() + 1) {
    return Error(ErrorCode::kUnavailable, "entries up to " + std::to_string(hi) +
                                              " requested, last index is " +
                                              std::to_string(last_index()));
  }
  EntryVec out(entries_.begin() + static_cast<std::ptrdiff_t>(lo - offset()),
               entries_.begin() + static_cast<std::ptrdiff_t>(hi - offset()));
  LimitSize(&out, max_bytes);
  return out;
}

Result<std::uint64_t> MemoryStorage::Term(std::uint64_t i) const {
  if (i < offset()) {
    return Error(ErrorCode::kCompacted, "term of compacted index " + std::to_string(i));
  }
  if (i > last_index()) {
    return Error(ErrorCode::kUnavailable, "term of index " + std::to_string(i) +
                                              " past last index " + std::to_string(last_index()));
  }
  return entries_[i - offset()].term();
}

Result<std::uint64_t> MemoryStorage::FirstIndex() const {
  return offset() + 1;
}

Result<std::uint64_t> MemoryStorage::LastIndex() const {
  return last_index();
}

Result<pb::Snapshot> MemoryStorage::Snapshot() const {
  return snapshot_;
}

Error MemoryStorage::ApplySnapshot(const pb::Snapshot& snap) {
  const std::uint64_t held = snapshot_.metadata().index();
  if (snap.metadata().index() <= held) {
    return Error(ErrorCode::kSnapOutOfDate,
                 "snapshot at " + std::to_string(snap.metadata().index()) +
                     " is not newer than the held one at " + std::to_string(held));
  }
  snapshot_ = snap;
  entries_.clear();
  pb::Entry& dummy = entries_.emplace_back();
  dummy.set_index(snap.metadata().index());
  dummy.set_term(snap.metadata().term());
  return Error::Ok();
}

Result<pb::Snapshot> MemoryStorage::CreateSnapshot(std::uint64_t i, const pb::ConfState& cs,
                                                   std::string data) {
  if (i <= snapshot_.metadata().index()) {
    return Error(ErrorCode::kSnapOutOfDate,
                 "snapshot at " + std::to_string(i) + " is not newer than the held one");
  }
  if (i > last_index()) {
    return Error(ErrorCode::kUnavailable, "snapshot at " + std::to_string(i) + " past last index " +
                                              std::to_string(last_index()));
  }
  // Entries at or below the held snapshot are gone, so i > offset() here.
  RAFT_ASSERT(i > offset());
  snapshot_.set_data(std::move(data));
  pb::SnapshotMetadata* md = snapshot_.mutable_metadata();
  md->set_index(i);
  md->set_term(entries_[i - offset()].term());
  *md->mutable_conf_state() = cs;
  return snapshot_;
}

Error MemoryStorage::Compact(std::uint64_t compact_index) {
  if (compact_index <= offset()) {
    return Error(ErrorCode::kCompacted,
                 "index " + std::to_string(compact_index) + " is already compacted");
  }
  if (compact_index > last_index()) {
    return Error(ErrorCode::kUnavailable, "compact index " + std::to_string(compact_index) +
                                              " past last index " + std::to_string(last_index()));
  }
  const std::size_t k = compact_index - offset();
  EntryVec kept;
  kept.reserve(entries_.size() - k);
  pb::Entry& dummy = kept.emplace_back();
  dummy.set_index(entries_[k].index());
  dummy.set_term(entries_[k].term());
  for (std::size_t j = k + 1; j < entries_.size(); ++j) kept.push_back(std::move(entries_[j]));
  entries_ = std::move(kept);
  return Error::Ok();
}

Error MemoryStorage::Append(const EntryVec& entries) {
  if (entries.empty()) return Error::Ok();
  for (std::size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index() != entries[k - 1].index() + 1) {
      return Error(ErrorCode::kInvalidArgument, "appended entries are not contiguous at index " +
                                                    std::to_string(entries[k].index()));
    }
  }
  const std::uint64_t first = offset() + 1;
  if (entries.back().index() < first) return Error::Ok();  // all compacted
  std::size_t skip = 0;
  if (entries.front().index() < first) skip = first - entries.front().index();
  const std::uint64_t start = entries[skip].index();
  if (start > last_index() + 1) {
    return Error(ErrorCode::kInvalidArgument, "append at " + std::to_string(start) +
                                                  " leaves a gap after last index " +
                                                  std::to_string(last_index()));
  }
  entries_.resize(start - offset());
  entries_.insert(entries_.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip),
                  entries.end());
  return Error::Ok();
}

}  // namespace aspen::raft
