// A small synchronous client for the etcd v3 gRPC API (etcd itself or Aspen).
//
// Every call is bounded: each attempt waits at most dial_timeout to connect and
// call_timeout for the answer, and a call makes at most one attempt per
// endpoint, so no call takes longer than endpoints * (dial_timeout + call_timeout).
//
// Failover: the client talks to one endpoint at a time (the "current" one).
// When an endpoint cannot be connected to within dial_timeout, nothing was sent,
// so any call moves on to the next endpoint. When a connected endpoint answers
// UNAVAILABLE, read-only calls (Get, LeaseTimeToLive, LeaseLeases, MemberList,
// EndpointStatus) retry on the next endpoint; writes return the error, because
// the write may or may not have been applied, and the next call starts at the
// next endpoint. A call that succeeds makes its endpoint the current one.
//
// Errors: a failed call returns a non-ok aspen::Status built by FromGrpc
// (client/grpc_status.h): the code is mapped, and the message starts with the
// exact gRPC code name, e.g. "NOT_FOUND: etcdserver: requested lease not found".
// Calls that give up on every endpoint return kUnavailable naming each endpoint.
//
// Thread safety: a Client is safe to use from many threads at once.
#pragma once

#include <grpcpp/channel.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "etcdserverpb/cluster.grpc.pb.h"
#include "etcdserverpb/kv.grpc.pb.h"
#include "etcdserverpb/lease.grpc.pb.h"
#include "etcdserverpb/maintenance.grpc.pb.h"

namespace aspen::client {

struct ClientOptions {
  // gRPC targets "host:port" (see ParseEndpointList); tried in this order.
  std::vector<std::string> endpoints;
  std::chrono::milliseconds dial_timeout{2000};
  std::chrono::milliseconds call_timeout{5000};
  // Largest response the client accepts; larger ones fail with RESOURCE_EXHAUSTED.
  int max_recv_bytes = 64 * 1024 * 1024;
};

struct GetOptions {
  std::string range_end;      // empty: the key alone (unless prefix)
  bool prefix = false;        // every key starting with the given key; overrides range_end
  std::int64_t limit = 0;     // 0 = no limit
  std::int64_t revision = 0;  // <= 0 = newest
  bool serializable = false;  // member-local read instead of linearizable
  bool keys_only = false;
  bool count_only = false;
  etcdserverpb::RangeRequest::SortOrder sort_order = etcdserverpb::RangeRequest::NONE;
  etcdserverpb::RangeRequest::SortTarget sort_target = etcdserverpb::RangeRequest::KEY;
};

struct PutOptions {
  std::int64_t lease = 0;  // 0 = no lease
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct DeleteOptions {
  std::string range_end;
  bool prefix = false;
  bool prev_kv = false;
};

// The range_end that selects every key starting with prefix: prefix with its
// last byte below 0xff incremented and the rest dropped; "\0" (all keys from
// prefix on) when every byte is 0xff or prefix is empty.
std::string PrefixEnd(std::string_view prefix);

class Client {
 public:
  // Validates options (at least one endpoint, at most kMaxEndpoints, positive
  // timeouts) and creates one channel per endpoint. Connects lazily: an
  // unreachable endpoint is not an error here. Returns InvalidArgument for bad
  // options.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  Result<etcdserverpb::PutResponse> Put(std::string_view key, std::string_view value,
                                        const PutOptions& options = {});
  Result<etcdserverpb::RangeResponse> Get(std::string_view key, const GetOptions& options = {});
  Result<etcdserverpb::DeleteRangeResponse> Delete(std::string_view key,
                                                   const DeleteOptions& options = {});
  // Sent as given; the server enforces its limits (e.g. etcd's --max-txn-ops).
  Result<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  Result<etcdserverpb::CompactionResponse> Compact(std::int64_t revision, bool physical = false);

  // id 0 lets the server choose the lease ID.
  Result<etcdserverpb::LeaseGrantResponse> LeaseGrant(std::int64_t ttl_seconds,
                                                      std::int64_t id = 0);
  Result<etcdserverpb::LeaseRevokeResponse> LeaseRevoke(std::int64_t id);
  // One round trip on a LeaseKeepAlive stream. A lease the server does not know
  // (TTL <= 0 in the answer) returns NotFound, as etcd's own client does.
  Result<etcdserverpb::LeaseKeepAliveResponse> LeaseKeepAliveOnce(std::int64_t id);
  Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLive(std::int64_t id,
                                                                bool with_keys = false);
  Result<etcdserverpb::LeaseLeasesResponse> LeaseLeases();

  Result<etcdserverpb::MemberListResponse> MemberList();
  // Membership changes (client_members.cc); writes: not retried elsewhere.
  Result<etcdserverpb::MemberAddResponse> MemberAdd(const std::vector<std::string>& peer_urls,
                                                    bool learner);
  Result<etcdserverpb::MemberRemoveResponse> MemberRemove(std::uint64_t id);
  Result<etcdserverpb::MemberUpdateResponse> MemberUpdate(
      std::uint64_t id, const std::vector<std::string>& peer_urls);
  Result<etcdserverpb::MemberPromoteResponse> MemberPromote(std::uint64_t id);
  // Maintenance.MoveLeader on the current endpoint (it must be the leader).
  Result<etcdserverpb::MoveLeaderResponse> MoveLeader(std::uint64_t target_id);
  // Maintenance.Status of the endpoint that answers.
  Result<etcdserverpb::StatusResponse> EndpointStatus();

  // The endpoint the next call starts with.
  std::string current_endpoint() const;

 private:
  struct Conn;
  // One attempt: fills the response and returns the gRPC status.
  using Attempt = std::function<grpc::Status(Conn&, grpc::ClientContext&)>;

  explicit Client(ClientOptions options);
  Status Call(bool read_only, const Attempt& attempt);

  ClientOptions options_;
  std::vector<std::unique_ptr<Conn>> conns_;  // one per endpoint, same order
  std::atomic<std::size_t> current_{0};       // index into conns_
};

}  // namespace aspen::client
