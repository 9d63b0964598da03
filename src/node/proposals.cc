// Proposals: submission (any thread), hand-off to raft (the loop), deadlines,
// and failing everything at shutdown.
#include <utility>

#include "base/limits.h"
#include "node/node_impl.h"
#include "node/request_tag.h"

namespace aspen::node {
namespace {

Status MapProposeError(const raft::Error& err, NodeId leader) {
  switch (err.code()) {
    case raft::ErrorCode::kProposalDropped:
      if (leader == raft::kNone) return Status::Unavailable("no leader");
      return Status::Unavailable("proposal dropped: " + err.message());
    case raft::ErrorCode::kLimitExceeded: return Status::ResourceExhausted(err.message());
    default: return Status::Internal("raft refused the proposal: " + err.ToString());
  }
}

}  // namespace

void Node::Propose(sm::v1::Command command, Callback<Result<sm::v1::Response>> done) {
  Impl& n = *impl_;
  const std::size_t limit = n.opts.max_pending_proposals;
  if (n.pending_proposals.fetch_add(1) >= limit) {
    n.pending_proposals.fetch_sub(1);
    done(Status::ResourceExhausted("too many pending proposals (limit " + std::to_string(limit) +
                                   ")"));
    return;
  }
  command.set_now_ms(n.clock->NowMs());
  if (command.has_lease_grant() && command.lease_grant().id() == 0) {
    command.mutable_lease_grant()->set_id(n.NewLeaseId());
  }
  QueuedProposal p;
  p.request_id = n.next_request_id.fetch_add(1);
  p.data = EncodeTaggedCommand(command, RequestTag{n.opts.id, p.request_id});
  if (p.data.size() > limits::kMaxRequestBytes) {
    n.pending_proposals.fetch_sub(1);
    done(Status::ResourceExhausted("command of " + std::to_string(p.data.size()) +
                                   " bytes exceeds the request limit of " +
                                   std::to_string(limits::kMaxRequestBytes) + " bytes"));
    return;
  }
  p.deadline_ms = n.Steady() + n.opts.request_timeout_ms;
  p.done = std::move(done);
  {
    std::unique_lock lock(n.mu);
    if (n.stopping) {
      lock.unlock();
      n.pending_proposals.fetch_sub(1);
      p.done(Status::Unavailable("node stopped"));
      return;
    }
    n.inbox_props.push_back(std::move(p));
  }
  n.cv.notify_one();
}

std::int64_t Node::Impl::NewLeaseId() {
  std::lock_guard lock(mu);
  while (true) {
    const auto id = static_cast<std::int64_t>(rng() & 0x7fffffffffffffffULL);
    if (id != 0 && !lessor.Contains(id)) return id;
  }
}

void Node::Impl::SubmitProposal(QueuedProposal p, std::vector<Completion>* out) {
  const raft::Status before = raw->GetStatus();
  const NodeId leader = before.soft_state.lead;
  raft::Error err = leader == raft::kNone
                        ? raft::Error(raft::ErrorCode::kProposalDropped, "no leader")
                        : raw->Propose(std::move(p.data));
  if (!err.ok()) {
    if (!p.internal) pending_proposals.fetch_sub(1);
    out->push_back([done = std::move(p.done), s = MapProposeError(err, leader)] { done(s); });
    return;
  }
  // Only an entry this node appended itself, as leader, has a known index; a
  // forwarded one is matched by its tag alone.
  const raft::Status after = raw->GetStatus();
  if (before.soft_state.role == raft::Role::kLeader &&
      after.soft_state.role == raft::Role::kLeader && after.last_index == before.last_index + 1) {
    proposed_at[after.last_index] = p.request_id;
  }
  proposals.emplace(p.request_id, WaitingProposal{std::move(p.done), p.internal, p.deadline_ms});
}

void Node::Impl::ProposeInternal(sm::v1::Command cmd, ProposeDone done) {
  cmd.set_now_ms(clock->NowMs());
  QueuedProposal p;
  p.request_id = next_request_id.fetch_add(1);
  p.data = EncodeTaggedCommand(cmd, RequestTag{opts.id, p.request_id});
  p.done = std::move(done);
  p.internal = true;
  p.deadline_ms = Steady() + opts.request_timeout_ms;
  std::vector<Completion> out;
  SubmitProposal(std::move(p), &out);
  for (Completion& c : out) c();
}

void Node::Impl::ExpireRequests(std::vector<Completion>* out) {
  const std::int64_t now = Steady();
  const std::string ms = std::to_string(opts.request_timeout_ms);
  for (auto it = proposals.begin(); it != proposals.end();) {
    if (it->second.deadline_ms > now) {
      ++it;
      continue;
    }
    if (!it->second.internal) pending_proposals.fetch_sub(1);
    out->push_back([done = std::move(it->second.done), ms] {
      done(Status(Code::kDeadlineExceeded,
                  "proposal not applied within " + ms + " ms; its outcome is unknown"));
    });
    it = proposals.erase(it);
  }
  auto read_timeout = [ms](StatusDone done) -> Completion {
    return [done = std::move(done), ms] {
      done(Status(Code::kDeadlineExceeded, "read barrier not served within " + ms + " ms"));
    };
  };
  for (auto it = reads_in_flight.begin(); it != reads_in_flight.end();) {
    // Every waiter of one request shares (nearly) one deadline: the first.
    if (it->second.empty() || it->second.front().deadline_ms > now) {
      ++it;
      continue;
    }
    for (ReadWaiter& w : it->second) out->push_back(read_timeout(std::move(w.done)));
    pending_reads.fetch_sub(it->second.size());
    it = reads_in_flight.erase(it);
  }
  for (auto it = reads_to_apply.begin(); it != reads_to_apply.end();) {
    if (it->second.deadline_ms > now) {
      ++it;
      continue;
    }
    out->push_back(read_timeout(std::move(it->second.done)));
    pending_reads.fetch_sub(1);
    it = reads_to_apply.erase(it);
  }
  if (pending_conf.has_value() && pending_conf->deadline_ms <= now) {
    out->push_back([done = std::move(pending_conf->done), ms] {
      done(Status(Code::kDeadlineExceeded,
                  "membership change not applied within " + ms + " ms; its outcome is unknown"));
    });
    pending_conf.reset();
    pending_conf_change.reset();
  }
}

void Node::Impl::FailAll(const Status& why, std::vector<Completion>* out) {
  std::deque<QueuedProposal> props;
  std::vector<ReadWaiter> reads;
  std::vector<ConfRequest> confs;
  {
    std::lock_guard lock(mu);
    props.swap(inbox_props);
    reads.swap(inbox_reads);
    confs.swap(inbox_conf);
  }
  auto fail_status = [&](StatusDone done) {
    out->push_back([done = std::move(done), why] { done(why); });
  };
  for (QueuedProposal& p : props) {
    if (!p.internal) pending_proposals.fetch_sub(1);
    out->push_back([done = std::move(p.done), why] { done(why); });
  }
  for (auto& [id, w] : proposals) {
    if (!w.internal) pending_proposals.fetch_sub(1);
    out->push_back([done = std::move(w.done), why] { done(why); });
  }
  proposals.clear();
  proposed_at.clear();
  for (ReadWaiter& w : reads) fail_status(std::move(w.done));
  for (auto& [ctx, waiters] : reads_in_flight) {
    for (ReadWaiter& w : waiters) fail_status(std::move(w.done));
  }
  for (auto& [index, w] : reads_to_apply) fail_status(std::move(w.done));
  pending_reads.fetch_sub(reads.size() + reads_to_apply.size());
  for (auto& [ctx, waiters] : reads_in_flight) pending_reads.fetch_sub(waiters.size());
  reads_in_flight.clear();
  reads_to_apply.clear();
  for (ConfRequest& c : confs) fail_status(std::move(c.done));
  if (pending_conf.has_value()) fail_status(std::move(pending_conf->done));
  pending_conf.reset();
  pending_conf_change.reset();
  // Lease calls waiting in the Lessor, and every later one, get `why` too.
  lessor.Stop(why, out);
}

}  // namespace aspen::node
