#include "client/bench/workload.h"

#include <array>
#include <cmath>

#include "base/limits.h"

namespace aspen::client::bench {

namespace {

constexpr std::array<std::pair<Workload, std::string_view>, 6> kNames = {{
    {Workload::kPut, "put"},
    {Workload::kGet, "get"},
    {Workload::kRange, "range"},
    {Workload::kTxnCas, "txn-cas"},
    {Workload::kMixed, "mixed"},
    {Workload::kLeasePut, "lease-put"},
}};

// Decimal digits needed to write every index below keys.
std::size_t DigitsFor(std::uint64_t keys) {
  std::size_t digits = 1;
  for (std::uint64_t max = keys - 1; max >= 10; max /= 10) ++digits;
  return digits;
}

}  // namespace

std::string_view WorkloadName(Workload workload) {
  for (const auto& [w, name] : kNames) {
    if (w == workload) return name;
  }
  ASPEN_ASSERT_MSG(false, "workload without a name");
  return "";
}

std::optional<Workload> ParseWorkload(std::string_view name) {
  for (const auto& [w, n] : kNames) {
    if (n == name) return w;
  }
  return std::nullopt;
}

Status Validate(const BenchConfig& c) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  if (c.endpoints.empty()) return bad("--endpoints: at least one endpoint is needed");
  if (c.clients < 1 || c.clients > kMaxClients) {
    return bad("--clients must be in [1, " + std::to_string(kMaxClients) + "]");
  }
  if (c.conns < 1 || c.conns > kMaxConns || c.conns > c.clients) {
    return bad("--conns must be in [1, min(--clients, " + std::to_string(kMaxConns) + ")]");
  }
  if (c.threads < 1 || c.threads > kMaxThreads) {
    return bad("--threads must be in [1, " + std::to_string(kMaxThreads) + "]");
  }
  if (c.keys < 1) return bad("--keys must be at least 1");
  if (c.key_size < 1 || c.key_size > limits::kMaxKeyBytes) {
    return bad("--key-size must be in [1, " + std::to_string(limits::kMaxKeyBytes) +
               "] (the key size limit)");
  }
  if (c.key_size < DigitsFor(c.keys)) {
    return bad("--key-size " + std::to_string(c.key_size) + " is too small for --keys " +
               std::to_string(c.keys) + ": keys need " + std::to_string(DigitsFor(c.keys)) +
               " digits");
  }
  if (c.workload == Workload::kRange && c.key_size < 3) {
    return bad("--key-size must be at least 3 for the range workload");
  }
  if (c.value_size > limits::kMaxValueBytes) {
    return bad("--value-size must be at most " + std::to_string(limits::kMaxValueBytes) +
               " (the value size limit)");
  }
  const bool by_total = c.total > 0;
  const bool by_duration = c.duration_s > 0;
  if (by_total == by_duration) return bad("give exactly one of --total and --duration");
  if (c.total > kMaxTotalOps) return bad("--total must be at most 10^12");
  if (!(c.duration_s >= 0) || c.duration_s > kMaxDurationSeconds) {
    return bad("--duration must be in (0, 86400] seconds");
  }
  if (!(c.rate >= 0) || std::isinf(c.rate)) return bad("--rate must be >= 0 (0 = closed loop)");
  if (!(c.read_ratio >= 0 && c.read_ratio <= 1)) return bad("--read-ratio must be in [0, 1]");
  if (c.lease_ttl_s < 1) return bad("--lease-ttl must be at least 1 second");
  if (c.dial_timeout.count() <= 0 || c.request_timeout.count() <= 0) {
    return bad("timeouts must be positive");
  }
  return Status::Ok();
}

std::string MakeKey(std::uint64_t index, std::size_t key_size) {
  std::string key(key_size, '0');
  for (std::size_t i = key_size; i > 0 && index > 0; --i) {
    key[i - 1] = static_cast<char>('0' + index % 10);
    index /= 10;
  }
  ASPEN_ASSERT_MSG(index == 0, "key index does not fit in key_size digits");
  return key;
}

std::string MakeRangePrefix(std::uint64_t group, std::size_t key_size) {
  ASPEN_ASSERT(key_size >= 3);
  std::string key = MakeKey(group * kKeysPerRange, key_size);
  key.resize(key_size - 2);
  return key;
}

std::uint64_t RangeGroups(std::uint64_t keys) {
  ASPEN_ASSERT(keys >= 1);
  return keys / kKeysPerRange + (keys % kKeysPerRange != 0 ? 1 : 0);
}

std::string MakeValue(std::size_t value_size, std::uint64_t seed) {
  std::string value(value_size, 'v');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (char& ch : value) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ch = static_cast<char>('a' + x % 26);
  }
  return value;
}

}  // namespace aspen::client::bench
