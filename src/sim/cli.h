// The command line of aspen-sim, separated from main() so tests can drive it.
//
//   aspen-sim --seed N [--trace]       one seed; --trace prints the run's trace
//   aspen-sim --seeds A..B             seeds A to B inclusive
//   options: --nodes 3|5 (default: each seed draws 3 or 5), --safety-ms,
//            --liveness-ms, --lin-states, --runtime node|raw (default node),
//            --bug NAME, --quiet
//
// Exit status: 0 when every seed passed, 1 when one failed (each failure is
// printed with its seed and drawn options), 2 for a usage error.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "base/status.h"
#include "sim/options.h"

namespace aspen::sim {

struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

// "A..B" with A <= B, both decimal. InvalidArgument naming the problem.
Result<SeedRange> ParseSeedRange(const std::string& text);
// "none", "skip-sync", "vote-without-log-check", "stale-read".
Result<SimBug> ParseBug(const std::string& text);
// "node", "raw".
Result<Runtime> ParseRuntime(const std::string& text);

// Runs seeds [range.first, range.last] with `base` (seed overwritten per
// run); prints failures (with the trace when base.trace) and a summary to
// `out`. Answers the number of failing seeds.
std::uint64_t RunSeeds(const SimOptions& base, SeedRange range, bool quiet, std::ostream& out);

// main() of aspen-sim.
int SimMain(int argc, char** argv);

}  // namespace aspen::sim
