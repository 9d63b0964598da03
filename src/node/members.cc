// Membership: the applied configuration, the address book, and one
// membership change at a time through raft (ConfChange entries).
#include <algorithm>
#include <utility>

#include "node/members_record.h"
#include "node/node_impl.h"

namespace aspen::node {
namespace {

bool Contains(const google::protobuf::RepeatedField<std::uint64_t>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

rpb::ConfChangeType TypeOf(ConfOp op) {
  switch (op) {
    case ConfOp::kAdd:
    case ConfOp::kUpdate:  // re-adds with the same role; see SubmitConf
    case ConfOp::kAttributes:
    case ConfOp::kPromote: return rpb::CONF_CHANGE_ADD_NODE;
    case ConfOp::kAddLearner: return rpb::CONF_CHANGE_ADD_LEARNER_NODE;
    case ConfOp::kRemove: return rpb::CONF_CHANGE_REMOVE_NODE;
  }
  return rpb::CONF_CHANGE_ADD_NODE;
}

// FailedPrecondition/NotFound when `op` makes no sense against `cs`.
Status CheckAgainst(const rpb::ConfState& cs, ConfOp op, NodeId id) {
  const bool voter = Contains(cs.voters(), id);
  const bool learner = Contains(cs.learners(), id);
  const std::string name = "member " + std::to_string(id);
  switch (op) {
    case ConfOp::kAdd:
    case ConfOp::kAddLearner:
      if (voter || learner) return Status::FailedPrecondition(name + " already exists");
      return Status::Ok();
    case ConfOp::kRemove:
    case ConfOp::kUpdate:
    case ConfOp::kAttributes:
      if (!voter && !learner) return Status::NotFound(name + " not found");
      return Status::Ok();
    case ConfOp::kPromote:
      if (voter) return Status::FailedPrecondition(name + " is already a voter");
      if (!learner) return Status::NotFound(name + " not found");
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

std::vector<Member> Node::Members() const {
  std::lock_guard lock(impl_->status_mu);
  std::vector<Member> out;
  auto add = [&](NodeId id, bool learner) {
    Member m{id, "", learner, "", ""};
    if (auto it = impl_->book.members.find(id); it != impl_->book.members.end()) {
      m.peer_address = it->second.peer_urls;
      m.name = it->second.name;
      m.client_urls = it->second.client_urls;
    }
    out.push_back(std::move(m));
  };
  std::vector<NodeId> voters(impl_->conf.voters().begin(), impl_->conf.voters().end());
  std::vector<NodeId> learners(impl_->conf.learners().begin(), impl_->conf.learners().end());
  std::sort(voters.begin(), voters.end());
  std::sort(learners.begin(), learners.end());
  for (NodeId id : voters) add(id, false);
  for (NodeId id : learners) add(id, true);
  return out;
}

void Node::Impl::EnqueueConf(ConfRequest req) {
  {
    std::unique_lock lock(mu);
    if (!stopping) {
      inbox_conf.push_back(std::move(req));
      lock.unlock();
      cv.notify_one();
      return;
    }
  }
  req.done(Status::Unavailable("node stopped"));
}

void Node::AddMember(NodeId id, std::string peer_address, bool learner, Callback<Status> done) {
  if (id == raft::kNone) {
    done(Status::InvalidArgument("member id must not be 0"));
    return;
  }
  impl_->EnqueueConf(ConfRequest{learner ? ConfOp::kAddLearner : ConfOp::kAdd, id,
                                 std::move(peer_address), std::move(done),
                                 impl_->Steady() + impl_->opts.request_timeout_ms});
}

void Node::RemoveMember(NodeId id, Callback<Status> done) {
  impl_->EnqueueConf(ConfRequest{ConfOp::kRemove, id, "", std::move(done),
                                 impl_->Steady() + impl_->opts.request_timeout_ms});
}

void Node::PromoteMember(NodeId id, Callback<Status> done) {
  impl_->EnqueueConf(ConfRequest{ConfOp::kPromote, id, "", std::move(done),
                                 impl_->Steady() + impl_->opts.request_timeout_ms});
}

void Node::UpdateMember(NodeId id, std::string peer_address, Callback<Status> done) {
  if (peer_address.empty()) {
    done(Status::InvalidArgument("member update needs peer URLs"));
    return;
  }
  impl_->EnqueueConf(ConfRequest{ConfOp::kUpdate, id, std::move(peer_address), std::move(done),
                                 impl_->Steady() + impl_->opts.request_timeout_ms});
}

void Node::PublishAttributes(std::string name, std::string client_urls, Callback<Status> done) {
  // A short deadline: a publication the leader dropped must not hold this
  // node's one pending-change slot for long (the caller retries).
  impl_->EnqueueConf(ConfRequest{
      ConfOp::kAttributes, impl_->opts.id, EncodeAttributesContext(name, client_urls),
      std::move(done),
      impl_->Steady() + std::max<std::int64_t>(200, impl_->opts.request_timeout_ms / 5)});
}

bool Node::Removed() const {
  std::lock_guard lock(impl_->status_mu);
  return impl_->self_removed;
}

bool Node::Impl::RemovedId(NodeId id) const {
  std::lock_guard lock(status_mu);
  return book.removed.count(id) != 0;
}

Status Node::Impl::CheckSender(NodeId from) const {
  std::lock_guard lock(status_mu);
  if (book.removed.count(from) != 0) {
    return Status::FailedPrecondition("the member has been permanently removed from the cluster");
  }
  return Status::Ok();
}

Status Node::RequestLeadershipTransfer(NodeId id) {
  {
    std::lock_guard lock(impl_->status_mu);
    if (impl_->status.leader == raft::kNone) return Status::Unavailable("no leader");
    if (!Contains(impl_->conf.voters(), id)) {
      return Status::NotFound("member " + std::to_string(id) + " is not a voter");
    }
  }
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return Status::Unavailable("node stopped");
    impl_->inbox_transfer = id;
  }
  impl_->cv.notify_one();
  return Status::Ok();
}

Status Node::TransferLeadership(NodeId id) {
  {
    std::lock_guard lock(impl_->status_mu);
    if (impl_->status.role != Role::kLeader) return Status::FailedPrecondition("not leader");
    if (!Contains(impl_->conf.voters(), id)) {
      if (Contains(impl_->conf.learners(), id)) {
        return Status::FailedPrecondition("member " + std::to_string(id) + " is a learner");
      }
      return Status::NotFound("member " + std::to_string(id) + " not found");
    }
  }
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return Status::Unavailable("node stopped");
    impl_->inbox_transfer = id;
  }
  impl_->cv.notify_one();
  return Status::Ok();
}

std::map<NodeId, Node::PeerProgress> Node::Progress() const {
  std::lock_guard lock(impl_->status_mu);
  return impl_->peer_progress;
}

// etcd (server.go isLearnerReady): a learner may be promoted once its match
// index reaches 90% of the leader's.
Status Node::Impl::CheckLearnerReady(NodeId id) const {
  if (!is_leader) return Status::Ok();  // the leader checks when it is asked
  const auto& progress = raw->raft().tracker().progress();
  auto self = progress.find(opts.id);
  auto it = progress.find(id);
  if (self == progress.end() || it == progress.end()) return Status::Ok();
  const double leader_match = static_cast<double>(self->second.match());
  if (static_cast<double>(it->second.match()) < leader_match * 0.9) {
    return Status::FailedPrecondition(
        "can only promote a learner member which is in sync with leader");
  }
  return Status::Ok();
}

Status Node::Impl::LoadMembers() {
  std::string bytes;
  Status s = store->Get(storage::Cf::kMeta, kMembersKey, &bytes);
  if (s.code() == Code::kNotFound) return Status::Ok();
  if (!s.ok()) return s;
  auto stored = DecodeMembersBook(bytes);
  if (!stored.ok()) return stored.status();
  std::lock_guard lock(status_mu);
  for (auto& [id, m] : stored->members) book.members[id] = std::move(m);
  for (NodeId id : stored->removed) {
    book.removed.insert(id);
    book.members.erase(id);
  }
  if (book.removed.count(opts.id) != 0) self_removed = true;
  return Status::Ok();
}

void Node::Impl::SubmitConf(ConfRequest req, std::vector<Completion>* out) {
  auto fail = [&](Status s) { out->push_back([done = std::move(req.done), s] { done(s); }); };
  if (pending_conf.has_value() && pending_conf->op == ConfOp::kAttributes &&
      req.op != ConfOp::kAttributes) {
    // An operator's change goes first: stop waiting for the member's own
    // publication (it may still apply; the publisher retries if not).
    out->push_back([done = std::move(pending_conf->done)] {
      done(Status::Unavailable("member attributes publication superseded by a membership change"));
    });
    pending_conf.reset();
    pending_conf_change.reset();
  }
  if (pending_conf.has_value()) {
    fail(Status::FailedPrecondition("another membership change is pending"));
    return;
  }
  rpb::ConfState cs;
  {
    std::lock_guard lock(status_mu);
    cs = conf;
  }
  Status check = CheckAgainst(cs, req.op, req.id);
  if (check.ok() && req.op == ConfOp::kPromote) check = CheckLearnerReady(req.id);
  if (!check.ok()) {
    fail(check);
    return;
  }
  rpb::ConfChange cc;
  cc.set_type(TypeOf(req.op));
  if ((req.op == ConfOp::kUpdate || req.op == ConfOp::kAttributes) &&
      Contains(cs.learners(), req.id)) {
    cc.set_type(rpb::CONF_CHANGE_ADD_LEARNER_NODE);  // keeps a learner a learner
  }
  cc.set_node_id(req.id);
  cc.set_context(req.address);
  const NodeId leader = raw->GetStatus().soft_state.lead;
  raft::Error err = leader == raft::kNone
                        ? raft::Error(raft::ErrorCode::kProposalDropped, "no leader")
                        : raw->ProposeConfChange(cc);
  if (!err.ok()) {
    if (leader == raft::kNone) {
      fail(Status::Unavailable("no leader"));
    } else {
      fail(Status::FailedPrecondition("membership change refused: " + err.message()));
    }
    return;
  }
  pending_conf_change = std::make_pair(req.op, req.id);
  pending_conf_type = cc.type();
  pending_conf = std::move(req);
}

void Node::Impl::ApplyConfEntry(const rpb::Entry& e, storage::WriteBatch* batch,
                                std::vector<Completion>* out) {
  rpb::ConfChange cc;
  Status result;
  if (!cc.ParseFromString(e.data())) {
    result =
        Status::Corruption("conf change entry " + std::to_string(e.index()) + " does not parse");
  } else if (cc.type() != rpb::CONF_CHANGE_REMOVE_NODE && RemovedId(cc.node_id())) {
    // A removed member never comes back (etcd refuses its id): skipped on
    // every member alike, since the removed set is replicated state.
    result = Status::FailedPrecondition("member " + std::to_string(cc.node_id()) +
                                        " was removed from the cluster");
  } else {
    auto cs = raw->ApplyConfChange(cc);
    if (cs.ok()) {
      raft_storage->SetConfState(batch, *cs);
      std::lock_guard lock(status_mu);
      conf = *cs;
      std::string name, client_urls;
      if (cc.type() == rpb::CONF_CHANGE_REMOVE_NODE) {
        book.members.erase(cc.node_id());
        book.removed.insert(cc.node_id());
        if (cc.node_id() == opts.id) {
          self_removed = true;
          Log("the member has been permanently removed from the cluster");
        }
      } else if (DecodeAttributesContext(cc.context(), &name, &client_urls).ok()) {
        MemberAttrs& m = book.members[cc.node_id()];
        m.name = std::move(name);
        m.client_urls = std::move(client_urls);
      } else if (!cc.context().empty()) {
        book.members[cc.node_id()].peer_urls = cc.context();
      }
      // The address book is part of the replicated state (snapshots carry it).
      batch->Put(storage::Cf::kMeta, kMembersKey, EncodeMembersBook(book));
      Log("membership changed: " + std::to_string(cs->voters_size()) + " voter(s), " +
          std::to_string(cs->learners_size()) + " learner(s)");
    } else {
      result = Status::FailedPrecondition("membership change refused: " + cs.error().message());
    }
  }
  if (pending_conf.has_value() && pending_conf_change.has_value() &&
      pending_conf_type == cc.type() && pending_conf_change->second == cc.node_id() &&
      pending_conf->address == cc.context()) {
    out->push_back([done = std::move(pending_conf->done), result] { done(result); });
    pending_conf.reset();
    pending_conf_change.reset();
  }
}

}  // namespace aspen::node
