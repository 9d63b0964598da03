// Log compaction by policy and raft snapshots: taking one for a follower that
// is behind the compacted log, installing one received from the leader
// (docs/NODE.md, "Log compaction and snapshots").
#include <algorithm>
#include <limits>

#include "node/node_impl.h"
#include "sm/reads.h"
#include "storage/snapshot.h"

namespace aspen::node {
namespace {

Result<storage::ChainHash> ChainHashAt(const storage::LogStore& log, std::uint64_t index) {
  if (index == log.Truncated().index) return log.Truncated().chain_hash;
  auto e = log.Entries(index, index + 1, std::numeric_limits<std::uint64_t>::max());
  if (!e.ok()) return e.status();
  ASPEN_ASSERT(!e->empty());
  return e->front().chain_hash;
}

}  // namespace

// The marker value of a follower's install: a tag byte that a decimal index
// (`aspen snapshot restore`'s marker) never starts with, then the raft
// snapshot (metadata and the chain hash in data).
constexpr char kInstallMarkerTag = 'R';

std::string EncodeInstallMarker(const rpb::Snapshot& snap) {
  return kInstallMarkerTag + snap.SerializeAsString();
}

bool DecodeInstallMarker(std::string_view value, rpb::Snapshot* snap) {
  if (value.empty() || value[0] != kInstallMarkerTag) return false;
  value.remove_prefix(1);
  return snap->ParseFromArray(value.data(), static_cast<int>(value.size())) && snap->has_metadata();
}

raft::Result<rpb::Snapshot> Node::Impl::TakeSnapshot() {
  // Called by raft on the loop thread between writes: the store holds exactly
  // the state at sm->applied_index(), and `conf` is the configuration there.
  const std::uint64_t index = sm->applied_index();
  auto term = log->Term(index);
  if (!term.ok()) return ToRaftError(term.status());
  auto hash = ChainHashAt(*log, index);
  if (!hash.ok()) return ToRaftError(hash.status());
  rpb::Snapshot snap;
  snap.mutable_metadata()->set_index(index);
  snap.mutable_metadata()->set_term(*term);
  // The data field carries the chain hash at `index`, so the receiver's log
  // chain continues; the state itself travels out of band.
  snap.set_data(std::string(reinterpret_cast<const char*>(hash->data()), hash->size()));
  std::shared_ptr<storage::Snapshot> view(store->GetSnapshot());
  std::lock_guard lock(status_mu);
  *snap.mutable_metadata()->mutable_conf_state() = conf;
  outgoing_snaps[index] = std::move(view);
  while (outgoing_snaps.size() > kMaxOutgoingSnapshots)
    outgoing_snaps.erase(outgoing_snaps.begin());
  return snap;
}

Status Node::Impl::InstallSnapshot(const rpb::Snapshot& snap, storage::WriteBatch* batch) {
  const std::uint64_t index = snap.metadata().index();
  auto it = staged_loaders.find(index);
  if (it == staged_loaders.end()) {
    return Status::FailedPrecondition("raft snapshot at index " + std::to_string(index) +
                                      " arrived without its state");
  }
  StagedSnapshot staged = std::move(it->second);
  staged_loaders.erase(it);
  // Readers keep the state before the install until AfterInstall has
  // reloaded the Lessor: none sees a lease's keys gone while the Lessor still
  // holds it.
  {
    std::shared_ptr<storage::Snapshot> before(store->GetSnapshot());
    std::lock_guard lock(status_mu);
    install_view = std::move(before);
  }
  if (staged.ingest) {
    // The store ingests the state now, under a synced marker that carries
    // this raft snapshot; `batch` (the log and hard state reset) clears it.
    // The ingest replaced every state row, so nothing is deleted here.
    ASPEN_RETURN_IF_ERROR(staged.ingest(EncodeInstallMarker(snap)));
    batch->Delete(storage::Cf::kRaftState, storage::kIngestMarkerKey);
    return Status::Ok();
  }
  // Every row of the state column families is replaced.
  ASPEN_RETURN_IF_ERROR(storage::AddStateDrop(store, /*replace_existing=*/true, batch));
  ASPEN_RETURN_IF_ERROR(staged.load(batch));
  return Status::Ok();
}

// An install through a SnapshotIngester runs as: (1) state files staged;
// (2) marker M (this raft snapshot) and the drop of the old state, synced;
// (3) the files ingested; (4) one synced batch resets the log to the
// snapshot, writes the hard state and deletes M. A crash before (2) leaves
// the old state and the old log: consistent, nothing to do. A crash after
// (4) leaves the new state and a log at its index: consistent. In between,
// the store holds the new state (or none, after (2)) beside the OLD log, and
// Open finishes the install from M: it ingests the staged files again if (3)
// did not happen, then writes what (4) would have written.
//
// Why finishing is safe: raft installed the snapshot (index S, term T_S)
// only because it came from a leader L of some term T_L and this follower's
// log did not hold T_S at S (raft.h: restore). Every entry committed in a
// term < T_L is in L's log (leader completeness), so an entry of the old log
// past S is not committed in any term < T_L (log matching would put T_S at
// S); in terms >= T_L only acks sent in that term count, and this follower
// acked nothing for the install before (4). So dropping the old log's tail
// loses nothing any quorum relies on, exactly as (4) itself would have. The
// entries <= S that the snapshot replaces are committed ones, in its state.
// Hard state: the vote stays (this member may have voted in the stored
// term); the term rises to T_S if it is below (a higher term with no vote is
// always safe to adopt; it keeps term >= the last log term), and commit
// becomes S (the snapshot is committed; S > the old commit, or raft would
// not have installed it). The chain hash at S comes from M (the raft
// snapshot's data field), so the log chain continues as after (4).
Status Node::Impl::FinishInterruptedInstall() {
  std::string value;
  Status got = store->Get(storage::Cf::kRaftState, storage::kIngestMarkerKey, &value);
  if (got.code() == Code::kNotFound) return Status::Ok();
  ASPEN_RETURN_IF_ERROR(got);
  rpb::Snapshot snap;
  if (!DecodeInstallMarker(value, &snap)) {
    return Status::FailedPrecondition(
        "the store holds a partial snapshot restore (ingest marker set by `aspen snapshot "
        "restore`): restore the backup again into a new data dir");
  }
  const rpb::SnapshotMetadata& md = snap.metadata();
  if (snap.data().size() != sizeof(storage::ChainHash)) {
    return Status::Corruption("snapshot install marker at index " + std::to_string(md.index()) +
                              " carries no chain hash");
  }
  auto applied = sm::ReadAppliedState(*store->GetSnapshot());
  const bool ingested = applied.ok() && applied->applied_index == md.index();
  ASPEN_RETURN_IF_ERROR(store->ResumeStagedIngest(ingested));
  if (!ingested) {
    applied = sm::ReadAppliedState(*store->GetSnapshot());
    if (!applied.ok()) return applied.status();
    if (applied->applied_index != md.index()) {
      return Status::Corruption(
          "interrupted snapshot install: the staged state is at applied index " +
          std::to_string(applied->applied_index) + ", not at " + std::to_string(md.index()));
    }
  }
  auto initial = log->InitialState();
  if (!initial.ok()) return initial.status();
  storage::SnapshotMeta meta;
  meta.index = md.index();
  meta.term = md.term();
  meta.conf_state = EncodeConfState(md.conf_state());
  std::copy(snap.data().begin(), snap.data().end(),
            reinterpret_cast<char*>(meta.chain_hash.data()));
  storage::WriteBatch batch;
  ASPEN_RETURN_IF_ERROR(log->ApplySnapshotToBatch(&batch, meta));
  storage::HardState hs = initial->hard_state;
  if (hs.term < md.term()) hs = storage::HardState{md.term(), 0, hs.commit};
  hs.commit = std::max(hs.commit, md.index());
  log->SetHardState(&batch, hs);
  batch.Delete(storage::Cf::kRaftState, storage::kIngestMarkerKey);
  ASPEN_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  Log("finished a snapshot install a restart interrupted: state and log at index " +
      std::to_string(md.index()) + " (term " + std::to_string(md.term()) + ")" +
      (ingested ? "" : ", staged files ingested again"));
  return Status::Ok();
}

Status Node::Impl::AfterInstall(std::uint64_t index) {
  auto machine = sm::StateMachine::Open(store);
  if (!machine.ok()) return machine.status();
  sm = std::move(machine).value();
  if (sm->applied_index() != index) {
    return Status::Corruption("installed snapshot's state is at applied index " +
                              std::to_string(sm->applied_index()) + ", not at the snapshot index " +
                              std::to_string(index));
  }
  auto leases = sm::Leases(*store->GetSnapshot());
  if (!leases.ok()) return leases.status();
  lessor.Clear();
  for (const sm::LeaseInfo& l : *leases) lessor.Grant(l.id, l.granted_ttl_s);
  if (is_leader) lessor.Promote();
  lessor.Applied(index);
  {
    // The new state and its log are written, and the Lessor holds its leases.
    std::lock_guard lock(status_mu);
    status.revision = sm->revision();
    visible_revision.store(sm->revision());
    install_view.reset();
  }
  auto initial = log->InitialState();
  if (!initial.ok()) return initial.status();
  auto cs = DecodeConfState(initial->conf_state);
  if (!cs.ok()) return cs.status();
  {
    std::lock_guard lock(status_mu);
    conf = *cs;
  }
  ASPEN_RETURN_IF_ERROR(LoadMembers());
  ++snapshots_installed;
  Log("installed a snapshot at index " + std::to_string(index) + " (revision " +
      std::to_string(sm->revision()) + ")");
  // Watchers (node/watch_hub.h) catch up from the installed history.
  if (opts.on_applied) opts.on_applied(sm->revision());
  return Status::Ok();
}

// The policy (etcd's --snapshot-count): once snapshot_count +
// snapshot_catchup_entries applied entries sit in the log, cut it to
// applied - snapshot_catchup_entries; a leader keeps the entries a recently
// active follower still needs if that keeps at most snapshot_count more.
Status Node::Impl::MaybeCompact() {
  const std::uint64_t every = opts.snapshot_count;
  if (every == 0) return Status::Ok();
  const std::uint64_t keep = opts.snapshot_catchup_entries;
  const std::uint64_t applied = sm->applied_index();
  const std::uint64_t first = log->FirstIndex();
  if (applied < first || applied - first + 1 < every + keep) return Status::Ok();
  std::uint64_t target = applied - keep;
  if (is_leader) {
    for (const auto& [id, pr] : raw->raft().tracker().progress()) {
      if (id == opts.id || !pr.recent_active() || pr.match() >= target) continue;
      if (target - pr.match() <= every) target = std::min(target, pr.match());
    }
  }
  // Compact in steps of at least half the count: one range deletion per
  // many entries, not one per Ready while a follower catches up.
  if (target < first || target - first + 1 < std::max<std::uint64_t>(1, every / 2)) {
    return Status::Ok();
  }
  storage::WriteBatch batch;
  ASPEN_RETURN_IF_ERROR(log->CompactTo(&batch, target));
  // Unsynced: losing a compaction in a crash only keeps more log.
  ASPEN_RETURN_IF_ERROR(store->Write(batch, /*sync=*/false));
  ++compactions;
  return Status::Ok();
}

}  // namespace aspen::node
