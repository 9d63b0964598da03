// The leader's side of Raft: proposals, replication, commit, heartbeats,
// ReadIndex and leadership transfer.
#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "raft/raft.h"

namespace aspen::raft {

Error Raft::StepLeader(const pb::Message& m) {
  switch (m.type()) {
    case pb::MSG_BEAT: BcastHeartbeat(read_only_.LastPendingCtx()); return Error::Ok();
    case pb::MSG_CHECK_QUORUM:
      if (!trk_.QuorumActive()) {
        // Not heard from a quorum within an election timeout: another leader
        // may exist on the other side of a partition, so stop serving.
        BecomeFollower(term_, kNone);
        return Error::Ok();
      }
      for (auto& [id, pr] : trk_.progress()) {
        if (id != id_) pr.set_recent_active(false);
      }
      return Error::Ok();
    case pb::MSG_PROP: return HandlePropose(m);
    case pb::MSG_READ_INDEX: return HandleReadIndexLeader(m);
    case pb::MSG_TRANSFER_LEADER: return HandleTransferLeader(m);
    default: break;
  }
  Progress* pr = trk_.Find(m.from());
  if (pr == nullptr) return Error::Ok();  // from a removed member: ignore
  if (m.type() == pb::MSG_APP_RESP && !m.reject() && m.index() > log_.LastIndex()) {
    return Error(ErrorCode::kInvalidArgument,
                 "node " + std::to_string(m.from()) + " acknowledges index " +
                     std::to_string(m.index()) + " past the leader's last index " +
                     std::to_string(log_.LastIndex()));
  }
  switch (m.type()) {
    case pb::MSG_APP_RESP: HandleAppendResponse(m, *pr); break;
    case pb::MSG_HEARTBEAT_RESP: HandleHeartbeatResponse(m, *pr); break;
    case pb::MSG_SNAP_STATUS: HandleSnapStatus(m, *pr); break;
    case pb::MSG_UNREACHABLE:
      // Optimistic sends are probably lost: fall back to probing.
      if (pr->state() == ProgressState::kReplicate) pr->BecomeProbe();
      break;
    default: break;  // e.g. a late vote response: nothing to do
  }
  return Error::Ok();
}

Error Raft::HandlePropose(const pb::Message& m) {
  if (m.entries_size() == 0) {
    return Error(ErrorCode::kInvalidArgument, "proposal carries no entries");
  }
  if (trk_.Find(id_) == nullptr) {
    return Error(ErrorCode::kProposalDropped, "this leader is no longer a member");
  }
  if (lead_transferee_ != kNone) {
    return Error(
        ErrorCode::kProposalDropped,
        "leadership transfer to node " + std::to_string(lead_transferee_) + " in progress");
  }
  EntryVec ents(m.entries().begin(), m.entries().end());
  std::size_t conf_changes = 0;
  std::uint64_t conf_offset = 0;
  for (std::size_t k = 0; k < ents.size(); ++k) {
    if (ents[k].type() != pb::ENTRY_CONF_CHANGE) continue;
    ++conf_changes;
    conf_offset = k;
    pb::ConfChange cc;
    if (!cc.ParseFromString(ents[k].data())) {
      return Error(ErrorCode::kInvalidArgument, "conf change entry does not parse");
    }
    if (pending_conf_index_ > log_.applied()) {
      return Error(ErrorCode::kProposalDropped, "conf change refused: the conf change at index " +
                                                    std::to_string(pending_conf_index_) +
                                                    " is not applied yet (applied " +
                                                    std::to_string(log_.applied()) + ")");
    }
    Error e = CheckConfChange(cc);
    if (!e.ok()) return e;
  }
  if (conf_changes > 1) {
    return Error(ErrorCode::kProposalDropped,
                 "conf change refused: one membership change at a time");
  }
  const std::uint64_t first = log_.LastIndex() + 1;
  Error e = AppendEntries(&ents);
  if (!e.ok()) return e;
  if (conf_changes == 1) pending_conf_index_ = first + conf_offset;
  BcastAppend();
  return Error::Ok();
}

// Appends entries of the current term to the leader's log. The leader counts
// itself toward the quorum only once they are persisted (OnPersisted).
Error Raft::AppendEntries(EntryVec* ents) {
  const std::uint64_t size = PayloadSize(*ents);
  if (max_uncommitted_size_ != 0 && uncommitted_size_ > 0 &&
      uncommitted_size_ + size > max_uncommitted_size_) {
    return Error(ErrorCode::kLimitExceeded,
                 "uncommitted entries would reach " + std::to_string(uncommitted_size_ + size) +
                     " bytes, above max_uncommitted_entries_size " +
                     std::to_string(max_uncommitted_size_) + "; retry after commits");
  }
  const std::uint64_t last = log_.LastIndex();
  for (std::size_t k = 0; k < ents->size(); ++k) {
    (*ents)[k].set_term(term_);
    (*ents)[k].set_index(last + 1 + k);
  }
  uncommitted_size_ += size;
  log_.Append(*ents);
  return Error::Ok();
}

bool Raft::MaybeCommit() {
  // Raft §5.4.2: only an entry of the current term is committed by counting
  // replicas; earlier entries are committed with it (MaybeCommit checks the term).
  return log_.MaybeCommit(trk_.Committed(), term_);
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.TermOrZero(log_.committed()) == term_;
}

void Raft::BcastAppend() {
  for (auto& [id, pr] : trk_.progress()) {
    if (id != id_) MaybeSendAppend(id, true);
  }
}

// Sends the entries `to` needs next (or a snapshot when they are compacted).
// Answers whether a message was sent.
bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  Progress& pr = trk_.Get(to);
  if (pr.IsPaused()) return false;
  const std::uint64_t prev_index = pr.next() - 1;
  Result<std::uint64_t> prev_term = log_.Term(prev_index);
  Result<EntryVec> ents = log_.Entries(pr.next(), max_msg_size_);
  if (prev_term.ok() && ents.ok() && ents->empty() && !send_if_empty) return false;
  if (!prev_term.ok() || !ents.ok()) return SendSnapshot(to, pr);
  pb::Message m;
  m.set_type(pb::MSG_APP);
  m.set_to(to);
  m.set_index(prev_index);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  const std::size_t n = ents->size();
  const std::uint64_t bytes = PayloadSize(*ents);
  for (pb::Entry& e : ents.value()) *m.add_entries() = std::move(e);
  pr.UpdateOnEntriesSend(n, bytes, pr.next());
  Send(std::move(m));
  return true;
}

bool Raft::SendSnapshot(NodeId to, Progress& pr) {
  // A follower that has not answered lately is probably down: a snapshot
  // would likely be wasted.
  if (!pr.recent_active()) return false;
  Result<pb::Snapshot> snap = log_.Snapshot();
  if (!snap.ok()) {
    RAFT_ASSERT_MSG(snap.code() == ErrorCode::kSnapshotTemporarilyUnavailable,
                    "storage Snapshot failed");
    return false;
  }
  const std::uint64_t index = snap->metadata().index();
  RAFT_ASSERT_MSG(index != 0, "entries are compacted but there is no snapshot");
  pb::Message m;
  m.set_type(pb::MSG_SNAP);
  m.set_to(to);
  *m.mutable_snapshot() = std::move(snap).value();
  pr.BecomeSnapshot(index);
  Send(std::move(m));
  return true;
}

void Raft::BcastHeartbeat(const std::string& ctx) {
  for (const auto& [id, pr] : trk_.progress()) {
    if (id != id_) SendHeartbeat(id, ctx);
  }
}

void Raft::SendHeartbeat(NodeId to, const std::string& ctx) {
  // Never tell a follower to commit past what it is known to hold: its log
  // beyond match may still differ from ours.
  pb::Message m;
  m.set_type(pb::MSG_HEARTBEAT);
  m.set_to(to);
  m.set_commit(std::min(trk_.Get(to).match(), log_.committed()));
  m.set_context(ctx);
  Send(std::move(m));
}

void Raft::HandleAppendResponse(const pb::Message& m, Progress& pr) {
  pr.set_recent_active(true);
  if (m.reject()) {
    // Fast backup: the follower told us the largest index that may match
    // (reject_hint) and its term there (log_term); skip every index of ours
    // whose term is greater, since none of them can match.
    std::uint64_t next_probe = m.reject_hint();
    if (m.log_term() > 0) next_probe = log_.FindConflictByTerm(m.reject_hint(), m.log_term()).first;
    if (pr.MaybeDecrTo(m.index(), next_probe)) {
      if (pr.state() == ProgressState::kReplicate) pr.BecomeProbe();
      MaybeSendAppend(m.from(), true);
    }
    return;
  }
  const bool was_paused = pr.IsPaused();
  if (!pr.MaybeUpdate(m.index()) &&
      !(pr.match() == m.index() && pr.state() == ProgressState::kProbe)) {
    return;  // stale acknowledgement
  }
  switch (pr.state()) {
    case ProgressState::kProbe: pr.BecomeReplicate(); break;
    case ProgressState::kSnapshot:
      // The follower caught up past our compaction point: entries suffice.
      if (pr.match() + 1 >= log_.FirstIndex()) {
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate: pr.inflights().FreeLE(m.index()); break;
  }
  if (MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else if (was_paused) {
    MaybeSendAppend(m.from(), true);
  }
  // Stream what the window allows.
  while (MaybeSendAppend(m.from(), false)) {
  }
  if (m.from() == lead_transferee_ && pr.match() == log_.LastIndex()) {
    pb::Message t;
    t.set_type(pb::MSG_TIMEOUT_NOW);
    t.set_to(m.from());
    Send(std::move(t));
  }
}

void Raft::HandleHeartbeatResponse(const pb::Message& m, Progress& pr) {
  pr.set_recent_active(true);
  pr.clear_probe_sent();
  // Acks may have been lost: free one slot so a full window sends again.
  if (pr.state() == ProgressState::kReplicate && pr.inflights().Full()) {
    pr.inflights().FreeFirstOne();
  }
  if (pr.match() < log_.LastIndex() || pr.state() == ProgressState::kProbe) {
    MaybeSendAppend(m.from(), true);
  }
  if (read_only_option_ != ReadOnlyOption::kSafe || m.context().empty()) return;
  const std::set<NodeId>* acks = read_only_.RecvAck(m.from(), m.context());
  if (acks == nullptr) return;
  std::map<NodeId, bool> votes;
  for (NodeId id : *acks) votes[id] = true;
  if (MajorityVoteResult(trk_.voters(), votes) != VoteResult::kWon) return;
  for (ReadOnly::Pending& p : read_only_.Advance(m.context())) {
    RespondToReadIndex(p.request, p.index);
  }
}

void Raft::HandleSnapStatus(const pb::Message& m, Progress& pr) {
  if (pr.state() != ProgressState::kSnapshot) return;
  if (m.reject()) {
    // The snapshot did not arrive: probe again from match.
    pr.clear_pending_snapshot();
  }
  // On success, probe from the snapshot's index on.
  pr.BecomeProbe();
  // Wait for a heartbeat response (or an append response) before probing:
  // the follower may still be applying the snapshot.
  pr.pause_probe();
}

Error Raft::HandleTransferLeader(const pb::Message& m) {
  const NodeId transferee = m.from();
  const Progress* pr = trk_.Find(transferee);
  if (pr == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 "transfer target " + std::to_string(transferee) + " is not a member");
  }
  if (pr->is_learner()) {
    return Error(ErrorCode::kInvalidArgument,
                 "transfer target " + std::to_string(transferee) + " is a learner");
  }
  if (lead_transferee_ != kNone) {
    if (lead_transferee_ == transferee) return Error::Ok();  // already under way
    AbortLeaderTransfer();
  }
  if (transferee == id_) return Error::Ok();  // already the leader
  // The transfer must finish within an election timeout (TickHeartbeat).
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (pr->match() == log_.LastIndex()) {
    pb::Message t;
    t.set_type(pb::MSG_TIMEOUT_NOW);
    t.set_to(transferee);
    Send(std::move(t));
  } else {
    // Catch the transferee up first; HandleAppendResponse sends TimeoutNow.
    MaybeSendAppend(transferee, true);
  }
  return Error::Ok();
}

Error Raft::HandleReadIndexLeader(const pb::Message& m) {
  if (m.entries_size() != 1) {
    return Error(ErrorCode::kInvalidArgument, "read index request must carry one context entry");
  }
  if (!CommittedEntryInCurrentTerm()) {
    // Thesis §6.4: until the leader commits an entry of its term it does not
    // know the commit index; defer the read until it does.
    if (pending_read_count() >= max_pending_reads_) {
      return Error(ErrorCode::kLimitExceeded,
                   "pending read index requests reached " + std::to_string(max_pending_reads_));
    }
    pending_read_index_messages_.push_back(m);
    return Error::Ok();
  }
  return SendReadIndex(m);
}

Error Raft::SendReadIndex(const pb::Message& m) {
  if (read_only_option_ == ReadOnlyOption::kLeaseBased) {
    RespondToReadIndex(m, log_.committed());
    return Error::Ok();
  }
  if (trk_.IsSingleton()) {
    RespondToReadIndex(m, log_.committed());
    return Error::Ok();
  }
  const std::string& ctx = m.entries(0).data();
  if (!read_only_.Contains(ctx) && read_only_.size() >= max_pending_reads_) {
    return Error(ErrorCode::kLimitExceeded,
                 "pending read index requests reached " + std::to_string(max_pending_reads_));
  }
  read_only_.Add(log_.committed(), m);
  // The leader's own acknowledgement counts toward the quorum.
  const std::set<NodeId>* acks = read_only_.RecvAck(id_, ctx);
  RAFT_ASSERT(acks != nullptr);
  BcastHeartbeat(ctx);
  return Error::Ok();
}

void Raft::RespondToReadIndex(const pb::Message& req, std::uint64_t index) {
  if (req.from() == kNone || req.from() == id_) {
    read_states_.push_back(ReadState{index, req.entries(0).data()});
    return;
  }
  pb::Message resp;
  resp.set_type(pb::MSG_READ_INDEX_RESP);
  resp.set_to(req.from());
  resp.set_index(index);
  *resp.mutable_entries() = req.entries();
  Send(std::move(resp));
}

void Raft::ReleasePendingReadIndexMessages() {
  if (pending_read_index_messages_.empty() || !CommittedEntryInCurrentTerm()) return;
  std::vector<pb::Message> msgs = std::exchange(pending_read_index_messages_, {});
  for (const pb::Message& m : msgs) {
    const Error e = SendReadIndex(m);
    (void)e;  // bounded by the same limit that admitted them
  }
}

}  // namespace aspen::raft
