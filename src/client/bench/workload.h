// `aspen bench` configuration and the key/value shapes of each workload.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace aspen::client::bench {

enum class Workload {
  kPut,       // Put of a random key
  kGet,       // Range of one random key
  kRange,     // Range over a prefix holding 100 keys
  kTxnCas,    // Txn: if mod_revision(key) == last seen then Put else Range
  kMixed,     // Range with probability read_ratio, else Put
  kLeasePut,  // LeaseGrant, then Put of a random key with that lease
};

// "put", "get", "range", "txn-cas", "mixed", "lease-put".
std::string_view WorkloadName(Workload workload);
std::optional<Workload> ParseWorkload(std::string_view name);

// Bounds on every parameter (validated by Validate, named in its errors).
inline constexpr int kMaxClients = 10'000;
inline constexpr int kMaxConns = 1'000;
inline constexpr int kMaxThreads = 16;
inline constexpr std::uint64_t kMaxTotalOps = 1'000'000'000'000;
inline constexpr double kMaxDurationSeconds = 86'400;
inline constexpr int kKeysPerRange = 100;  // keys under one prefix in the range workload

struct BenchConfig {
  std::vector<std::string> endpoints;  // gRPC targets; connection i uses endpoint i % size
  Workload workload = Workload::kPut;
  int clients = 1;                // concurrent requests in flight (one per client)
  int conns = 1;                  // gRPC connections; clients are spread over them
  int threads = 2;                // completion-queue polling threads (capped at clients)
  std::size_t key_size = 8;       // bytes; keys are zero-padded decimal indexes
  std::size_t value_size = 8;     // bytes
  std::uint64_t keys = 100'000;   // key space: indexes [0, keys)
  std::uint64_t total = 0;        // stop after this many ops; 0 = use duration
  double duration_s = 0;          // stop after this long; used when total == 0
  double rate = 0;                // ops/s over all clients (open loop); 0 = closed loop
  bool serializable = false;      // reads: serializable instead of linearizable
  double read_ratio = 0.5;        // mixed: fraction of reads
  std::int64_t lease_ttl_s = 30;  // lease-put: TTL of each granted lease
  bool prefill = false;           // put every key once before measuring
  std::chrono::milliseconds dial_timeout{5000};      // per connection, before the run
  std::chrono::milliseconds request_timeout{10000};  // deadline of each RPC
  std::uint64_t seed = 1;                            // key choice is reproducible per seed
};

// InvalidArgument naming the first parameter out of its bounds: clients in
// [1, kMaxClients], conns in [1, min(clients, kMaxConns)], key_size in
// [1, limits::kMaxKeyBytes] and large enough for keys (and >= 3 for range),
// value_size <= limits::kMaxValueBytes, keys >= 1, exactly one of total/duration,
// rate >= 0, read_ratio in [0, 1], lease_ttl_s >= 1, endpoints non-empty.
Status Validate(const BenchConfig& config);

// Key number `index` (< keys) as key_size zero-padded decimal digits.
std::string MakeKey(std::uint64_t index, std::size_t key_size);
// The prefix shared by the kKeysPerRange keys of group `group` (key_size - 2
// digits): keys group*100 .. group*100+99.
std::string MakeRangePrefix(std::uint64_t group, std::size_t key_size);
// The number of prefix groups covering key indexes [0, keys): ceil(keys / 100),
// computed without overflow for every keys >= 1.
std::uint64_t RangeGroups(std::uint64_t keys);
// A value of value_size printable bytes.
std::string MakeValue(std::size_t value_size, std::uint64_t seed);

}  // namespace aspen::client::bench
