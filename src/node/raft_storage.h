// RaftStorage: raft::Storage (how raft reads its log) over storage::LogStore
// (the log, hard state and conf state kept in the node's Store), plus the
// conversions between raft's protobuf types and storage's own types, and the
// one function that persists a Ready's snapshot, entries and hard state.
//
// storage/ does not depend on raft/, and raft/ includes nothing of ours, so
// this adapter is the only place where the two vocabularies meet:
//
//   raft pb::Entry      <-> storage::LogEntry   (type: ENTRY_NORMAL <-> kEntryNormal,
//                                                ENTRY_CONF_CHANGE <-> kEntryConfChange)
//   raft pb::HardState  <-> storage::HardState  (term, vote, commit)
//   raft pb::ConfState  <-> opaque bytes        (the serialized protobuf, stored as given)
//
// Errors (raft/storage.h's contract): storage's OutOfRange ("compacted")
// becomes raft's kCompacted and storage's Unavailable becomes kUnavailable;
// anything else (Corruption, IOError, an entry type raft cannot represent) is
// a broken store and becomes kInvalidArgument naming the storage error, which
// raft treats as fatal.
//
// Snapshots: Aspen's node does not ship state-machine snapshots through raft
// yet. Snapshot() answers the metadata of the compaction point (index, term,
// conf state) with empty data; raft asks for it only when a follower needs an
// index below FirstIndex(), which cannot happen while the log is never
// compacted (FirstIndex() stays 1).
//
// Thread safety: none, like LogStore. The thread that drives the RawNode owns
// the RaftStorage and its LogStore.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "raft/ready.h"
#include "raft/storage.h"
#include "storage/log_store.h"
#include "storage/write_batch.h"

namespace aspen::node {

namespace rpb = ::aspen::raft::pb;

// ----- Conversions -----

// InvalidArgument for an entry type storage has no tag for.
Result<storage::LogEntry> ToLogEntry(const rpb::Entry& entry);
// InvalidArgument for a stored type raft cannot represent (conf change v2).
Result<rpb::Entry> ToRaftEntry(const storage::LogEntry& entry);
storage::HardState ToStorageHardState(const rpb::HardState& hs);
rpb::HardState ToRaftHardState(const storage::HardState& hs);
// The bytes stored for a conf state (its deterministic protobuf encoding).
std::string EncodeConfState(const rpb::ConfState& cs);
// "" decodes to the empty ConfState (a node that was never configured);
// Corruption when the bytes do not parse.
Result<rpb::ConfState> DecodeConfState(std::string_view bytes);
// Maps a storage Status (non-ok) to raft's error vocabulary, as described above.
raft::Error ToRaftError(const Status& status);

class RaftStorage final : public raft::Storage {
 public:
  // `log` is not owned and must outlive this object.
  explicit RaftStorage(storage::LogStore* log);

  // ----- raft::Storage -----
  raft::Result<raft::StorageState> InitialState() const override;
  raft::Result<raft::EntryVec> Entries(std::uint64_t lo, std::uint64_t hi,
                                       std::uint64_t max_bytes) const override;
  raft::Result<std::uint64_t> Term(std::uint64_t i) const override;
  raft::Result<std::uint64_t> FirstIndex() const override;
  raft::Result<std::uint64_t> LastIndex() const override;
  raft::Result<rpb::Snapshot> Snapshot() const override;

  // ----- Writing (the Ready loop) -----

  // Adds step 1 of raft/ready.h to `batch`: the snapshot (replacing the log;
  // its chain hash is `snapshot_chain_hash`, which the sender must supply
  // because raft's snapshot carries none), then the entries, then the hard
  // state. The caller writes `batch` with sync = ready.must_sync before the
  // next call on this object (LogStore's caching rule). Errors from LogStore
  // (InvalidArgument, FailedPrecondition) leave nothing of the failed part in
  // `batch`; earlier parts may already be in it, so discard the batch.
  Status PersistReady(const raft::Ready& ready, storage::WriteBatch* batch,
                      const storage::ChainHash& snapshot_chain_hash = storage::kZeroChainHash);

  // Records the configuration raft answered from ApplyConfChange (or the
  // initial configuration of a new cluster), read back by InitialState().
  void SetConfState(storage::WriteBatch* batch, const rpb::ConfState& cs);

  storage::LogStore* log() const { return log_; }

  // When set, Snapshot() answers what `provider` returns (the node's applied
  // state) instead of the compaction point's metadata with empty data.
  void SetSnapshotProvider(std::function<raft::Result<rpb::Snapshot>()> provider) {
    provider_ = std::move(provider);
  }

 private:
  storage::LogStore* log_;
  std::function<raft::Result<rpb::Snapshot>()> provider_;
};

}  // namespace aspen::node
