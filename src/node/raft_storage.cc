#include "node/raft_storage.h"

#include <utility>
#include <vector>

#include "base/assert.h"

namespace aspen::node {

Result<storage::LogEntry> ToLogEntry(const rpb::Entry& entry) {
  storage::LogEntry out;
  out.index = entry.index();
  out.term = entry.term();
  switch (entry.type()) {
    case rpb::ENTRY_NORMAL: out.type = storage::kEntryNormal; break;
    case rpb::ENTRY_CONF_CHANGE: out.type = storage::kEntryConfChange; break;
    default:
      return Status::InvalidArgument("raft entry " + std::to_string(entry.index()) +
                                     " has unknown type " + std::to_string(entry.type()));
  }
  out.data = entry.data();
  return out;
}

Result<rpb::Entry> ToRaftEntry(const storage::LogEntry& entry) {
  rpb::Entry out;
  out.set_index(entry.index);
  out.set_term(entry.term);
  switch (entry.type) {
    case storage::kEntryNormal: out.set_type(rpb::ENTRY_NORMAL); break;
    case storage::kEntryConfChange: out.set_type(rpb::ENTRY_CONF_CHANGE); break;
    default:
      return Status::InvalidArgument("log entry " + std::to_string(entry.index) + " has type " +
                                     std::to_string(entry.type) + ", which raft cannot represent");
  }
  out.set_data(entry.data);
  return out;
}

storage::HardState ToStorageHardState(const rpb::HardState& hs) {
  return storage::HardState{hs.term(), hs.vote(), hs.commit()};
}

rpb::HardState ToRaftHardState(const storage::HardState& hs) {
  rpb::HardState out;
  out.set_term(hs.term);
  out.set_vote(hs.vote);
  out.set_commit(hs.commit);
  return out;
}

std::string EncodeConfState(const rpb::ConfState& cs) {
  std::string out;
  const bool ok = cs.SerializeToString(&out);
  ASPEN_ASSERT(ok);
  return out;
}

Result<rpb::ConfState> DecodeConfState(std::string_view bytes) {
  rpb::ConfState cs;
  if (!cs.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("stored conf state (" + std::to_string(bytes.size()) +
                              " bytes) does not parse");
  }
  return cs;
}

raft::Error ToRaftError(const Status& status) {
  ASPEN_ASSERT(!status.ok());
  if (storage::LogStore::IsCompacted(status)) {
    return raft::Error(raft::ErrorCode::kCompacted, status.message());
  }
  if (storage::LogStore::IsUnavailable(status)) {
    return raft::Error(raft::ErrorCode::kUnavailable, status.message());
  }
  return raft::Error(raft::ErrorCode::kInvalidArgument, "log store: " + status.ToString());
}

RaftStorage::RaftStorage(storage::LogStore* log) : log_(log) {
  ASPEN_ASSERT(log_ != nullptr);
}

raft::Result<raft::StorageState> RaftStorage::InitialState() const {
  auto initial = log_->InitialState();
  if (!initial.ok()) return ToRaftError(initial.status());
  auto cs = DecodeConfState(initial->conf_state);
  if (!cs.ok()) return ToRaftError(cs.status());
  raft::StorageState out;
  out.hard_state = ToRaftHardState(initial->hard_state);
  out.conf_state = std::move(cs).value();
  return out;
}

raft::Result<raft::EntryVec> RaftStorage::Entries(std::uint64_t lo, std::uint64_t hi,
                                                  std::uint64_t max_bytes) const {
  auto got = log_->Entries(lo, hi, max_bytes);
  if (!got.ok()) return ToRaftError(got.status());
  raft::EntryVec out;
  out.reserve(got->size());
  for (const storage::LogEntry& e : *got) {
    auto converted = ToRaftEntry(e);
    if (!converted.ok()) return ToRaftError(converted.status());
    out.push_back(std::move(converted).value());
  }
  // LogStore bounds by its encoded size; raft's bound is EntrySize.
  if (!out.empty()) raft::LimitSize(&out, max_bytes);
  return out;
}

raft::Result<std::uint64_t> RaftStorage::Term(std::uint64_t i) const {
  auto term = log_->Term(i);
  if (!term.ok()) return ToRaftError(term.status());
  return *term;
}

raft::Result<std::uint64_t> RaftStorage::FirstIndex() const {
  return log_->FirstIndex();
}

raft::Result<std::uint64_t> RaftStorage::LastIndex() const {
  return log_->LastIndex();
}

raft::Result<rpb::Snapshot> RaftStorage::Snapshot() const {
  if (provider_) return provider_();
  auto meta = log_->Snapshot();
  if (!meta.ok()) return ToRaftError(meta.status());
  rpb::Snapshot out;
  rpb::SnapshotMetadata* md = out.mutable_metadata();
  std::string conf_bytes;
  if (meta->has_value()) {
    md->set_index((*meta)->index);
    md->set_term((*meta)->term);
    conf_bytes = (*meta)->conf_state;
  } else {
    md->set_index(log_->Truncated().index);
    md->set_term(log_->Truncated().term);
    auto initial = log_->InitialState();
    if (!initial.ok()) return ToRaftError(initial.status());
    conf_bytes = initial->conf_state;
  }
  auto cs = DecodeConfState(conf_bytes);
  if (!cs.ok()) return ToRaftError(cs.status());
  *md->mutable_conf_state() = std::move(cs).value();
  return out;
}

Status RaftStorage::PersistReady(const raft::Ready& ready, storage::WriteBatch* batch,
                                 const storage::ChainHash& snapshot_chain_hash) {
  ASPEN_ASSERT(batch != nullptr);
  if (ready.snapshot.has_value()) {
    const rpb::SnapshotMetadata& md = ready.snapshot->metadata();
    storage::SnapshotMeta meta;
    meta.index = md.index();
    meta.term = md.term();
    meta.conf_state = EncodeConfState(md.conf_state());
    meta.chain_hash = snapshot_chain_hash;
    // Also stores meta.conf_state as the current configuration.
    ASPEN_RETURN_IF_ERROR(log_->ApplySnapshotToBatch(batch, meta));
  }
  if (!ready.entries.empty()) {
    std::vector<storage::LogEntry> entries;
    entries.reserve(ready.entries.size());
    for (const rpb::Entry& e : ready.entries) {
      auto converted = ToLogEntry(e);
      if (!converted.ok()) return converted.status();
      entries.push_back(std::move(converted).value());
    }
    ASPEN_RETURN_IF_ERROR(log_->AppendToBatch(batch, entries));
  }
  if (ready.hard_state.has_value()) {
    log_->SetHardState(batch, ToStorageHardState(*ready.hard_state));
  }
  return Status::Ok();
}

void RaftStorage::SetConfState(storage::WriteBatch* batch, const rpb::ConfState& cs) {
  log_->SetConfState(batch, EncodeConfState(cs));
}

}  // namespace aspen::node
