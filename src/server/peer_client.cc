#include "server/peer_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <utility>

#include "base/limits.h"
#include "server/etcd_errors.h"

namespace aspen::server {

namespace ppb = ::aspen::peer::v1;

std::string UrlToTarget(const std::string& urls) {
  constexpr std::string_view kScheme = "http://";
  const std::string url = urls.substr(0, urls.find(','));  // the first of a list
  if (!url.starts_with(kScheme)) return "";
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size() ||
      rest.find('/') != std::string::npos) {
    return "";
  }
  return rest;
}

ppb::Peer::Stub* PeerClient::Stub(const std::string& target) {
  std::lock_guard lock(mu_);
  auto& stub = stubs_[target];
  if (stub == nullptr) {
    stub = ppb::Peer::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }
  return stub.get();
}

void PeerClient::SetDeadline(grpc::ClientContext* ctx) const {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout_);
}

grpc::Status PeerClient::Unreachable(const std::string& target, const grpc::Status& s) {
  if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
      s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return s;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "etcdserver: request timed out (leader's peer port " + target +
                          " unreachable: " + s.error_message() + ")");
}

struct PeerClient::AsyncLeaseCall {
  grpc::ClientContext ctx;
  ppb::LeaseRequest req;
  ppb::LeaseReply reply;
  std::string target;
  LeaseDone done;
};

void PeerClient::LeaseKeepAliveAsync(const std::string& target, std::int64_t id, LeaseDone done) {
  StartLeaseCall(LeaseMethod::kKeepAlive, target, id, std::move(done));
}

void PeerClient::LeaseTimeToLiveAsync(const std::string& target, std::int64_t id, LeaseDone done) {
  StartLeaseCall(LeaseMethod::kTimeToLive, target, id, std::move(done));
}

void PeerClient::StartLeaseCall(LeaseMethod method, const std::string& target, std::int64_t id,
                                LeaseDone done) {
  auto call = std::make_unique<AsyncLeaseCall>();
  call->req.set_cluster_id(cluster_id_);
  call->req.set_id(id);
  call->target = target;
  call->done = std::move(done);
  SetDeadline(&call->ctx);
  ppb::Peer::Stub* stub = Stub(target);
  grpc::Status refused;
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      refused = etcd::kStopped.ToGrpc();
    } else if (async_calls_.size() >= max_async_calls_) {
      refused = etcd::kTooManyRequests.ToGrpc();  // etcd's exact text: clients match it
    } else {
      async_calls_.insert(call.get());
    }
  }
  if (!refused.ok()) return call->done(refused, call->reply);
  AsyncLeaseCall* c = call.release();
  auto finished = [this, c](const grpc::Status& s) {
    grpc::Status out = Unreachable(c->target, s);
    if (s.error_code() == grpc::StatusCode::CANCELLED) {
      std::lock_guard lock(mu_);
      if (stopped_) out = etcd::kStopped.ToGrpc();  // Stop cancelled it
    }
    c->done(out, c->reply);
    {
      std::lock_guard lock(mu_);
      async_calls_.erase(c);  // Stop no longer cancels it
      if (async_calls_.empty()) async_idle_.notify_all();
    }
    delete c;
  };
  if (method == LeaseMethod::kKeepAlive) {
    stub->async()->LeaseKeepAlive(&c->ctx, &c->req, &c->reply, std::move(finished));
  } else {
    stub->async()->LeaseTimeToLive(&c->ctx, &c->req, &c->reply, std::move(finished));
  }
}

void PeerClient::Stop() {
  std::unique_lock lock(mu_);
  stopped_ = true;
  for (AsyncLeaseCall* c : async_calls_) c->ctx.TryCancel();
  async_idle_.wait(lock, [&] { return async_calls_.empty(); });
}

grpc::Status PeerClient::Member(const std::string& target, ppb::MemberInfo* reply) {
  ppb::MemberRequest req;
  req.set_cluster_id(cluster_id_);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  return Unreachable(target, Stub(target)->Member(&ctx, req, reply));
}

grpc::Status PeerClient::MemberPromote(const std::string& target, std::uint64_t id) {
  ppb::PromoteRequest req;
  req.set_cluster_id(cluster_id_);
  req.set_id(id);
  ppb::PromoteReply reply;
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  return Unreachable(target, Stub(target)->MemberPromote(&ctx, req, &reply));
}

grpc::Status FetchClusterInfo(const std::string& target, std::chrono::milliseconds timeout,
                              ppb::ClusterInfo* reply) {
  auto stub = ppb::Peer::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  ppb::MemberRequest req;  // cluster_id 0: not known yet
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  return stub->Cluster(&ctx, req, reply);
}

}  // namespace aspen::server
