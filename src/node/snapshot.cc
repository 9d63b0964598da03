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
  SnapshotLoader load = std::move(it->second);
  staged_loaders.erase(it);
  // Every row of the state column families is replaced.
  std::unique_ptr<storage::Snapshot> now = store->GetSnapshot();
  for (storage::Cf cf : storage::StateCfs()) {
    std::unique_ptr<storage::Iterator> iter = now->NewIterator(cf);
    iter->SeekToLast();
    if (!iter->status().ok()) return iter->status();
    if (!iter->Valid()) continue;
    std::string end(iter->key());
    end.push_back('\0');  // the smallest key after the last one
    batch->DeleteRange(cf, "", end);
  }
  ASPEN_RETURN_IF_ERROR(load(batch));
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
