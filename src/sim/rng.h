// Rng: the one pseudo-random generator of a simulation run (splitmix64).
//
// Every random choice of aspen-sim (fault rates, latencies, client operations,
// crash times) is drawn from a single Rng seeded with the run's seed, in a
// fixed order, so a seed replays exactly. Raft's own election jitter is seeded
// from this Rng too (raft::Config::rand_seed).
//
// Thread safety: none (the simulator is single-threaded by design).
#pragma once

#include <cstdint>

#include "base/assert.h"

namespace aspen::sim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). Requires n > 0.
  std::uint64_t Uniform(std::uint64_t n) {
    ASPEN_ASSERT(n > 0);
    return Next() % n;
  }
  // Uniform in [lo, hi]. Requires lo <= hi.
  std::int64_t Range(std::int64_t lo, std::int64_t hi) {
    ASPEN_ASSERT(lo <= hi);
    return lo + static_cast<std::int64_t>(Uniform(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  // True with probability p (clamped to [0, 1]).
  bool Chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
  }
  // Uniform real in [lo, hi).
  double Real(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(Next() >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t state_;
};

}  // namespace aspen::sim
