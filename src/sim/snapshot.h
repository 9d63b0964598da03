// Modelled state-machine snapshots, for the raw runtime (SimNode) only; the
// node runtime uses node::Node's own snapshots (node_replica.h).
//
// node::RaftStorage::Snapshot() answers the compaction point's metadata with
// empty data (node::Node carries the state out of band), so the raw runtime
// models the data itself to exercise compaction and InstallSnapshot:
//
//   - Compaction (SimNode::Compact): the node compacts its log to a point at
//     or below its applied index (LogStore::CompactTo, synced).
//   - SimStorage::Snapshot() builds a fresh snapshot whenever raft asks (as
//     etcd sends its current backend): every row of the state machine's column
//     families (kv, index, lease, meta) at the applied index, with that
//     index's term, chain hash and the configuration applied with it. A
//     snapshot taken this way always includes the latest applied membership
//     change, so a node added after the compaction accepts it.
//   - A follower that receives the snapshot replaces its state machine rows
//     with the blob's in the same synced batch that installs it in the log
//     (RestoreToBatch), then reopens its StateMachine.
//
// Blob grammar (little-endian lengths; never leaves the process):
//   blob := chain_hash:32*u8 row*
//   row  := cf:u8 key_len:u32 key value_len:u32 value
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "node/raft_storage.h"
#include "raft/storage.h"
#include "storage/chain_hash.h"
#include "storage/log_store.h"
#include "storage/store.h"
#include "storage/write_batch.h"

namespace aspen::sim {

// The blob of the state machine's rows in `snapshot`, headed by `chain_hash`.
Result<std::string> EncodeStateBlob(const storage::Snapshot& snapshot,
                                    const storage::ChainHash& chain_hash);
// The chain hash at the head of a blob; Corruption if the blob is short.
Result<storage::ChainHash> BlobChainHash(std::string_view blob);
// Adds to `batch`: delete every state machine row of `current`, then put every
// row of `blob`. Corruption on a malformed blob.
Status RestoreToBatch(const storage::Snapshot& current, std::string_view blob,
                      storage::WriteBatch* batch);

// raft::Storage over node::RaftStorage whose Snapshot() carries the blob.
class SimStorage final : public raft::Storage {
 public:
  // None is owned; all must outlive this object.
  SimStorage(node::RaftStorage* inner, storage::LogStore* log, storage::Store* store)
      : inner_(inner), log_(log), store_(store) {}

  raft::Result<raft::StorageState> InitialState() const override { return inner_->InitialState(); }
  raft::Result<raft::EntryVec> Entries(std::uint64_t lo, std::uint64_t hi,
                                       std::uint64_t max_bytes) const override {
    return inner_->Entries(lo, hi, max_bytes);
  }
  raft::Result<std::uint64_t> Term(std::uint64_t i) const override { return inner_->Term(i); }
  raft::Result<std::uint64_t> FirstIndex() const override { return inner_->FirstIndex(); }
  raft::Result<std::uint64_t> LastIndex() const override { return inner_->LastIndex(); }
  // A fresh snapshot of the state at the applied index (see above). Storage
  // errors become kInvalidArgument (raft treats them as a broken store).
  raft::Result<raft::pb::Snapshot> Snapshot() const override;

 private:
  node::RaftStorage* inner_;
  storage::LogStore* log_;
  storage::Store* store_;
};

}  // namespace aspen::sim
