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

}  // namespace aspen::server
