// Server-side metrics and their Prometheus text rendering (GET /metrics).
//
// RequestMetrics counts client requests by gRPC method and answer code and
// keeps one latency histogram per method; proposal counters follow etcd's
// etcd_server_proposals_{committed,failed,pending}. The node's raft and
// apply state come from node::NodeStatus at render time.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <grpcpp/support/status.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "node/node.h"
#include "server/peer_service.h"
#include "server/peer_transport.h"

namespace aspen::server {

// Upper bounds (seconds) of the latency buckets, plus +Inf.
inline constexpr std::array<double, 12> kLatencyBucketsS = {
    0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024};

class RequestMetrics {
 public:
  // One answered request. `method` is the gRPC method name ("Range", "Put", ...).
  void Record(std::string_view method, grpc::StatusCode code, std::chrono::nanoseconds latency);

  // A proposal was submitted; then exactly one of ProposalDone(true/false).
  void ProposalStarted() { ++proposals_pending_; }
  // committed: the command was applied (even when it failed deterministically,
  // e.g. "lease not found", as etcd counts it); false: it was refused, timed
  // out or its outcome is unknown.
  void ProposalDone(bool committed);

  std::uint64_t proposals_committed() const { return proposals_committed_; }
  std::uint64_t proposals_failed() const { return proposals_failed_; }
  std::int64_t proposals_pending() const { return proposals_pending_; }
  std::uint64_t Count(std::string_view method, grpc::StatusCode code) const;

  // Appends the request and proposal series in Prometheus text format.
  void Render(std::string* out) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBucketsS.size() + 1> buckets{};  // last: +Inf
    std::uint64_t count = 0;
    double sum_s = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t, std::less<>> counts_;  // guarded by mu_
  std::map<std::string, Histogram, std::less<>> latency_;                     // guarded by mu_
  std::atomic<std::uint64_t> proposals_committed_{0};
  std::atomic<std::uint64_t> proposals_failed_{0};
  std::atomic<std::int64_t> proposals_pending_{0};
};

// Everything /metrics shows. Pointers may be null (that part is left out).
struct MetricsSources {
  const node::NodeStatus* status = nullptr;
  const RequestMetrics* requests = nullptr;
  const PeerTransportStats* transport = nullptr;
  const PeerServiceStats* peer_service = nullptr;
};
std::string RenderMetrics(const MetricsSources& sources);

}  // namespace aspen::server
