// Client: the Cluster membership calls and Maintenance.MoveLeader.
#include "client/client.h"
#include "client/client_conn.h"

namespace aspen::client {

namespace pb = etcdserverpb;

Result<pb::MemberAddResponse> Client::MemberAdd(const std::vector<std::string>& peer_urls,
                                                bool learner) {
  pb::MemberAddRequest request;
  for (const std::string& u : peer_urls) request.add_peerurls(u);
  request.set_islearner(learner);
  pb::MemberAddResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.cluster->MemberAdd(&ctx, request, &response);
  }));
  return response;
}

Result<pb::MemberRemoveResponse> Client::MemberRemove(std::uint64_t id) {
  pb::MemberRemoveRequest request;
  request.set_id(id);
  pb::MemberRemoveResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.cluster->MemberRemove(&ctx, request, &response);
  }));
  return response;
}

Result<pb::MemberUpdateResponse> Client::MemberUpdate(std::uint64_t id,
                                                      const std::vector<std::string>& peer_urls) {
  pb::MemberUpdateRequest request;
  request.set_id(id);
  for (const std::string& u : peer_urls) request.add_peerurls(u);
  pb::MemberUpdateResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.cluster->MemberUpdate(&ctx, request, &response);
  }));
  return response;
}

Result<pb::MemberPromoteResponse> Client::MemberPromote(std::uint64_t id) {
  pb::MemberPromoteRequest request;
  request.set_id(id);
  pb::MemberPromoteResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.cluster->MemberPromote(&ctx, request, &response);
  }));
  return response;
}

Result<pb::MoveLeaderResponse> Client::MoveLeader(std::uint64_t target_id) {
  pb::MoveLeaderRequest request;
  request.set_targetid(target_id);
  pb::MoveLeaderResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.maintenance->MoveLeader(&ctx, request, &response);
  }));
  return response;
}

}  // namespace aspen::client
