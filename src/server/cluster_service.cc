#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "server/call.h"
#include "server/config.h"
#include "sm/reads.h"

namespace aspen::server {

using internal::Call;
namespace epb = ::etcdserverpb;

namespace {

std::vector<std::string> SplitUrls(const std::string& urls) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < urls.size()) {
    std::size_t comma = urls.find(',', pos);
    if (comma == std::string::npos) comma = urls.size();
    if (comma > pos) out.push_back(urls.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

std::string JoinUrls(const google::protobuf::RepeatedPtrField<std::string>& urls) {
  std::string out;
  for (const std::string& u : urls) out += (out.empty() ? "" : ",") + u;
  return out;
}

// etcd's check of MemberAdd/MemberUpdate URLs: http URLs with a host and a port.
bool ValidPeerUrls(const google::protobuf::RepeatedPtrField<std::string>& urls) {
  if (urls.empty()) return false;
  for (const std::string& u : urls) {
    if (u.find(',') != std::string::npos || UrlToTarget(u).empty()) return false;
  }
  return true;
}

// True when one of `urls` is a peer URL of a member other than `except`.
bool PeerUrlTaken(const std::vector<node::Member>& members,
                  const google::protobuf::RepeatedPtrField<std::string>& urls,
                  node::NodeId except) {
  for (const node::Member& m : members) {
    if (m.id == except) continue;
    for (const std::string& have : SplitUrls(m.peer_address)) {
      for (const std::string& u : urls) {
        if (u == have) return true;
      }
    }
  }
  return false;
}

const node::Member* FindMember(const std::vector<node::Member>& members, node::NodeId id) {
  for (const node::Member& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

// etcd's strict reconfiguration check (RaftCluster.IsReadyToAddVotingMember /
// IsReadyToRemoveVotingMember), on the leader, with "started" read as "heard
// from within the last election timeout": after the change the started voters
// must still be a quorum. `delta` is +1 for a voter added or promoted, -1 for
// voter `removed`.
bool EnoughStarted(const node::Node& node, int delta, node::NodeId removed) {
  const std::map<node::NodeId, node::Node::PeerProgress> progress = node.Progress();
  if (progress.empty()) return true;  // not the leader: the leader decides
  int voters = 0, started = 0;
  for (const node::Member& m : node.Members()) {
    if (m.learner) continue;
    ++voters;
    auto it = progress.find(m.id);
    if (it != progress.end() && it->second.active && m.id != removed) ++started;
  }
  const int after = voters + delta;
  // etcd: adding a second member to a one-member cluster is always allowed.
  if (delta > 0 && started == 1 && after == 2) return true;
  return after <= 0 || started >= after / 2 + 1;
}

// How long a membership change waits for another one (an operator's, or a
// member publishing its name and client URLs) to be applied before it is
// refused with "another membership change is pending".
constexpr auto kPendingRetryWindow = std::chrono::milliseconds(3000);
constexpr auto kPendingRetryInterval = std::chrono::milliseconds(50);

bool PendingConflict(const Status& s) {
  return s.code() == Code::kFailedPrecondition &&
         (s.message().find("another membership change is pending") != std::string::npos ||
          s.message().find("is not applied yet") != std::string::npos);
}

// Runs one node membership call (`submit`) and hands its result to `done`,
// retrying (on the worker pool) while another change is pending, within
// kPendingRetryWindow of `deadline`'s start.
void SubmitRetrying(ServiceEnv* env, std::function<void(node::Callback<Status>)> submit,
                    std::function<void(Status)> done,
                    std::chrono::steady_clock::time_point deadline) {
  auto again = [env, submit, done, deadline](Status s) {
    if (!PendingConflict(s) || std::chrono::steady_clock::now() >= deadline) return done(s);
    // The callback runs on the node's loop: wait on the pool instead.
    const bool queued = env->pool->Submit([env, submit, done, deadline] {
      std::this_thread::sleep_for(kPendingRetryInterval);
      SubmitRetrying(env, submit, done, deadline);
    });
    if (!queued) done(s);
  };
  submit(std::move(again));
}

std::chrono::steady_clock::time_point RetryDeadline() {
  return std::chrono::steady_clock::now() + kPendingRetryWindow;
}

}  // namespace

void ClusterService::FillMembers(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* out) {
  for (const node::Member& m : env_->node->Members()) {
    epb::Member* o = out->Add();
    FillMember(m, o);
  }
}

void ClusterService::FillMember(const node::Member& m, etcdserverpb::Member* out) {
  out->set_id(m.id);
  for (const std::string& u : SplitUrls(m.peer_address)) out->add_peerurls(u);
  out->set_islearner(m.learner);
  if (m.id == env_->member_id) {
    out->set_name(env_->name);
    for (const std::string& u : env_->client_urls) out->add_clienturls(u);
    return;
  }
  // What the member published through raft (the replicated members record).
  if (!m.name.empty() || !m.client_urls.empty()) {
    out->set_name(m.name);
    for (const std::string& u : SplitUrls(m.client_urls)) out->add_clienturls(u);
    return;
  }
  peer::v1::MemberInfo info;
  bool known = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = known_.find(m.id); it != known_.end()) {
      info = it->second;
      known = true;
    }
  }
  // A member that cannot be asked is listed as etcd lists an unstarted one:
  // no name, no client URLs.
  const std::string target = UrlToTarget(m.peer_address);
  if (!known && !target.empty() && env_->peers->Member(target, &info).ok() && info.id() == m.id) {
    std::lock_guard lock(mu_);
    known_[m.id] = info;
    known = true;
  }
  if (known) {
    out->set_name(info.name());
    for (const std::string& u : info.client_urls()) out->add_clienturls(u);
  }
}

grpc::ServerUnaryReactor* ClusterService::MemberList(grpc::CallbackServerContext* ctx,
                                                     const epb::MemberListRequest* /*req*/,
                                                     epb::MemberListResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "MemberList");
  auto work = [this, call, resp] {
    FillMembers(resp->mutable_members());
    env_->FillHeader(resp->mutable_header(), 0);  // etcd: no revision
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

// Answers `call` once the node has applied a membership change: the error, or
// `fill` then the member list (on the worker pool: listing may ask peers).
void ClusterService::FinishChange(const Call& call, Status s, std::function<void()> fill) {
  if (!s.ok()) {
    call.Finish(ToGrpcStatus(s));
    return;
  }
  auto work = [call, fill = std::move(fill)] {
    fill();
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
}

grpc::ServerUnaryReactor* ClusterService::MemberAdd(grpc::CallbackServerContext* ctx,
                                                    const epb::MemberAddRequest* req,
                                                    epb::MemberAddResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "MemberAdd");
  if (!ValidPeerUrls(req->peerurls())) {
    call.Finish(etcd::kMemberBadURLs.ToGrpc());
    return call.reactor;
  }
  const std::vector<node::Member> members = env_->node->Members();
  if (PeerUrlTaken(members, req->peerurls(), 0)) {
    call.Finish(etcd::kPeerURLExist.ToGrpc());
    return call.reactor;
  }
  if (req->islearner()) {
    const auto learners = std::count_if(members.begin(), members.end(),
                                        [](const node::Member& m) { return m.learner; });
    if (learners >= kMaxLearners) {
      call.Finish(etcd::kTooManyLearners.ToGrpc());
      return call.reactor;
    }
  } else if (!EnoughStarted(*env_->node, +1, 0)) {
    call.Finish(etcd::kNotEnoughStarted.ToGrpc());
    return call.reactor;
  }
  const std::string urls = JoinUrls(req->peerurls());
  // etcd derives a new member's id from its URLs, the cluster and the time.
  node::NodeId id = 0;
  for (int salt = 0; id == 0 || FindMember(members, id) != nullptr; ++salt) {
    id = MemberIdFor(
        "", urls,
        HexId(env_->cluster_id) + "/" +
            std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "/" +
            std::to_string(salt));
  }
  const bool learner = req->islearner();
  SubmitRetrying(
      env_,
      [node = env_->node, id, urls, learner](node::Callback<Status> cb) {
        node->AddMember(id, urls, learner, std::move(cb));
      },
      [this, call, resp, id, urls, learner](Status s) {
        FinishChange(call, s, [this, resp, id, urls, learner] {
          epb::Member* m = resp->mutable_member();
          m->set_id(id);
          for (const std::string& u : SplitUrls(urls)) m->add_peerurls(u);
          m->set_islearner(learner);
          FillMembers(resp->mutable_members());
          env_->FillHeader(resp->mutable_header(), 0);  // etcd: no revision
        });
      },
      RetryDeadline());
  return call.reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberRemove(grpc::CallbackServerContext* ctx,
                                                       const epb::MemberRemoveRequest* req,
                                                       epb::MemberRemoveResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "MemberRemove");
  const node::NodeId id = req->id();
  const std::vector<node::Member> members = env_->node->Members();
  const node::Member* target = FindMember(members, id);
  if (target == nullptr) {
    call.Finish(etcd::kMemberNotFound.ToGrpc());
    return call.reactor;
  }
  if (!target->learner && !EnoughStarted(*env_->node, -1, id)) {
    call.Finish(etcd::kNotEnoughStarted.ToGrpc());
    return call.reactor;
  }
  auto remove = [this, call, resp, id] {
    SubmitRetrying(
        env_,
        [node = env_->node, id](node::Callback<Status> cb) {
          node->RemoveMember(id, std::move(cb));
        },
        [this, call, resp](Status s) {
          FinishChange(call, s, [this, resp] {
            FillMembers(resp->mutable_members());
            env_->FillHeader(resp->mutable_header(), 0);  // etcd: no revision
          });
        },
        RetryDeadline());
  };
  if (target->learner || id != env_->node->GetStatus().leader) {
    remove();
    return call.reactor;
  }
  // Removing the leader (this member or another): hand leadership to another
  // voter first, so the cluster need not wait an election timeout.
  auto work = [this, call, id, remove] {
    if (!HandOffLeadership(id)) {
      call.Finish(etcd::kTimeoutLeaderTransfer.ToGrpc());
      return;
    }
    remove();
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

bool ClusterService::HandOffLeadership(node::NodeId leader) {
  node::NodeId best = 0;
  std::uint64_t best_match = 0;
  const auto progress = env_->node->Progress();
  for (const node::Member& m : env_->node->Members()) {
    if (m.learner || m.id == leader) continue;
    if (progress.empty() && m.id == env_->member_id) {
      // A follower asks for itself: it is up (it serves this call).
      best = m.id;
      break;
    }
    auto it = progress.find(m.id);
    const std::uint64_t match = it == progress.end() ? 0 : it->second.match;
    if (best == 0 || match > best_match) {
      best = m.id;
      best_match = match;
    }
  }
  if (best == 0) return true;  // the last voter: raft refuses the removal itself
  return WaitForLeader(best, leader);
}

bool ClusterService::WaitForLeader(node::NodeId target, node::NodeId old_leader) {
  const auto deadline = std::chrono::steady_clock::now() + kLeaderTransferTimeout;
  auto next_ask = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    const node::NodeStatus st = env_->node->GetStatus();
    if (st.leader != 0 && st.leader != old_leader) return true;
    if (std::chrono::steady_clock::now() >= next_ask && st.leader == old_leader) {
      // On the leader raft starts the transfer; a follower forwards the ask
      // (repeated: a forwarded message may be lost).
      aspen::Status s = env_->node->RequestLeadershipTransfer(target);
      if (!s.ok() && s.code() != Code::kUnavailable) return false;
      next_ask = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

grpc::ServerUnaryReactor* ClusterService::MemberUpdate(grpc::CallbackServerContext* ctx,
                                                       const epb::MemberUpdateRequest* req,
                                                       epb::MemberUpdateResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "MemberUpdate");
  const std::vector<node::Member> members = env_->node->Members();
  if (FindMember(members, req->id()) == nullptr) {
    call.Finish(etcd::kMemberNotFound.ToGrpc());
    return call.reactor;
  }
  if (!ValidPeerUrls(req->peerurls())) {
    call.Finish(etcd::kMemberBadURLs.ToGrpc());
    return call.reactor;
  }
  if (PeerUrlTaken(members, req->peerurls(), req->id())) {
    call.Finish(etcd::kPeerURLExist.ToGrpc());
    return call.reactor;
  }
  {
    std::lock_guard lock(mu_);
    known_.erase(req->id());
  }
  SubmitRetrying(
      env_,
      [node = env_->node, id = req->id(), urls = JoinUrls(req->peerurls())](
          node::Callback<Status> cb) { node->UpdateMember(id, urls, std::move(cb)); },
      [this, call, resp](Status s) {
        FinishChange(call, s, [this, resp] {
          FillMembers(resp->mutable_members());
          env_->FillHeader(resp->mutable_header(), 0);  // etcd: no revision
        });
      },
      RetryDeadline());
  return call.reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberPromote(grpc::CallbackServerContext* ctx,
                                                        const epb::MemberPromoteRequest* req,
                                                        epb::MemberPromoteResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "MemberPromote");
  const node::NodeId id = req->id();
  const std::vector<node::Member> members = env_->node->Members();
  const node::Member* m = FindMember(members, id);
  if (m == nullptr) {
    call.Finish(etcd::kMemberNotFound.ToGrpc());
    return call.reactor;
  }
  if (!m->learner) {
    call.Finish(etcd::kMemberNotLearner.ToGrpc());
    return call.reactor;
  }
  auto fill = [this, resp] {
    FillMembers(resp->mutable_members());
    env_->FillHeader(resp->mutable_header(), 0);  // etcd: no revision
  };
  const node::NodeStatus st = env_->node->GetStatus();
  if (st.role == node::Role::kLeader) {
    if (!EnoughStarted(*env_->node, +1, 0)) {
      call.Finish(etcd::kNotEnoughStarted.ToGrpc());
      return call.reactor;
    }
    SubmitRetrying(
        env_,
        [node = env_->node, id](node::Callback<Status> cb) {
          node->PromoteMember(id, std::move(cb));
        },
        [this, call, fill](Status s) { FinishChange(call, s, fill); }, RetryDeadline());
    return call.reactor;
  }
  // Only the leader knows whether the learner is in sync: ask it.
  auto work = [this, call, id, fill, leader = st.leader] {
    if (leader == 0) return call.Finish(etcd::kNoLeader.ToGrpc());
    const std::string target = env_->PeerTarget(leader);
    if (target.empty()) return call.Finish(etcd::kNoLeader.ToGrpc());
    grpc::Status g = env_->peers->MemberPromote(target, id);
    if (!g.ok()) return call.Finish(g);
    // Answer once this member has applied the promotion too.
    const auto deadline = std::chrono::steady_clock::now() + kLeaderTransferTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto now = env_->node->Members();
      const node::Member* p = FindMember(now, id);
      if (p != nullptr && !p->learner) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    fill();
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

}  // namespace aspen::server
