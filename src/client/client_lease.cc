// Client: Lease, Cluster and Maintenance calls (KV calls are in client.cc).
#include "client/client.h"
#include "client/client_conn.h"

namespace aspen::client {

namespace pb = etcdserverpb;

Result<pb::LeaseGrantResponse> Client::LeaseGrant(std::int64_t ttl_seconds, std::int64_t id) {
  pb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  request.set_id(id);
  pb::LeaseGrantResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.lease->LeaseGrant(&ctx, request, &response);
  }));
  if (!response.error().empty()) {
    return Status::Internal("lease grant refused: " + response.error());
  }
  return response;
}

Result<pb::LeaseRevokeResponse> Client::LeaseRevoke(std::int64_t id) {
  pb::LeaseRevokeRequest request;
  request.set_id(id);
  pb::LeaseRevokeResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.lease->LeaseRevoke(&ctx, request, &response);
  }));
  return response;
}

Result<pb::LeaseKeepAliveResponse> Client::LeaseKeepAliveOnce(std::int64_t id) {
  pb::LeaseKeepAliveRequest request;
  request.set_id(id);
  pb::LeaseKeepAliveResponse response;
  // A keep-alive renews the lease's deadline: repeating it is harmless, so it
  // fails over like a read.
  ASPEN_RETURN_IF_ERROR(Call(true, [&](Conn& c, grpc::ClientContext& ctx) {
    response.Clear();
    auto stream = c.lease->LeaseKeepAlive(&ctx);
    if (!stream->Write(request)) return stream->Finish();
    stream->WritesDone();
    const bool got = stream->Read(&response);
    grpc::Status status = stream->Finish();
    if (status.ok() && !got) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "keep-alive stream closed without answer");
    }
    return status;
  }));
  if (response.ttl() <= 0) {
    return Status::NotFound("NOT_FOUND: lease " + std::to_string(id) +
                            " not found (keep-alive TTL " + std::to_string(response.ttl()) + ")");
  }
  return response;
}

Result<pb::LeaseTimeToLiveResponse> Client::LeaseTimeToLive(std::int64_t id, bool with_keys) {
  pb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  request.set_keys(with_keys);
  pb::LeaseTimeToLiveResponse response;
  ASPEN_RETURN_IF_ERROR(Call(true, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.lease->LeaseTimeToLive(&ctx, request, &response);
  }));
  return response;
}

Result<pb::LeaseLeasesResponse> Client::LeaseLeases() {
  pb::LeaseLeasesRequest request;
  pb::LeaseLeasesResponse response;
  ASPEN_RETURN_IF_ERROR(Call(true, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.lease->LeaseLeases(&ctx, request, &response);
  }));
  return response;
}

Result<pb::MemberListResponse> Client::MemberList() {
  pb::MemberListRequest request;
  pb::MemberListResponse response;
  ASPEN_RETURN_IF_ERROR(Call(true, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.cluster->MemberList(&ctx, request, &response);
  }));
  return response;
}

Result<pb::StatusResponse> Client::EndpointStatus() {
  pb::StatusRequest request;
  pb::StatusResponse response;
  ASPEN_RETURN_IF_ERROR(Call(true, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.maintenance->Status(&ctx, request, &response);
  }));
  return response;
}

}  // namespace aspen::client
