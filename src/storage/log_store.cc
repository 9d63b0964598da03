#include "storage/log_store.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace aspen::storage {

namespace {

std::string IndexName(std::uint64_t index) {
  return "log index " + std::to_string(index);
}

// Reads an optional record of raft_state: NotFound leaves *found false.
Status GetState(Store* store, std::string_view key, std::string* value, bool* found) {
  Status s = store->Get(Cf::kRaftState, key, value);
  *found = s.ok();
  if (s.code() == Code::kNotFound) return Status::Ok();
  return s;
}

// Checks the shape of entries handed to AppendToBatch.
Status ValidateNewEntries(const std::vector<LogEntry>& entries) {
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const LogEntry& e = entries[k];
    if (e.index == 0) return Status::InvalidArgument("log entries start at index 1");
    if (k > 0 && e.index != entries[k - 1].index + 1) {
      return Status::InvalidArgument(
          "log entries are not consecutive: " + std::to_string(entries[k - 1].index) + " then " +
          std::to_string(e.index));
    }
    if (k > 0 && e.term < entries[k - 1].term) {
      return Status::InvalidArgument("log entry " + std::to_string(e.index) + " has term " +
                                     std::to_string(e.term) + " below its predecessor's " +
                                     std::to_string(entries[k - 1].term));
    }
    if (e.type > kEntryConfChangeV2) {
      return Status::InvalidArgument("log entry " + std::to_string(e.index) + " has unknown type " +
                                     std::to_string(e.type));
    }
    if (e.data.size() > std::numeric_limits<std::uint32_t>::max()) {
      return Status::InvalidArgument("log entry " + std::to_string(e.index) + " has " +
                                     std::to_string(e.data.size()) +
                                     " bytes of data, above the format's 4 GiB limit");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<LogStore>> LogStore::Open(Store* store, const LogStoreOptions& options) {
  ASPEN_ASSERT(store != nullptr);
  std::unique_ptr<LogStore> log(new LogStore(store));
  ASPEN_RETURN_IF_ERROR(log->Reload());
  if (options.verify_chain_on_open) ASPEN_RETURN_IF_ERROR(log->VerifyChain());
  return log;
}

Status LogStore::Reload() {
  std::string value;
  bool found = false;
  ASPEN_RETURN_IF_ERROR(GetState(store_, kTruncatedKey, &value, &found));
  TruncatedState truncated;
  if (found) {
    Result<TruncatedState> decoded = DecodeTruncatedState(value);
    if (!decoded.ok()) return decoded.status();
    truncated = *decoded;
  }
  std::unique_ptr<storage::Snapshot> snap = store_->GetSnapshot();
  std::unique_ptr<Iterator> it = snap->NewIterator(Cf::kRaftLog);
  std::uint64_t last_index = truncated.index;
  std::uint64_t last_term = truncated.term;
  ChainHash tip = truncated.chain_hash;
  it->SeekToFirst();
  if (it->Valid()) {
    Result<std::uint64_t> first = DecodeLogKey(it->key());
    if (!first.ok()) return first.status();
    if (*first != truncated.index + 1) {
      return Status::Corruption("raft log starts at index " + std::to_string(*first) +
                                " but the compaction point says it starts at " +
                                std::to_string(truncated.index + 1));
    }
    it->SeekToLast();
    ASPEN_ASSERT(it->Valid());
    Result<std::uint64_t> last = DecodeLogKey(it->key());
    if (!last.ok()) return last.status();
    Result<LogEntry> entry = DecodeLogEntry(*last, it->value());
    if (!entry.ok()) return entry.status();
    last_index = *last;
    last_term = entry->term;
    tip = entry->chain_hash;
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  ASPEN_ASSERT(truncated.index <= last_index);
  truncated_ = truncated;
  last_index_ = last_index;
  last_term_ = last_term;
  tip_ = tip;
  return Status::Ok();
}

Status LogStore::CompactedError(std::uint64_t index) const {
  return Status::OutOfRange(IndexName(index) + " is compacted (first index is " +
                            std::to_string(FirstIndex()) + ")");
}

Status LogStore::UnavailableError(std::uint64_t index) const {
  return Status::Unavailable(IndexName(index) + " is unavailable (last index is " +
                             std::to_string(last_index_) + ")");
}

Result<LogEntry> LogStore::EntryAsOfBatch(const WriteBatch& batch, std::uint64_t index) const {
  const std::string key = EncodeLogKey(index);
  const auto& ops = batch.ops();
  for (auto op = ops.rbegin(); op != ops.rend(); ++op) {
    if (op->cf != Cf::kRaftLog) continue;
    switch (op->type) {
      case WriteBatch::OpType::kPut:
        if (op->key == key) return DecodeLogEntry(index, op->value);
        break;
      case WriteBatch::OpType::kDelete:
        if (op->key == key) return Status::Corruption(IndexName(index) + " is deleted");
        break;
      case WriteBatch::OpType::kDeleteRange:
        if (op->key <= key && key < op->value) {
          return Status::Corruption(IndexName(index) + " is deleted");
        }
        break;
    }
  }
  std::string value;
  Status s = store_->Get(Cf::kRaftLog, key, &value);
  if (s.code() == Code::kNotFound) {
    return Status::Corruption(IndexName(index) + " is missing from the store");
  }
  ASPEN_RETURN_IF_ERROR(s);
  return DecodeLogEntry(index, value);
}

Status LogStore::AppendToBatch(WriteBatch* batch, std::vector<LogEntry>& entries) {
  ASPEN_RETURN_IF_ERROR(ValidateNewEntries(entries));
  // Skip what is already compacted: committed, so equal to what we had.
  std::size_t skip = 0;
  while (skip < entries.size() && entries[skip].index < FirstIndex()) ++skip;
  if (skip == entries.size()) return Status::Ok();
  const std::uint64_t first_new = entries[skip].index;
  if (first_new > last_index_ + 1) {
    return Status::FailedPrecondition("append at " + IndexName(first_new) +
                                      " would leave a gap after last index " +
                                      std::to_string(last_index_));
  }
  ChainHash prev;
  if (first_new - 1 == last_index_) {
    prev = tip_;
  } else if (first_new - 1 == truncated_.index) {
    prev = truncated_.chain_hash;
  } else {
    Result<LogEntry> before = EntryAsOfBatch(*batch, first_new - 1);
    if (!before.ok()) return before.status();
    prev = before->chain_hash;
  }
  for (std::size_t k = skip; k < entries.size(); ++k) {
    LogEntry& e = entries[k];
    e.chain_hash = ComputeChainHash(prev, e.term, e.index, e.type, e.data);
    prev = e.chain_hash;
    batch->Put(Cf::kRaftLog, EncodeLogKey(e.index), EncodeLogEntry(e));
  }
  const LogEntry& last = entries.back();
  if (last_index_ > last.index) {
    // Raft §5.3: the old suffix after the new entries conflicts; drop it.
    batch->DeleteRange(Cf::kRaftLog, EncodeLogKey(last.index + 1), EncodeLogKey(last_index_ + 1));
  }
  last_index_ = last.index;
  last_term_ = last.term;
  tip_ = last.chain_hash;
  ASPEN_ASSERT(truncated_.index <= last_index_);
  return Status::Ok();
}

void LogStore::SetHardState(WriteBatch* batch, const HardState& hs) {
  batch->Put(Cf::kRaftState, kHardStateKey, EncodeHardState(hs));
}

void LogStore::SetConfState(WriteBatch* batch, std::string_view conf_state) {
  batch->Put(Cf::kRaftState, kConfStateKey, conf_state);
}

void LogStore::SetSnapshotMeta(WriteBatch* batch, const SnapshotMeta& meta) {
  batch->Put(Cf::kRaftState, kSnapshotKey, EncodeSnapshotMeta(meta));
}

Status LogStore::CompactTo(WriteBatch* batch, std::uint64_t index) {
  if (index <= truncated_.index) return CompactedError(index);
  if (index > last_index_) return UnavailableError(index);
  Result<LogEntry> point = EntryAsOfBatch(*batch, index);
  if (!point.ok()) return point.status();
  TruncatedState truncated{index, point->term, point->chain_hash};
  batch->DeleteRange(Cf::kRaftLog, EncodeLogKey(0), EncodeLogKey(index + 1));
  batch->Put(Cf::kRaftState, kTruncatedKey, EncodeTruncatedState(truncated));
  truncated_ = truncated;
  ASPEN_ASSERT(truncated_.index <= last_index_);
  return Status::Ok();
}

Status LogStore::ApplySnapshotToBatch(WriteBatch* batch, const SnapshotMeta& meta) {
  if (meta.index <= truncated_.index) {
    return Status::FailedPrecondition("snapshot at index " + std::to_string(meta.index) +
                                      " is out of date (log compacted to " +
                                      std::to_string(truncated_.index) + ")");
  }
  batch->DeleteRange(Cf::kRaftLog, EncodeLogKey(0),
                     EncodeLogKey(std::max(last_index_, meta.index) + 1));
  TruncatedState truncated{meta.index, meta.term, meta.chain_hash};
  batch->Put(Cf::kRaftState, kTruncatedKey, EncodeTruncatedState(truncated));
  SetSnapshotMeta(batch, meta);
  SetConfState(batch, meta.conf_state);
  truncated_ = truncated;
  last_index_ = meta.index;
  last_term_ = meta.term;
  tip_ = meta.chain_hash;
  return Status::Ok();
}

}  // namespace aspen::storage
