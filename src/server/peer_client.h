// PeerClient: the unary calls one member makes on another's peer port: lease
// calls forwarded to the leader and Member (name and URLs for MemberList).
//
// Every call is bounded by `timeout` (connect included). Results are gRPC
// statuses as the remote answered them (etcd's errors pass through
// unchanged); UNAVAILABLE "etcdserver: request timed out ..." when the member
// cannot be reached. Thread-safe: channels are cached per target under a lock.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "aspen/peer/v1/peer.grpc.pb.h"

namespace aspen::server {

class PeerClient {
 public:
  PeerClient(std::uint64_t cluster_id, std::chrono::milliseconds timeout)
      : cluster_id_(cluster_id), timeout_(timeout) {}

  // `target` is "host:port".
  grpc::Status LeaseKeepAlive(const std::string& target, std::int64_t id,
                              peer::v1::LeaseReply* reply);
  grpc::Status LeaseTimeToLive(const std::string& target, std::int64_t id,
                               peer::v1::LeaseReply* reply);
  grpc::Status Member(const std::string& target, peer::v1::MemberInfo* reply);
  // Asks the leader at `target` to promote learner `id` (etcd's errors).
  grpc::Status MemberPromote(const std::string& target, std::uint64_t id);

 private:
  peer::v1::Peer::Stub* Stub(const std::string& target);
  void SetDeadline(grpc::ClientContext* ctx) const;
  static grpc::Status Unreachable(const std::string& target, const grpc::Status& s);

  const std::uint64_t cluster_id_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<peer::v1::Peer::Stub>> stubs_;  // guarded by mu_
};

// "host:port" from an etcd-style URL ("http://host:port"), or from the first
// of a comma-separated list; "" when it has no http scheme or no port.
std::string UrlToTarget(const std::string& urls);

// Peer.Cluster on the member at `target` (a joining member asks it for the
// cluster id and the address book).
grpc::Status FetchClusterInfo(const std::string& target, std::chrono::milliseconds timeout,
                              peer::v1::ClusterInfo* reply);

}  // namespace aspen::server
