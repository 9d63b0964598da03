// The Ready loop: drain the inbox into raft, then carry out each Ready in the
// order of raft/ready.h (docs/NODE.md, "The Ready loop").
#include <unordered_set>
#include <utility>

#include "node/node_impl.h"
#include "node/request_tag.h"

namespace aspen::node {

// What one Ready applied, to be completed once its batch is written.
struct Node::Impl::Applied {
  struct Result {
    std::uint64_t index = 0;
    std::optional<RequestTag> tag;
    sm::v1::Response response;
  };
  std::vector<Result> results;
  // The batch's net lease changes, one per id (the last in log order: a
  // revocation of an id followed by its grant leaves the lease, a grant
  // followed by its revocation does not). Revocations reach the Lessor before
  // the store write readers see, grants after it (BeforeAppliedVisible).
  struct LeaseChange {
    std::int64_t id = 0;
    std::int64_t ttl_s = 0;
    bool grant = false;
  };
  std::vector<LeaseChange> leases;
  std::vector<Completion> conf_done;
};

bool Node::Impl::RunOnce() {
  std::vector<Completion> done;
  bool stop = false;
  Status why;
  {
    std::lock_guard lock(mu);
    stop = stopping;
    why = stop_reason;
  }
  if (stop) {
    // The loop owns the tables of waiting requests, so it fails them itself.
    FailAll(why, &done);
    for (Completion& c : done) c();
    return !done.empty();
  }
  DrainInbox(&done);
  bool did = !done.empty();
  bool readied = false;
  while (raw->HasReady()) {
    {
      std::lock_guard lock(mu);
      if (stopping) break;
    }
    HandleReady(raw->GetReady(), &done);
    did = readied = true;
  }
  // Messages stepped without a Ready (heartbeat responses, which mark a
  // follower recently active) still change what Status() reports: membership
  // checks read the peers' activity from it.
  if (!readied) PublishStatus();
  // A snapshot raft did not take (stale) is not installed later.
  staged_loaders.clear();
  RunCompletions(&done);
  return did;
}

void Node::Impl::RunCompletions(std::vector<Completion>* done) {
  if (done->empty()) return;
  if (replies != nullptr && (done->size() > 1 || !replies->Idle()) && replies->Submit(done)) {
    return;
  }
  for (Completion& c : *done) c();
  done->clear();
}

void Node::Impl::DrainInbox(std::vector<Completion>* out) {
  std::deque<rpb::Message> msgs;
  std::deque<QueuedProposal> props;
  std::vector<ReadWaiter> reads;
  std::vector<ConfRequest> confs;
  std::set<NodeId> unreachable;
  std::vector<std::pair<NodeId, bool>> snap_reports;
  std::optional<NodeId> transfer;
  {
    std::lock_guard lock(mu);
    snap_reports.swap(inbox_snap_reports);
    transfer.swap(inbox_transfer);
    for (const rpb::Message& m : inbox_msgs) {
      if (m.type() != rpb::MSG_SNAP) continue;
      auto it = inbox_snap_loaders.find(m.snapshot().metadata().index());
      if (it == inbox_snap_loaders.end()) continue;
      staged_loaders[it->first] = std::move(it->second);
      inbox_snap_loaders.erase(it);
    }
    msgs.swap(inbox_msgs);
    props.swap(inbox_props);
    reads.swap(inbox_reads);
    confs.swap(inbox_conf);
    unreachable.swap(inbox_unreachable);
  }
  for (NodeId id : unreachable) raw->ReportUnreachable(id);
  if (is_leader) {
    for (const auto& [peer, ok] : snap_reports) raw->ReportSnapshot(peer, !ok);
  }
  if (transfer.has_value()) {
    raft::Error err = raw->TransferLeadership(*transfer);
    if (!err.ok())
      Log("leadership transfer to " + std::to_string(*transfer) + " refused: " + err.message());
  }
  for (rpb::Message& m : msgs) {
    // A snapshot without its state (not through ReceiveSnapshot) is dropped.
    if (m.type() == rpb::MSG_SNAP && staged_loaders.count(m.snapshot().metadata().index()) == 0) {
      continue;
    }
    // A malformed or stale message is dropped; raft names the fault.
    raft::Error err = raw->Step(m);
    (void)err;
  }
  for (QueuedProposal& p : props) SubmitProposal(std::move(p), out);
  if (!reads.empty()) SubmitReads(std::move(reads), out);
  for (ConfRequest& c : confs) SubmitConf(std::move(c), out);
}

void Node::Impl::Send(std::vector<rpb::Message> msgs) {
  if (msgs.empty()) return;
  if (transport == nullptr) return;  // single node: nobody to talk to
  transport->Send(std::move(msgs));
}

void Node::Impl::HandleReady(raft::Ready rd, std::vector<Completion>* out) {
  ++readies;
  if (rd.soft_state.has_value()) OnSoftState(*rd.soft_state);
  // Before anything of this Ready tells another member a commit index: a
  // keep-alive renews only once this node applied what it had committed.
  const std::uint64_t committed = raw->raft().log().committed();
  if (committed > lessor_committed) {
    lessor_committed = committed;
    lessor.Committed(committed);
  }
  // (a) A leader may send before its own fsync (Raft thesis 10.2.1).
  if (rd.messages_may_precede_persist) Send(std::move(rd.messages));

  // (b) Persist snapshot, entries and hard state, and apply committed entries
  // into the same batch: one write, synced iff raft says so.
  if (opts.observer != nullptr) opts.observer->OnPersist(raw->raft(), rd.entries);
  storage::WriteBatch batch;
  Status s;
  storage::ChainHash snap_hash = storage::kZeroChainHash;
  if (rd.snapshot.has_value()) {
    // The state rows, then the log reset, entries and hard state: one synced
    // write. Entries committed after the snapshot apply in a second write,
    // on the reopened state machine.
    const std::string& h = rd.snapshot->data();
    if (h.size() != snap_hash.size()) {
      s = Status::Corruption("raft snapshot at index " +
                             std::to_string(rd.snapshot->metadata().index()) +
                             " carries no chain hash");
    } else {
      std::copy(h.begin(), h.end(), reinterpret_cast<char*>(snap_hash.data()));
      s = InstallSnapshot(*rd.snapshot, &batch);
    }
  }
  if (s.ok()) s = raft_storage->PersistReady(rd, &batch, snap_hash);
  Applied applied;
  if (s.ok() && rd.snapshot.has_value()) {
    s = store->Write(batch, /*sync=*/true);
    batch.Clear();
    if (s.ok()) s = AfterInstall(rd.snapshot->metadata().index());
  }
  if (s.ok() && !rd.committed_entries.empty()) {
    s = ApplyCommitted(rd.committed_entries, &batch, &applied);
    if (s.ok()) BeforeAppliedVisible(applied);
  }
  if (s.ok() && (!rd.snapshot.has_value() || !batch.empty())) {
    s = store->Write(batch, rd.must_sync && !rd.snapshot.has_value());
  }
  if (!s.ok()) {
    Fatal(s);
    return;
  }
  if (rd.must_sync) ++synced_writes;
  if (!rd.committed_entries.empty() && opts.on_applied) opts.on_applied(sm->revision());

  // (c) Everything else waited for durability.
  if (!rd.messages_may_precede_persist) Send(std::move(rd.messages));

  // (d) Answer clients: proposals, conf changes, then reads.
  FinishApplied(&applied, out);
  if (lessor_promote_pending && !rd.committed_entries.empty() &&
      rd.committed_entries.back().term() == raw->GetStatus().hard_state.term()) {
    lessor_promote_pending = false;
    lessor.Promote();
  }
  if (!rd.read_states.empty()) OnReadStates(rd.read_states);
  CompleteAppliedReads(out);

  // (e)
  raw->Advance();
  if (!rd.committed_entries.empty()) {
    s = MaybeCompact();
    if (!s.ok()) {
      Fatal(s);
      return;
    }
  }
  PublishStatus();
  // Lease calls waiting for a revocation or for the takeover (lessor.h): this
  // Ready may have applied the one or done the other, or demoted this node.
  lessor.AnswerWaiters(out);
}

Status Node::Impl::ApplyCommitted(const raft::EntryVec& entries, storage::WriteBatch* batch,
                                  Applied* applied) {
  std::vector<sm::Entry> sm_entries;
  std::vector<sm::v1::Command> cmds(entries.size());
  sm_entries.reserve(entries.size());
  storage::WriteBatch conf_batch;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const rpb::Entry& e = entries[i];
    if (e.type() == rpb::ENTRY_CONF_CHANGE) {
      // The state machine still counts it, so applied_index covers it.
      sm_entries.push_back(sm::Entry{e.index(), {}});
      ApplyConfEntry(e, &conf_batch, &applied->conf_done);
      continue;
    }
    sm_entries.push_back(sm::Entry{e.index(), e.data()});
    // An unparsable entry still goes to the state machine, which answers it
    // with an error response; it has no tag, so nobody waits for it.
    if (!e.data().empty() && !cmds[i].ParseFromString(e.data())) cmds[i].Clear();
  }
  auto out = sm->Apply(sm_entries);
  if (!out.ok()) return out.status();
  batch->Append(out->batch);
  batch->Append(conf_batch);
  ASPEN_ASSERT(out->responses.size() == entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const sm::v1::Command& cmd = cmds[i];
    sm::v1::Response& resp = out->responses[i];
    if (opts.observer != nullptr) {
      const bool conf_entry = entries[i].type() == rpb::ENTRY_CONF_CHANGE;
      opts.observer->OnApply(entries[i], conf_entry ? nullptr : &resp);
    }
    const bool failed = resp.has_error() && resp.error().code() != 0;
    if (!failed && cmd.has_lease_grant()) {
      applied->leases.push_back({cmd.lease_grant().id(), cmd.lease_grant().ttl(), true});
    }
    if (cmd.has_lease_revoke() &&
        (!failed || resp.error().code() == static_cast<int>(Code::kNotFound))) {
      applied->leases.push_back({cmd.lease_revoke().id(), 0, false});
    }
    Applied::Result r;
    r.index = entries[i].index();
    if (!entries[i].data().empty()) r.tag = FindRequestTag(entries[i].data());
    r.response = std::move(resp);
    if (r.index <= replay_until) ++replayed;
    applied->results.push_back(std::move(r));
  }
  NetLeaseChanges(applied);
  return Status::Ok();
}

// Log order between ids does not matter: each change touches only its lease.
void Node::Impl::NetLeaseChanges(Applied* applied) {
  std::vector<Applied::LeaseChange>* changes = &applied->leases;
  if (changes->size() < 2) return;
  std::unordered_set<std::int64_t> seen;
  std::vector<Applied::LeaseChange> net;
  for (auto it = changes->rbegin(); it != changes->rend(); ++it) {
    if (seen.insert(it->id).second) net.push_back(*it);
  }
  changes->swap(net);
}

// Readers see the batch once it is written. Before that: the Lessor forgets
// the leases it revokes, so "a revoked lease's keys are gone" implies "the
// lease is gone" (etcd drops a lease from its map before deleting its keys),
// and GetStatus's revision moves to the batch's, so it never trails what a
// reader sees (it may lead it by the write). A write that fails stops the
// node (Fatal); the revocations it forgot are committed all the same.
void Node::Impl::BeforeAppliedVisible(const Applied& applied) {
  for (const Applied::LeaseChange& l : applied.leases) {
    if (!l.grant) lessor.Revoke(l.id);
  }
  visible_revision.store(sm->revision());
}

void Node::Impl::FinishApplied(Applied* applied, std::vector<Completion>* out) {
  for (const Applied::LeaseChange& l : applied->leases) {
    if (l.grant) lessor.Grant(l.id, l.ttl_s);  // revocations: BeforeAppliedVisible
  }
  // Every applied entry counts (conf changes too), so applied meets committed.
  if (!applied->results.empty()) lessor.Applied(sm->applied_index());
  for (Applied::Result& r : applied->results) {
    FailOverwritten(r.index, r.tag, out);
    if (!r.tag.has_value() || r.tag->proposer != opts.id) continue;
    auto it = proposals.find(r.tag->request_id);
    if (it == proposals.end()) continue;  // timed out already
    WaitingProposal w = std::move(it->second);
    proposals.erase(it);
    if (!w.internal) pending_proposals.fetch_sub(1);
    auto resp = std::make_shared<sm::v1::Response>(std::move(r.response));
    out->push_back([done = std::move(w.done), resp] { done(std::move(*resp)); });
  }
  if (!applied->results.empty()) {
    // Every index up to here is decided; conf changes carry no tag.
    proposed_at.erase(proposed_at.begin(), proposed_at.upper_bound(sm->applied_index()));
  }
  for (Completion& c : applied->conf_done) out->push_back(std::move(c));
  if (!replay_logged && sm->applied_index() >= replay_until) {
    replay_logged = true;
    Log("recovery: replayed " + std::to_string(replayed) + " committed entries up to index " +
        std::to_string(replay_until));
  }
}

void Node::Impl::FailOverwritten(std::uint64_t index, const std::optional<RequestTag>& tag,
                                 std::vector<Completion>* out) {
  auto at = proposed_at.find(index);
  if (at == proposed_at.end()) return;
  const std::uint64_t request_id = at->second;
  proposed_at.erase(at);
  if (tag.has_value() && tag->proposer == opts.id && tag->request_id == request_id) return;
  auto it = proposals.find(request_id);
  if (it == proposals.end()) return;
  if (!it->second.internal) pending_proposals.fetch_sub(1);
  out->push_back([done = std::move(it->second.done)] {
    done(
        Status::Unavailable("proposal lost in a leader change (another entry was committed at "
                            "its log index); it was not applied, retry it"));
  });
  proposals.erase(it);
}

void Node::Impl::OnSoftState(const raft::SoftState& ss) {
  const bool leader_now = ss.role == raft::Role::kLeader;
  if (leader_now && !is_leader) {
    lessor_promote_pending = true;  // HandleReady promotes (node_impl.h)
    lessor.Elect();                 // lease calls wait for the takeover meanwhile
    next_expiry_ms = Steady() + opts.expiry_interval_ms;
    Log("became leader at term " + std::to_string(raw->GetStatus().hard_state.term()));
  } else if (!leader_now && is_leader) {
    lessor_promote_pending = false;
    lessor.Demote();
    Log("stepped down; leader is now " + std::to_string(ss.lead));
  }
  is_leader = leader_now;
}

void Node::Impl::PublishStatus() {
  const raft::Status rs = raw->GetStatus();
  std::lock_guard lock(status_mu);
  status.id = opts.id;
  status.leader = rs.soft_state.lead;
  switch (rs.soft_state.role) {
    case raft::Role::kFollower: status.role = Role::kFollower; break;
    case raft::Role::kPreCandidate: status.role = Role::kPreCandidate; break;
    case raft::Role::kCandidate: status.role = Role::kCandidate; break;
    case raft::Role::kLeader: status.role = Role::kLeader; break;
  }
  status.term = rs.hard_state.term();
  status.commit_index = rs.hard_state.commit();
  status.applied_index = sm->applied_index();
  status.last_index = log->LastIndex();
  status.revision = sm->revision();
  status.replayed_entries = replayed;
  status.readies = readies;
  status.synced_writes = synced_writes;
  status.first_index = log->FirstIndex();
  status.compactions = compactions;
  status.snapshots_installed = snapshots_installed;
  peer_progress.clear();
  if (is_leader) {
    // raft clears every peer's recent_active at each quorum check (once an
    // election timeout) and sets it again on the peer's next answer, so one
    // reading may show a healthy peer inactive for a heartbeat round trip.
    // A peer counts as active if raft saw it active within the last two
    // election timeouts (membership checks must not refuse on that blink).
    const std::int64_t now = Steady();
    const std::int64_t window = 2 * opts.election_tick * opts.tick_interval_ms;
    for (const auto& [id, pr] : raw->raft().tracker().progress()) {
      if (id == opts.id || pr.recent_active()) peer_active_at[id] = now;
      auto seen = peer_active_at.find(id);
      const bool active = seen != peer_active_at.end() && now - seen->second <= window;
      peer_progress[id] = Node::PeerProgress{pr.match(), active};
    }
  } else {
    peer_active_at.clear();
  }
}

}  // namespace aspen::node
