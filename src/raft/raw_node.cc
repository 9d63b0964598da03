#include "raft/raw_node.h"

#include <set>
#include <string>
#include <utility>

namespace aspen::raft {
namespace {

Error Invalid(const std::string& why) {
  return Error(ErrorCode::kInvalidArgument, why);
}

Error ValidateConfState(const pb::ConfState& cs) {
  std::set<NodeId> seen;
  for (NodeId id : cs.voters()) {
    if (id == kNone || !seen.insert(id).second) {
      return Invalid("conf state lists voter " + std::to_string(id) + " twice or as 0");
    }
  }
  for (NodeId id : cs.learners()) {
    if (id == kNone || !seen.insert(id).second) {
      return Invalid("conf state lists learner " + std::to_string(id) +
                     " twice, as 0, or also as voter");
    }
  }
  return Error::Ok();
}

}  // namespace

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  Error e = config.Validate();
  if (!e.ok()) return e;
  Result<StorageState> st = config.storage->InitialState();
  if (!st.ok()) return st.error();
  e = ValidateConfState(st->conf_state);
  if (!e.ok()) return e;
  Result<std::uint64_t> last = config.storage->LastIndex();
  if (!last.ok()) return last.error();
  const pb::HardState& hs = st->hard_state;
  if (hs.commit() > *last) {
    return Invalid("stored hard state commit " + std::to_string(hs.commit()) +
                   " is past the stored last index " + std::to_string(*last));
  }
  if (config.applied > std::max<std::uint64_t>(hs.commit(), *config.storage->FirstIndex() - 1)) {
    return Invalid("config applied " + std::to_string(config.applied) +
                   " is past the stored commit index " + std::to_string(hs.commit()));
  }
  return std::unique_ptr<RawNode>(new RawNode(config));
}

RawNode::RawNode(const Config& config)
    : raft_(std::make_unique<Raft>(config)),
      sole_voter_commits_in_ready_(config.sole_voter_commits_in_ready) {
  prev_soft_ = raft_->soft_state();
  prev_hard_ = raft_->hard_state();
}

void RawNode::Tick() {
  raft_->Tick();
}

void RawNode::Campaign() {
  pb::Message m;
  m.set_type(pb::MSG_HUP);
  m.set_from(raft_->id());
  const Error e = raft_->Step(m);
  RAFT_ASSERT(e.ok());
}

Error RawNode::Propose(std::string data) {
  pb::Message m;
  m.set_type(pb::MSG_PROP);
  m.set_from(raft_->id());
  m.add_entries()->set_data(std::move(data));
  return raft_->Step(m);
}

Error RawNode::ProposeConfChange(const pb::ConfChange& cc) {
  Error e = raft_->CheckConfChange(cc);
  if (!e.ok()) return e;
  pb::Message m;
  m.set_type(pb::MSG_PROP);
  m.set_from(raft_->id());
  pb::Entry* ent = m.add_entries();
  ent->set_type(pb::ENTRY_CONF_CHANGE);
  ent->set_data(cc.SerializeAsString());
  return raft_->Step(m);
}

Result<pb::ConfState> RawNode::ApplyConfChange(const pb::ConfChange& cc) {
  return raft_->ApplyConfChange(cc);
}

Error RawNode::ReadIndex(std::string ctx) {
  pb::Message m;
  m.set_type(pb::MSG_READ_INDEX);
  m.add_entries()->set_data(std::move(ctx));
  return raft_->Step(m);
}

Error RawNode::TransferLeadership(NodeId transferee) {
  if (!raft_->tracker().IsVoter(transferee)) {
    return Invalid("transfer target " + std::to_string(transferee) + " is not a voter");
  }
  pb::Message m;
  m.set_type(pb::MSG_TRANSFER_LEADER);
  m.set_from(transferee);
  return raft_->Step(m);
}

Error RawNode::Step(const pb::Message& m) {
  Error e = ValidatePeerMessage(m);
  if (!e.ok()) return e;
  return raft_->Step(m);
}

Error RawNode::ValidatePeerMessage(const pb::Message& m) const {
  const pb::MessageType t = m.type();
  if (!pb::MessageType_IsValid(t)) {
    return Invalid("unknown message type " + std::to_string(static_cast<int>(t)));
  }
  if (IsLocalMsg(t)) {
    return Error(ErrorCode::kStepLocalMsg,
                 "local message " + MessageTypeName(t) + " cannot come from the network");
  }
  if (m.to() != raft_->id()) {
    return Invalid("message for node " + std::to_string(m.to()) + " delivered to node " +
                   std::to_string(raft_->id()));
  }
  if (m.from() == kNone || m.from() == raft_->id()) {
    return Invalid("message from node " + std::to_string(m.from()) + " is not from a peer");
  }
  if (IsResponseMsg(t) && raft_->tracker().Find(m.from()) == nullptr) {
    return Error(ErrorCode::kStepPeerNotFound,
                 MessageTypeName(t) + " from non-member " + std::to_string(m.from()));
  }
  const bool forwarded = t == pb::MSG_PROP || t == pb::MSG_READ_INDEX;
  if (forwarded != (m.term() == 0)) {
    return Invalid(MessageTypeName(t) + (forwarded ? " must not carry a term" : " needs a term"));
  }
  for (const pb::Entry& ent : m.entries()) {
    if (!pb::EntryType_IsValid(ent.type())) return Invalid("entry of unknown type");
  }
  if ((t == pb::MSG_READ_INDEX || t == pb::MSG_READ_INDEX_RESP) && m.entries_size() != 1) {
    return Invalid(MessageTypeName(t) + " must carry exactly one context entry");
  }
  if (t == pb::MSG_SNAP) {
    const pb::SnapshotMetadata& md = m.snapshot().metadata();
    if (md.index() == 0 || md.term() == 0 || md.term() > m.term()) {
      return Invalid("snapshot metadata needs index > 0 and 0 < term <= message term");
    }
    Error e = ValidateConfState(md.conf_state());
    if (!e.ok()) return e;
  }
  return Error::Ok();
}

void RawNode::ReportUnreachable(NodeId id) {
  pb::Message m;
  m.set_type(pb::MSG_UNREACHABLE);
  m.set_from(id);
  const Error e = raft_->Step(m);
  RAFT_ASSERT(e.ok());
}

void RawNode::ReportSnapshot(NodeId id, bool failed) {
  pb::Message m;
  m.set_type(pb::MSG_SNAP_STATUS);
  m.set_from(id);
  m.set_reject(failed);
  const Error e = raft_->Step(m);
  RAFT_ASSERT(e.ok());
}

bool RawNode::HardStateChanged(pb::HardState* hs) const {
  *hs = raft_->hard_state();
  return hs->term() != prev_hard_.term() || hs->vote() != prev_hard_.vote() ||
         hs->commit() != prev_hard_.commit();
}

bool RawNode::HasReady() const {
  if (outstanding_) return false;
  pb::HardState hs;
  const RaftLog& log = raft_->log();
  return raft_->soft_state() != prev_soft_ || HardStateChanged(&hs) ||
         log.unstable().snapshot().has_value() || !log.unstable().entries().empty() ||
         raft_->HasMessages() || raft_->HasReadStates() || log.HasNextCommittedEntries();
}

Ready RawNode::GetReady() {
  RAFT_ASSERT_MSG(!outstanding_, "GetReady called before the previous Ready was advanced");
  Ready rd;
  // Before the hard state, committed entries and messages are read, so all
  // three reflect the commit (Config::sole_voter_commits_in_ready).
  const bool precommitted = sole_voter_commits_in_ready_ &&
                            !raft_->log().unstable().entries().empty() &&
                            raft_->CommitUnpersistedAsSoleVoter();
  const RaftLog& log = raft_->log();
  const SoftState ss = raft_->soft_state();
  if (ss != prev_soft_) rd.soft_state = ss;
  pb::HardState hs;
  bool term_or_vote_changed = false;
  if (HardStateChanged(&hs)) {
    term_or_vote_changed = hs.term() != prev_hard_.term() || hs.vote() != prev_hard_.vote();
    rd.hard_state = hs;
  }
  rd.entries = log.unstable().entries();
  if (log.unstable().snapshot()) rd.snapshot = *log.unstable().snapshot();
  rd.committed_entries = log.NextCommittedEntries();
  rd.messages = raft_->TakeMessages();
  rd.read_states = raft_->TakeReadStates();
  rd.must_sync = !rd.entries.empty() || rd.snapshot.has_value() || term_or_vote_changed;
  rd.messages_may_precede_persist = ss.role == Role::kLeader && !rd.soft_state.has_value() &&
                                    !term_or_vote_changed && !precommitted;

  Outstanding out;
  if (!rd.entries.empty()) {
    out.last_entry_index = rd.entries.back().index();
    out.last_entry_term = rd.entries.back().term();
  }
  if (rd.snapshot) out.snapshot_index = rd.snapshot->metadata().index();
  if (!rd.committed_entries.empty()) {
    out.last_committed_index = rd.committed_entries.back().index();
    out.committed_payload_bytes = PayloadSize(rd.committed_entries);
  }
  outstanding_ = out;
  prev_soft_ = ss;
  if (rd.hard_state) prev_hard_ = *rd.hard_state;
  return rd;
}

void RawNode::Advance() {
  RAFT_ASSERT_MSG(outstanding_.has_value(), "Advance without an outstanding Ready");
  const Outstanding out = *outstanding_;
  outstanding_.reset();
  RaftLog& log = raft_->log();
  if (out.snapshot_index != 0) {
    log.StableSnapTo(out.snapshot_index);
    log.AppliedTo(out.snapshot_index);
  }
  if (out.last_entry_index != 0) raft_->OnPersisted(out.last_entry_index, out.last_entry_term);
  if (out.last_committed_index != 0) {
    log.AppliedTo(out.last_committed_index);
    raft_->OnApplied(out.committed_payload_bytes);
  }
  if (out.snapshot_index != 0 || out.last_committed_index != 0) {
    raft_->MaybeCampaignDeferredTransfer();
  }
}

Status RawNode::GetStatus() const {
  Status s;
  s.id = raft_->id();
  s.soft_state = raft_->soft_state();
  s.hard_state = raft_->hard_state();
  s.applied = raft_->log().applied();
  s.last_index = raft_->log().LastIndex();
  s.lead_transferee = raft_->lead_transferee();
  return s;
}

}  // namespace aspen::raft
