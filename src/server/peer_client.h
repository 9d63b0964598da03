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
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "aspen/peer/v1/peer.grpc.pb.h"
#include "base/limits.h"

namespace aspen::server {

class PeerClient {
 public:
  PeerClient(std::uint64_t cluster_id, std::chrono::milliseconds timeout,
             std::size_t max_async_calls = limits::kMaxForwardedLeaseCalls)
      : cluster_id_(cluster_id), timeout_(timeout), max_async_calls_(max_async_calls) {}
  // Stop: a callback still running when the client goes must not outlive it.
  ~PeerClient() { Stop(); }
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // `target` is "host:port".
  grpc::Status Member(const std::string& target, peer::v1::MemberInfo* reply);

  // The lease calls without holding a thread while the leader answers (it
  // may wait: an expired lease's revocation, its lease takeover). `done` runs
  // exactly once, on a gRPC thread, with the leader's answer (or UNAVAILABLE
  // "etcdserver: request timed out ..." when it cannot be reached);
  // inline with "etcdserver: too many requests" beyond kMaxForwardedLeaseCalls
  // (max_async_calls) in flight, or "etcdserver: server stopped" after Stop
  // (also what a call that Stop cancels gets).
  using LeaseDone = std::function<void(const grpc::Status&, const peer::v1::LeaseReply&)>;
  void LeaseKeepAliveAsync(const std::string& target, std::int64_t id, LeaseDone done);
  void LeaseTimeToLiveAsync(const std::string& target, std::int64_t id, LeaseDone done);
  // Cancels the asynchronous calls in flight and returns once each `done`
  // has returned; later calls are answered at once.
  void Stop();
  // Asks the leader at `target` to promote learner `id` (etcd's errors).
  grpc::Status MemberPromote(const std::string& target, std::uint64_t id);

 private:
  struct AsyncLeaseCall;
  enum class LeaseMethod { kKeepAlive, kTimeToLive };
  void StartLeaseCall(LeaseMethod method, const std::string& target, std::int64_t id,
                      LeaseDone done);
  peer::v1::Peer::Stub* Stub(const std::string& target);
  void SetDeadline(grpc::ClientContext* ctx) const;
  static grpc::Status Unreachable(const std::string& target, const grpc::Status& s);

  const std::uint64_t cluster_id_;
  const std::chrono::milliseconds timeout_;
  const std::size_t max_async_calls_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<peer::v1::Peer::Stub>> stubs_;  // guarded by mu_
  std::condition_variable async_idle_;
  std::set<AsyncLeaseCall*> async_calls_;  // guarded by mu_: started, `done` not yet returned
  bool stopped_ = false;                   // guarded by mu_
};

// "host:port" from an etcd-style URL ("http://host:port"), or from the first
// of a comma-separated list; "" when it has no http scheme or no port.
std::string UrlToTarget(const std::string& urls);

// Peer.Cluster on the member at `target` (a joining member asks it for the
// cluster id and the address book).
grpc::Status FetchClusterInfo(const std::string& target, std::chrono::milliseconds timeout,
                              peer::v1::ClusterInfo* reply);

}  // namespace aspen::server
