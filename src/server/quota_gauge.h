// QuotaGauge: what the NOSPACE quota check (maintenance_quota.cc) compares
// with --quota-backend-bytes, without measuring the state on every write.
//
// Measuring (RocksStore::StateBytes: a RocksDB property and a memtable
// estimate, i.e. skip-list searches, per state column family) cost about 5%
// of the server's CPU per put when every write did it. The gauge keeps the
// last reading and counts the bytes of the writes it let through since; a
// write is judged on
//     reading + kGrowthPerByte * admitted bytes + its own cost
// and the state is measured again when the reading is older than kMaxAgeMs
// or when that estimate would exceed the quota. So a write the estimate
// would refuse is always judged on a fresh reading, exactly as before; what
// a reused reading can miss is growth the estimate does not count (writes
// applied from other members, more than kGrowthPerByte bytes of state per
// byte admitted), for at most kMaxAgeMs.
//
// Thread safety: Allows may be called from any thread (one mutex; the
// measurement runs under it, so concurrent writes wait for one reading).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>

#include "base/status.h"

namespace aspen::server {

class QuotaGauge {
 public:
  // A reading is reused for at most this long.
  static constexpr std::int64_t kMaxAgeMs = 100;
  // State bytes assumed per byte of an admitted write: a put stores its value
  // twice (the kv row and the history event) plus keys and index rows.
  static constexpr std::uint64_t kGrowthPerByte = 4;

  using Measure = std::function<Result<std::uint64_t>()>;

  // True when a write of `cost` bytes fits under `quota` bytes. A failed
  // measurement lets the write through (the write path reports storage
  // faults itself) and is not kept.
  bool Allows(std::uint64_t cost, std::uint64_t quota, std::int64_t now_ms,
              const Measure& measure) {
    std::lock_guard lock(mu_);
    std::uint64_t estimate = Estimate(cost);
    if (!have_ || now_ms - read_at_ms_ >= kMaxAgeMs || now_ms < read_at_ms_ || estimate > quota) {
      Result<std::uint64_t> used = measure();
      ++measurements_;
      if (!used.ok()) {
        have_ = false;
        return true;
      }
      have_ = true;
      reading_ = *used;
      read_at_ms_ = now_ms;
      admitted_ = 0;
      estimate = Estimate(cost);
    }
    if (estimate > quota) return false;
    admitted_ = Add(admitted_, cost);
    return true;
  }

  // How many times Allows measured the state (for tests).
  std::uint64_t measurements() const {
    std::lock_guard lock(mu_);
    return measurements_;
  }

 private:
  static std::uint64_t Add(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b
               ? std::numeric_limits<std::uint64_t>::max()
               : a + b;
  }
  std::uint64_t Estimate(std::uint64_t cost) const {
    const std::uint64_t growth =
        admitted_ > std::numeric_limits<std::uint64_t>::max() / kGrowthPerByte
            ? std::numeric_limits<std::uint64_t>::max()
            : admitted_ * kGrowthPerByte;
    return Add(Add(reading_, growth), cost);
  }

  mutable std::mutex mu_;
  bool have_ = false;
  std::uint64_t reading_ = 0;
  std::int64_t read_at_ms_ = 0;
  std::uint64_t admitted_ = 0;
  std::uint64_t measurements_ = 0;
};

}  // namespace aspen::server
