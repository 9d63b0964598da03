#include "raft/raft.h"

#include <algorithm>
#include <string>
#include <utility>

namespace aspen::raft {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kFollower: return "Follower";
    case Role::kPreCandidate: return "PreCandidate";
    case Role::kCandidate: return "Candidate";
    case Role::kLeader: return "Leader";
  }
  return "Unknown";
}

Raft::Raft(const Config& c)
    : id_(c.id),
      log_(c.storage, c.max_committed_size_per_ready),
      trk_(c.max_inflight_msgs, c.max_inflight_bytes),
      max_msg_size_(c.max_size_per_msg),
      max_uncommitted_size_(c.max_uncommitted_entries_size),
      read_only_option_(c.read_only_option),
      max_pending_reads_(c.max_pending_read_requests),
      check_quorum_(c.check_quorum),
      pre_vote_(c.pre_vote),
      disable_proposal_forwarding_(c.disable_proposal_forwarding),
      heartbeat_timeout_(c.heartbeat_tick),
      election_timeout_(c.election_tick),
      testing_bug_(c.testing_bug),
      rng_state_(c.rand_seed ^ (c.id * 0x9E3779B97F4A7C15ULL)) {
  RAFT_ASSERT(c.Validate().ok());
  Result<StorageState> st = c.storage->InitialState();
  RAFT_ASSERT_MSG(st.ok(), "storage InitialState failed");
  trk_.Reset(st->conf_state, log_.LastIndex() + 1);
  const pb::HardState& hs = st->hard_state;
  if (hs.term() != 0 || hs.vote() != kNone || hs.commit() != 0) {
    RAFT_ASSERT_MSG(hs.commit() <= log_.LastIndex(), "hard state commit past the last index");
    log_.CommitTo(hs.commit());
    term_ = hs.term();
    vote_ = hs.vote();
  }
  if (c.applied > 0) {
    RAFT_ASSERT_MSG(c.applied <= log_.committed(), "config applied index past the commit index");
    log_.AppliedTo(c.applied);
  }
  BecomeFollower(term_, kNone);
}

pb::HardState Raft::hard_state() const {
  pb::HardState hs;
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit(log_.committed());
  return hs;
}

std::vector<pb::Message> Raft::TakeMessages() {
  return std::exchange(msgs_, {});
}

std::vector<ReadState> Raft::TakeReadStates() {
  return std::exchange(read_states_, {});
}

void Raft::Send(pb::Message m) {
  // Forwarded requests keep their origin (a transfer names its transferee).
  if (m.from() == kNone) m.set_from(id_);
  const pb::MessageType t = m.type();
  if (t == pb::MSG_VOTE || t == pb::MSG_VOTE_RESP || t == pb::MSG_PRE_VOTE ||
      t == pb::MSG_PRE_VOTE_RESP) {
    // Vote traffic names its own term: a pre-vote asks for term+1 without
    // moving to it, and a response echoes the request's term.
    RAFT_ASSERT_MSG(m.term() != 0, "vote message without a term");
  } else {
    RAFT_ASSERT_MSG(m.term() == 0, "term is set by Send");
    // Proposals and read requests forwarded to the leader act as local
    // messages there and carry no term.
    if (t != pb::MSG_PROP && t != pb::MSG_READ_INDEX) m.set_term(term_);
  }
  RAFT_ASSERT(m.to() != kNone && m.to() != id_);
  msgs_.push_back(std::move(m));
}

std::uint64_t Raft::NextRandom() {
  // splitmix64: tiny, deterministic, good enough for timeouts.
  std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      election_timeout_ +
      static_cast<int>(NextRandom() % static_cast<std::uint64_t>(election_timeout_));
  RAFT_ASSERT(randomized_election_timeout_ >= election_timeout_ &&
              randomized_election_timeout_ < 2 * election_timeout_);
}

void Raft::Reset(std::uint64_t term) {
  RAFT_ASSERT(term >= term_);
  if (term_ != term) {
    term_ = term;
    vote_ = kNone;
  }
  lead_ = kNone;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  trk_.ResetVotes();
  trk_.ResetProgress(log_.LastIndex() + 1);
  if (Progress* self = trk_.Find(id_)) {
    self->MaybeUpdate(log_.PersistedIndex());
    self->set_recent_active(true);
  }
  pending_conf_index_ = 0;
  deferred_transfer_ticks_ = 0;
  uncommitted_size_ = 0;
  read_only_.Clear();
  pending_read_index_messages_.clear();
}

void Raft::BecomeFollower(std::uint64_t term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
  CheckInvariants();
}

void Raft::BecomePreCandidate() {
  RAFT_ASSERT_MSG(role_ != Role::kLeader, "invalid transition leader -> pre-candidate");
  // A pre-candidate keeps its term and vote: the pre-vote round must not
  // disturb anyone unless it can win.
  role_ = Role::kPreCandidate;
  trk_.ResetVotes();
  lead_ = kNone;
  deferred_transfer_ticks_ = 0;
  CheckInvariants();
}

void Raft::BecomeCandidate() {
  RAFT_ASSERT_MSG(role_ != Role::kLeader, "invalid transition leader -> candidate");
  Reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
  CheckInvariants();
}

void Raft::BecomeLeader() {
  RAFT_ASSERT_MSG(role_ != Role::kFollower, "invalid transition follower -> leader");
  Reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  Progress& self = trk_.Get(id_);
  // The leader's own progress is in replicate state from the start; its match
  // follows what the application has persisted (OnPersisted).
  self.BecomeReplicate();
  // Conservatively, any unapplied entry may be a conf change.
  pending_conf_index_ = log_.LastIndex();
  // Raft §5.4.2 and thesis §6.4: an empty entry of the new term lets the leader
  // commit (and learn the commit index) without waiting for a proposal.
  EntryVec noop(1);
  const Error e = AppendEntries(&noop);
  RAFT_ASSERT_MSG(e.ok(), "the leader's empty entry is never refused");
  CheckInvariants();
}

void Raft::Hup(CampaignType t) {
  if (role_ == Role::kLeader) return;
  if (!Promotable()) return;
  // A conf change that is committed but not applied could change who may vote.
  if (HasUnappliedConfChanges()) return;
  Campaign(t);
}

void Raft::MaybeCampaignDeferredTransfer() {
  if (deferred_transfer_ticks_ == 0 || role_ != Role::kFollower) return;
  if (HasUnappliedConfChanges()) return;
  deferred_transfer_ticks_ = 0;
  Hup(CampaignType::kTransfer);
}

bool Raft::HasUnappliedConfChanges() const {
  std::uint64_t lo = std::max(log_.applied() + 1, log_.FirstIndex());
  const std::uint64_t hi = log_.committed() + 1;
  while (lo < hi) {
    Result<EntryVec> ents = log_.Slice(lo, hi, max_msg_size_);
    RAFT_ASSERT_MSG(ents.ok(), "committed entries are unavailable");
    for (const pb::Entry& e : *ents) {
      if (e.type() == pb::ENTRY_CONF_CHANGE) return true;
    }
    lo += ents->size();
  }
  return false;
}

void Raft::Campaign(CampaignType t) {
  pb::MessageType vote_type;
  std::uint64_t term;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_type = pb::MSG_PRE_VOTE;
    term = term_ + 1;  // the term we would campaign in; ours is unchanged
  } else {
    BecomeCandidate();
    vote_type = pb::MSG_VOTE;
    term = term_;
  }
  if (Poll(id_, true) == VoteResult::kWon) {
    // A single voter wins at once.
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId id : trk_.voters()) {
    if (id == id_) continue;
    pb::Message m;
    m.set_type(vote_type);
    m.set_to(id);
    m.set_term(term);
    m.set_index(log_.LastIndex());
    m.set_log_term(log_.LastTerm());
    if (t == CampaignType::kTransfer) m.set_context(std::string(kCampaignTransfer));
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(NodeId from, bool granted) {
  trk_.RecordVote(from, granted);
  std::size_t yes = 0;
  std::size_t no = 0;
  return trk_.TallyVotes(&yes, &no);
}

Error Raft::Step(const pb::Message& m) {
  bool handled = false;
  Error e = StepByTerm(m, &handled);
  if (handled || !e.ok()) return e;
  switch (m.type()) {
    case pb::MSG_HUP:
      Hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      return Error::Ok();
    case pb::MSG_VOTE:
    case pb::MSG_PRE_VOTE: HandleVoteRequest(m); return Error::Ok();
    default: break;
  }
  switch (role_) {
    case Role::kLeader: return StepLeader(m);
    case Role::kCandidate:
    case Role::kPreCandidate: return StepCandidate(m);
    case Role::kFollower: return StepFollower(m);
  }
  return Error::Ok();
}

// Raft's term rules, applied before any role-specific handling. Sets *handled
// when the message needs nothing more.
Error Raft::StepByTerm(const pb::Message& m, bool* handled) {
  const pb::MessageType t = m.type();
  if (m.term() == 0) return Error::Ok();  // local message or forwarded request
  if (m.term() > term_) {
    if (t == pb::MSG_VOTE || t == pb::MSG_PRE_VOTE) {
      const bool force = m.context() == kCampaignTransfer;
      const bool in_lease =
          check_quorum_ && lead_ != kNone && election_elapsed_ < election_timeout_;
      if (!force && in_lease) {
        // Vote lease: we heard from a leader within an election timeout, so a
        // stable leader is not deposed by a node that merely timed out.
        *handled = true;
        return Error::Ok();
      }
    }
    if (t == pb::MSG_PRE_VOTE) {
      // Never change the term on a pre-vote request.
    } else if (t == pb::MSG_PRE_VOTE_RESP && !m.reject()) {
      // A granted pre-vote carries the future term; the term moves only
      // when the election proper starts.
    } else if (t == pb::MSG_APP || t == pb::MSG_HEARTBEAT || t == pb::MSG_SNAP) {
      BecomeFollower(m.term(), m.from());
    } else {
      BecomeFollower(m.term(), kNone);
    }
    return Error::Ok();
  }
  if (m.term() < term_) {
    *handled = true;
    if ((check_quorum_ || pre_vote_) && (t == pb::MSG_HEARTBEAT || t == pb::MSG_APP)) {
      // A stale leader (e.g. healed from a partition) learns our term from
      // this response and steps down; otherwise, with check-quorum or
      // pre-vote, we would never campaign and it would never learn.
      pb::Message resp;
      resp.set_type(pb::MSG_APP_RESP);
      resp.set_to(m.from());
      Send(std::move(resp));
    } else if (t == pb::MSG_PRE_VOTE) {
      pb::Message resp;
      resp.set_type(pb::MSG_PRE_VOTE_RESP);
      resp.set_to(m.from());
      resp.set_term(term_);
      resp.set_reject(true);
      Send(std::move(resp));
    }
    // Anything else from an older term is ignored.
  }
  return Error::Ok();
}

void Raft::HandleVoteRequest(const pb::Message& m) {
  const bool pre = m.type() == pb::MSG_PRE_VOTE;
  // Raft §5.2: one vote per term, first come first served; a pre-vote for a
  // future term binds nothing, so it may be granted freely.
  const bool can_vote =
      vote_ == m.from() || (vote_ == kNone && lead_ == kNone) || (pre && m.term() > term_);
  pb::Message resp;
  resp.set_type(VoteRespType(m.type()));
  resp.set_to(m.from());
  // Raft §5.4.1: grant only to a candidate whose log is at least as up to date.
  const bool bug_skip_log_check = testing_bug_ == TestingBug::kVoteWithoutLogCheck;
  if (can_vote && (bug_skip_log_check || log_.IsUpToDate(m.index(), m.log_term()))) {
    resp.set_term(m.term());
    Send(std::move(resp));
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from();
    }
  } else {
    // A node that never saw a term (a fresh node at term 0) stays silent: a
    // rejection carrying term 0 would be stale to the candidate anyway.
    if (term_ == 0) return;
    resp.set_term(term_);
    resp.set_reject(true);
    Send(std::move(resp));
  }
}

void Raft::Tick() {
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  if (deferred_transfer_ticks_ > 0) --deferred_transfer_ticks_;
  // Saturate: a learner or removed node ticks forever without campaigning.
  if (election_elapsed_ < 2 * election_timeout_) ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    pb::Message m;
    m.set_type(pb::MSG_HUP);
    m.set_from(id_);
    const Error e = Step(m);
    RAFT_ASSERT(e.ok());
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      pb::Message m;
      m.set_type(pb::MSG_CHECK_QUORUM);
      m.set_from(id_);
      const Error e = Step(m);
      RAFT_ASSERT(e.ok());
    }
    // A transfer that did not finish within an election timeout is abandoned.
    if (role_ == Role::kLeader) AbortLeaderTransfer();
  }
  if (role_ != Role::kLeader) return;
  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    pb::Message m;
    m.set_type(pb::MSG_BEAT);
    m.set_from(id_);
    const Error e = Step(m);
    RAFT_ASSERT(e.ok());
  }
}

void Raft::OnPersisted(std::uint64_t index, std::uint64_t term) {
  log_.StableTo(index, term);
  if (role_ != Role::kLeader) return;
  Progress* self = trk_.Find(id_);
  if (self == nullptr) return;
  if (self->MaybeUpdate(log_.PersistedIndex()) && MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  }
}

bool Raft::CommitUnpersistedAsSoleVoter() {
  if (role_ != Role::kLeader || !trk_.IsSingleton() || !trk_.IsVoter(id_)) return false;
  // A leader's last entry is of its own term (it appends an empty one on
  // election), so MaybeCommit's current-term rule (§5.4.2) holds.
  if (!log_.MaybeCommit(log_.LastIndex(), term_)) return false;
  ReleasePendingReadIndexMessages();
  BcastAppend();  // learners hear the new commit index (after the write)
  return true;
}

void Raft::OnApplied(std::uint64_t payload_bytes) {
  if (role_ != Role::kLeader) return;
  const std::uint64_t size = payload_bytes;
  uncommitted_size_ = size > uncommitted_size_ ? 0 : uncommitted_size_ - size;
}

void Raft::CheckInvariants() const {
  RAFT_ASSERT((lead_ == id_) == (role_ == Role::kLeader));
  RAFT_ASSERT(randomized_election_timeout_ >= election_timeout_ &&
              randomized_election_timeout_ < 2 * election_timeout_);
  RAFT_ASSERT(role_ != Role::kLeader || trk_.Find(id_) != nullptr);
  RAFT_ASSERT(role_ != Role::kLeader || pending_conf_index_ <= log_.LastIndex());
  RAFT_ASSERT(role_ == Role::kLeader || lead_transferee_ == kNone);
  RAFT_ASSERT(role_ == Role::kFollower || deferred_transfer_ticks_ == 0);
  RAFT_ASSERT(role_ == Role::kLeader || uncommitted_size_ == 0);
  RAFT_ASSERT(role_ != Role::kCandidate || vote_ == id_);
  RAFT_ASSERT(log_.committed() <= log_.LastIndex());
  RAFT_ASSERT(log_.applied() <= log_.committed());
}

}  // namespace aspen::raft
