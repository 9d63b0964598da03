// The `aspen bench` load generator: drives a workload against etcd v3 API
// endpoints with gRPC's asynchronous API.
//
// Design: `clients` logical clients, each with at most one request in flight,
// spread round-robin over `conns` gRPC connections (each its own TCP
// connection) and over `threads` completion queues, one polling thread each.
// Closed loop (rate 0): a client sends its next request as soon as the previous
// one completes. Open loop (rate > 0): client k is scheduled to start request n
// at start + (n * clients + k) / rate; latency is measured from that scheduled
// time, not from the actual send, so a slow server cannot hide its queueing
// delay (no coordinated omission). Latencies go into per-thread histograms
// merged at the end; nothing is locked on the hot path.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "base/status.h"
#include "client/bench/histogram.h"
#include "client/bench/workload.h"

namespace aspen::client::bench {

struct BenchResult {
  Histogram latency_ns;      // successful ops only
  std::uint64_t ops = 0;     // successful ops
  std::uint64_t errors = 0;  // failed ops (each counted once, by its gRPC code)
  std::map<std::string, std::uint64_t> errors_by_code;  // "UNAVAILABLE" -> count
  std::map<std::string, std::string> first_error;       // code -> first message seen
  double elapsed_s = 0;             // from the first send to the last completion
  std::uint64_t txn_succeeded = 0;  // txn-cas: compare held
  std::uint64_t txn_failed = 0;     // txn-cas: compare failed (not an error)
};

// Called about once per second from the thread running RunBench.
using ProgressFn = std::function<void(double elapsed_s, std::uint64_t ops, std::uint64_t errors)>;

// Runs config (validated first; InvalidArgument when invalid). Connects every
// connection within dial_timeout first (Unavailable naming the endpoint
// otherwise). With prefill, first puts every key once (not measured; an error
// there aborts the run with that error). Then runs until total ops have been
// started and completed, or until duration has passed and the requests in
// flight completed (each bounded by request_timeout). Request failures are
// counted in the result, not returned as a Status.
Result<BenchResult> RunBench(const BenchConfig& config, const ProgressFn& progress);

}  // namespace aspen::client::bench
