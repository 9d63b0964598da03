// LogStore's read side: Entries, Term, InitialState, Snapshot, VerifyChain.
#include "storage/log_store.h"

namespace aspen::storage {

namespace {

Status Missing(std::uint64_t index) {
  return Status::Corruption("raft log entry " + std::to_string(index) +
                            " is missing from the store");
}

}  // namespace

Result<std::vector<LogEntry>> LogStore::Entries(std::uint64_t lo, std::uint64_t hi,
                                                std::uint64_t max_bytes) const {
  if (lo > hi) {
    return Status::InvalidArgument("log range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                   ") is inverted");
  }
  if (lo < FirstIndex()) return CompactedError(lo);
  if (hi > last_index_ + 1) return UnavailableError(hi - 1);
  std::vector<LogEntry> out;
  if (lo == hi) return out;
  std::unique_ptr<storage::Snapshot> snap = store_->GetSnapshot();
  const std::string lower = EncodeLogKey(lo);
  const std::string upper = EncodeLogKey(hi);
  std::unique_ptr<Iterator> it = snap->NewIterator(Cf::kRaftLog, lower, upper);
  std::uint64_t bytes = 0;
  std::uint64_t want = lo;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++want) {
    Result<std::uint64_t> index = DecodeLogKey(it->key());
    if (!index.ok()) return index.status();
    if (*index != want) return Missing(want);
    const std::uint64_t size = it->value().size();
    // etcd's rule: at least one entry, then stop before exceeding max_bytes.
    if (!out.empty() && bytes + size > max_bytes) return out;
    Result<LogEntry> entry = DecodeLogEntry(want, it->value());
    if (!entry.ok()) return entry.status();
    bytes += size;
    out.push_back(std::move(entry).value());
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  if (want != hi) return Missing(want);
  return out;
}

Result<std::uint64_t> LogStore::Term(std::uint64_t index) const {
  if (index == truncated_.index) return truncated_.term;
  if (index < truncated_.index) return CompactedError(index);
  if (index > last_index_) return UnavailableError(index);
  if (index == last_index_) return last_term_;
  std::string value;
  Status s = store_->Get(Cf::kRaftLog, EncodeLogKey(index), &value);
  if (s.code() == Code::kNotFound) return Missing(index);
  ASPEN_RETURN_IF_ERROR(s);
  Result<LogEntry> entry = DecodeLogEntry(index, value);
  if (!entry.ok()) return entry.status();
  return entry->term;
}

Result<InitialRaftState> LogStore::InitialState() const {
  InitialRaftState state;
  std::string value;
  Status s = store_->Get(Cf::kRaftState, kHardStateKey, &value);
  if (s.ok()) {
    Result<HardState> hs = DecodeHardState(value);
    if (!hs.ok()) return hs.status();
    state.hard_state = *hs;
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  s = store_->Get(Cf::kRaftState, kConfStateKey, &state.conf_state);
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  return state;
}

Result<std::optional<SnapshotMeta>> LogStore::Snapshot() const {
  std::string value;
  Status s = store_->Get(Cf::kRaftState, kSnapshotKey, &value);
  if (s.code() == Code::kNotFound) return std::optional<SnapshotMeta>();
  ASPEN_RETURN_IF_ERROR(s);
  Result<SnapshotMeta> meta = DecodeSnapshotMeta(value);
  if (!meta.ok()) return meta.status();
  return std::optional<SnapshotMeta>(std::move(meta).value());
}

Status LogStore::VerifyChain() const {
  // One store snapshot, so a concurrent writer cannot produce a false alarm.
  std::unique_ptr<storage::Snapshot> snap = store_->GetSnapshot();
  TruncatedState truncated;
  std::string value;
  Status s = snap->Get(Cf::kRaftState, kTruncatedKey, &value);
  if (s.ok()) {
    Result<TruncatedState> decoded = DecodeTruncatedState(value);
    if (!decoded.ok()) return decoded.status();
    truncated = *decoded;
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  std::unique_ptr<Iterator> it = snap->NewIterator(Cf::kRaftLog);
  ChainHash prev = truncated.chain_hash;
  std::uint64_t want = truncated.index + 1;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++want) {
    Result<std::uint64_t> index = DecodeLogKey(it->key());
    if (!index.ok()) return index.status();
    if (*index != want) {
      return Status::Corruption("raft log entry " + std::to_string(want) +
                                " is missing (next stored index is " + std::to_string(*index) +
                                ")");
    }
    Result<LogEntry> e = DecodeLogEntry(want, it->value());
    if (!e.ok()) return e.status();
    const ChainHash computed = ComputeChainHash(prev, e->term, e->index, e->type, e->data);
    if (computed != e->chain_hash) {
      return Status::Corruption("chain hash mismatch at index " + std::to_string(want) +
                                " (stored " + ChainHashHex(e->chain_hash) + ", computed " +
                                ChainHashHex(computed) + ")");
    }
    prev = e->chain_hash;
  }
  return it->status();
}

}  // namespace aspen::storage
