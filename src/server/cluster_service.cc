#include <utility>

#include "server/call.h"
#include "sm/reads.h"

namespace aspen::server {

using internal::Call;
namespace epb = ::etcdserverpb;

grpc::ServerUnaryReactor* ClusterService::MemberList(grpc::CallbackServerContext* ctx,
                                                     const epb::MemberListRequest* /*req*/,
                                                     epb::MemberListResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "MemberList");
  auto work = [this, call, resp] {
    for (const node::Member& m : env_->node->Members()) {
      epb::Member* out = resp->add_members();
      out->set_id(m.id);
      if (!m.peer_address.empty()) out->add_peerurls(m.peer_address);
      out->set_islearner(m.learner);
      if (m.id == env_->member_id) {
        out->set_name(env_->name);
        for (const std::string& u : env_->client_urls) out->add_clienturls(u);
        continue;
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
      // A member that cannot be asked is listed as etcd lists an unstarted
      // one: no name, no client URLs.
      const std::string target = UrlToTarget(m.peer_address);
      if (!known && !target.empty() && env_->peers->Member(target, &info).ok() &&
          info.id() == m.id) {
        std::lock_guard lock(mu_);
        known_[m.id] = info;
        known = true;
      }
      if (known) {
        out->set_name(info.name());
        for (const std::string& u : info.client_urls()) out->add_clienturls(u);
      }
    }
    env_->FillHeader(resp->mutable_header(), env_->node->GetStatus().revision);
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(etcd::kTooManyRequests.ToGrpc());
  return call.reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* ctx,
                                                     const epb::StatusRequest* /*req*/,
                                                     epb::StatusResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Status");
  const node::NodeStatus st = env_->node->GetStatus();
  resp->set_version(kEtcdApiVersion);
  const std::int64_t db = env_->db_size_bytes ? env_->db_size_bytes() : 0;
  resp->set_dbsize(db);
  resp->set_dbsizeinuse(db);
  resp->set_leader(st.leader);
  resp->set_raftindex(st.commit_index);
  resp->set_raftterm(st.term);
  resp->set_raftappliedindex(st.applied_index);
  for (const node::Member& m : env_->node->Members()) {
    if (m.id == env_->member_id) resp->set_islearner(m.learner);
  }
  env_->FillHeader(resp->mutable_header(), st.revision);
  call.Finish(grpc::Status::OK);
  return call.reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::HashKV(grpc::CallbackServerContext* ctx,
                                                     const epb::HashKVRequest* req,
                                                     epb::HashKVResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "HashKV");
  const std::int64_t revision = req->revision();
  auto work = [call, revision, resp] {
    std::unique_ptr<storage::Snapshot> snap = call.env->node->GetSnapshot();
    Result<sm::KvHash> h = sm::HashKV(*snap);
    if (!h.ok()) return call.Finish(ToGrpcStatus(h.status()));
    if (revision > h->revision) return call.Finish(etcd::kFutureRev.ToGrpc());
    if (revision > 0 && revision < h->revision) {
      return call.Finish(ToGrpcStatus(Status::Unimplemented(
          "hashing at a past revision is not supported until MVCC history exists")));
    }
    resp->set_hash(h->hash32);
    call.env->FillHeader(resp->mutable_header(), h->revision);
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(etcd::kTooManyRequests.ToGrpc());
  return call.reactor;
}

}  // namespace aspen::server
