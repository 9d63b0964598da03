// Followers and candidates: stepping, appending, heartbeats and snapshots.
#include <algorithm>
#include <string>
#include <utility>

#include "raft/raft.h"

namespace aspen::raft {

Error Raft::StepFollower(const pb::Message& m) {
  switch (m.type()) {
    case pb::MSG_PROP: {
      if (lead_ == kNone) {
        return Error(ErrorCode::kProposalDropped, "no leader: proposal dropped");
      }
      if (disable_proposal_forwarding_) {
        return Error(ErrorCode::kProposalDropped,
                     "not the leader and proposal forwarding is disabled");
      }
      if (m.entries_size() == 0) {
        return Error(ErrorCode::kInvalidArgument, "proposal carries no entries");
      }
      pb::Message fwd = m;
      fwd.set_to(lead_);
      Send(std::move(fwd));
      return Error::Ok();
    }
    case pb::MSG_APP:
      election_elapsed_ = 0;
      lead_ = m.from();
      return HandleAppendEntries(m);
    case pb::MSG_HEARTBEAT:
      election_elapsed_ = 0;
      lead_ = m.from();
      return HandleHeartbeat(m);
    case pb::MSG_SNAP:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleSnapshot(m);
      return Error::Ok();
    case pb::MSG_TRANSFER_LEADER: {
      if (lead_ == kNone) {
        return Error(ErrorCode::kNoLeader, "no leader to transfer leadership from");
      }
      pb::Message fwd = m;
      fwd.set_to(lead_);
      fwd.set_term(0);
      Send(std::move(fwd));
      return Error::Ok();
    }
    case pb::MSG_TIMEOUT_NOW:
      // The leader hands over: campaign now, skipping pre-vote and the lease.
      // The message comes once: if a committed conf change is not applied yet
      // (Hup refuses then), campaign as soon as it is, within an election
      // timeout, instead of leaving the leader to abort the transfer.
      if (Promotable() && HasUnappliedConfChanges()) {
        deferred_transfer_ticks_ = election_timeout_;
        return Error::Ok();
      }
      Hup(CampaignType::kTransfer);
      return Error::Ok();
    case pb::MSG_READ_INDEX: {
      if (lead_ == kNone) return Error(ErrorCode::kNoLeader, "no leader to serve a read index");
      if (m.entries_size() != 1) {
        return Error(ErrorCode::kInvalidArgument,
                     "read index request must carry one context entry");
      }
      pb::Message fwd = m;
      fwd.set_to(lead_);
      Send(std::move(fwd));
      return Error::Ok();
    }
    case pb::MSG_READ_INDEX_RESP:
      if (m.entries_size() != 1) {
        return Error(ErrorCode::kInvalidArgument,
                     "read index response must carry one context entry");
      }
      read_states_.push_back(ReadState{m.index(), m.entries(0).data()});
      return Error::Ok();
    default: return Error::Ok();
  }
}

Error Raft::StepCandidate(const pb::Message& m) {
  const pb::MessageType my_resp =
      role_ == Role::kPreCandidate ? pb::MSG_PRE_VOTE_RESP : pb::MSG_VOTE_RESP;
  switch (m.type()) {
    case pb::MSG_PROP:
      return Error(ErrorCode::kProposalDropped, "no leader (election in progress)");
    case pb::MSG_READ_INDEX: return Error(ErrorCode::kNoLeader, "no leader (election in progress)");
    case pb::MSG_TRANSFER_LEADER:
      return Error(ErrorCode::kNoLeader, "no leader (election in progress)");
    case pb::MSG_APP:
      // Someone won this term (m.term() == term_ here): follow it.
      BecomeFollower(m.term(), m.from());
      return HandleAppendEntries(m);
    case pb::MSG_HEARTBEAT: BecomeFollower(m.term(), m.from()); return HandleHeartbeat(m);
    case pb::MSG_SNAP:
      BecomeFollower(m.term(), m.from());
      HandleSnapshot(m);
      return Error::Ok();
    default: break;
  }
  if (m.type() != my_resp) return Error::Ok();  // e.g. a stale pre-vote response
  switch (Poll(m.from(), !m.reject())) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        Campaign(CampaignType::kElection);
      } else {
        BecomeLeader();
        BcastAppend();
      }
      break;
    case VoteResult::kLost:
      // A rejection carries a term >= ours; stay in our term and wait.
      BecomeFollower(term_, kNone);
      break;
    case VoteResult::kPending: break;
  }
  return Error::Ok();
}

Error Raft::HandleAppendEntries(const pb::Message& m) {
  pb::Message resp;
  resp.set_type(pb::MSG_APP_RESP);
  resp.set_to(m.from());
  if (m.index() < log_.committed()) {
    // Everything up to our commit index already matches the leader.
    resp.set_index(log_.committed());
    Send(std::move(resp));
    return Error::Ok();
  }
  EntryVec ents(m.entries().begin(), m.entries().end());
  Result<std::optional<std::uint64_t>> r =
      log_.MaybeAppend(m.index(), m.log_term(), m.commit(), ents);
  if (!r.ok()) return r.error();
  if (r->has_value()) {
    resp.set_index(**r);
    Send(std::move(resp));
    return Error::Ok();
  }
  // Raft §5.3 with fast backup: tell the leader the largest index at or below
  // its probe whose term is <= the probe's term, so it can skip a whole term
  // of mismatching entries per round trip.
  const std::uint64_t hint_index = std::min(m.index(), log_.LastIndex());
  const auto [hint, hint_term] = log_.FindConflictByTerm(hint_index, m.log_term());
  resp.set_index(m.index());
  resp.set_reject(true);
  resp.set_reject_hint(hint);
  resp.set_log_term(hint_term);
  Send(std::move(resp));
  return Error::Ok();
}

Error Raft::HandleHeartbeat(const pb::Message& m) {
  if (m.commit() > log_.LastIndex()) {
    return Error(ErrorCode::kInvalidArgument,
                 "heartbeat commit " + std::to_string(m.commit()) + " is past our last index " +
                     std::to_string(log_.LastIndex()) + ": the log was lost or truncated");
  }
  log_.CommitTo(m.commit());
  pb::Message resp;
  resp.set_type(pb::MSG_HEARTBEAT_RESP);
  resp.set_to(m.from());
  resp.set_context(m.context());
  Send(std::move(resp));
  return Error::Ok();
}

void Raft::HandleSnapshot(const pb::Message& m) {
  pb::Message resp;
  resp.set_type(pb::MSG_APP_RESP);
  resp.set_to(m.from());
  if (Restore(m.snapshot())) {
    resp.set_index(log_.LastIndex());
  } else {
    resp.set_index(log_.committed());
  }
  Send(std::move(resp));
}

// Installs a snapshot from the leader. False when it is not needed (older than
// our commit, or our log already holds its last entry) or not for us.
bool Raft::Restore(const pb::Snapshot& s) {
  const std::uint64_t index = s.metadata().index();
  const std::uint64_t term = s.metadata().term();
  if (index <= log_.committed()) return false;
  RAFT_ASSERT(role_ == Role::kFollower);
  const pb::ConfState& cs = s.metadata().conf_state();
  const bool member =
      std::find(cs.voters().begin(), cs.voters().end(), id_) != cs.voters().end() ||
      std::find(cs.learners().begin(), cs.learners().end(), id_) != cs.learners().end();
  if (!member) return false;  // we would not know who we are: ignore it
  if (log_.MatchTerm(index, term)) {
    // Our log already has the snapshot's last entry: just commit up to it.
    log_.CommitTo(index);
    return false;
  }
  log_.Restore(s);
  trk_.Reset(cs, log_.LastIndex() + 1);
  return true;
}

}  // namespace aspen::raft
