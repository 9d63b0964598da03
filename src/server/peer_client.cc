#include "server/peer_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

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

grpc::Status PeerClient::LeaseKeepAlive(const std::string& target, std::int64_t id,
                                        ppb::LeaseReply* reply) {
  ppb::LeaseRequest req;
  req.set_cluster_id(cluster_id_);
  req.set_id(id);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  return Unreachable(target, Stub(target)->LeaseKeepAlive(&ctx, req, reply));
}

grpc::Status PeerClient::LeaseTimeToLive(const std::string& target, std::int64_t id,
                                         ppb::LeaseReply* reply) {
  ppb::LeaseRequest req;
  req.set_cluster_id(cluster_id_);
  req.set_id(id);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  return Unreachable(target, Stub(target)->LeaseTimeToLive(&ctx, req, reply));
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
