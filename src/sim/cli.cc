#include "sim/cli.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>

#include "sim/simulation.h"

namespace aspen::sim {
namespace {

Result<std::uint64_t> ParseU64(std::string_view s, const char* what) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(s) +
                                   "' is not a decimal number in [0, 2^64)");
  }
  return v;
}

// Upper bound on seeds per invocation, so a typo cannot start a run of years.
constexpr std::uint64_t kMaxSeedsPerRun = 100'000'000;

// The command line that replays `seed` with the same base options.
std::string ReproduceCommand(const SimOptions& base, std::uint64_t seed) {
  const SimOptions defaults;
  std::string cmd = "aspen-sim --seed " + std::to_string(seed);
  if (base.nodes != 0) cmd += " --nodes " + std::to_string(base.nodes);
  if (base.safety_ms != defaults.safety_ms) cmd += " --safety-ms " + std::to_string(base.safety_ms);
  if (base.liveness_ms != defaults.liveness_ms) {
    cmd += " --liveness-ms " + std::to_string(base.liveness_ms);
  }
  if (base.lin_states != defaults.lin_states) {
    cmd += " --lin-states " + std::to_string(base.lin_states);
  }
  if (base.runtime == Runtime::kRaw) cmd += " --runtime raw";
  if (base.bug == SimBug::kSkipSync) cmd += " --bug skip-sync";
  if (base.bug == SimBug::kRaftVoteWithoutLogCheck) cmd += " --bug vote-without-log-check";
  if (base.bug == SimBug::kStaleRead) cmd += " --bug stale-read";
  if (base.bug == SimBug::kSnapshotDropKv) cmd += " --bug snapshot-drop-kv";
  if (IsLeaseBug(base.bug)) cmd += " --bug " + LeaseBugName(base.bug);
  return cmd + " --trace";
}

}  // namespace

Result<SeedRange> ParseSeedRange(const std::string& text) {
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos) {
    return Status::InvalidArgument("--seeds expects A..B (e.g. 1..1000), got '" + text + "'");
  }
  auto a = ParseU64(std::string_view(text).substr(0, dots), "first seed");
  if (!a.ok()) return a.status();
  auto b = ParseU64(std::string_view(text).substr(dots + 2), "last seed");
  if (!b.ok()) return b.status();
  if (*a > *b) return Status::InvalidArgument("--seeds " + text + ": first seed is after the last");
  if (*b - *a >= kMaxSeedsPerRun) {
    return Status::InvalidArgument("--seeds " + text + ": more than " +
                                   std::to_string(kMaxSeedsPerRun) + " seeds in one run");
  }
  return SeedRange{*a, *b};
}

Result<SimBug> ParseBug(const std::string& text) {
  if (text == "none") return SimBug::kNone;
  if (text == "skip-sync") return SimBug::kSkipSync;
  if (text == "vote-without-log-check") return SimBug::kRaftVoteWithoutLogCheck;
  if (text == "stale-read") return SimBug::kStaleRead;
  if (text == "snapshot-drop-kv") return SimBug::kSnapshotDropKv;
  for (SimBug b : {SimBug::kRevokeKeepsAKey, SimBug::kRevokeKeepsLeaseRow, SimBug::kFastLeaseClock,
                   SimBug::kSnapshotDropIdleLeases, SimBug::kRevokeAckedBeforeApplied}) {
    if (text == LeaseBugName(b)) return b;
  }
  return Status::InvalidArgument(
      "--bug '" + text +
      "' is not one of none, skip-sync, vote-without-log-check, stale-read, "
      "snapshot-drop-kv, revoke-keeps-a-key, revoke-keeps-lease-row, fast-lease-clock, "
      "snapshot-drop-idle-leases, revoke-acked-before-applied");
}

Result<Runtime> ParseRuntime(const std::string& text) {
  if (text == "node") return Runtime::kNode;
  if (text == "raw") return Runtime::kRaw;
  return Status::InvalidArgument("--runtime '" + text + "' is not one of node, raw");
}

std::uint64_t RunSeeds(const SimOptions& base, SeedRange range, bool quiet, std::ostream& out) {
  std::uint64_t failed = 0;
  std::uint64_t ok_ops = 0;
  RunStats total;
  for (std::uint64_t seed = range.first;; ++seed) {
    SimOptions o = base;
    o.seed = seed;
    Simulation sim(o);
    const RunResult r = sim.Run();
    ok_ops += r.stats.ops_ok;
    total.compactions += r.stats.compactions;
    total.snapshots_sent += r.stats.snapshots_sent;
    total.snapshots_installed += r.stats.snapshots_installed;
    total.snapshots_failed += r.stats.snapshots_failed;
    total.lease_grants += r.stats.lease_grants;
    total.lease_revokes += r.stats.lease_revokes;
    total.lease_expiries += r.stats.lease_expiries;
    total.lease_keepalives += r.stats.lease_keepalives;
    total.lease_keepalives_waited += r.stats.lease_keepalives_waited;
    total.lease_refused_puts += r.stats.lease_refused_puts;
    const bool show_trace = base.trace && (!r.ok || range.first == range.last);
    if (show_trace) {
      for (const std::string& line : sim.trace().lines()) out << line << "\n";
    }
    if (!r.ok) {
      ++failed;
      out << "seed " << seed << " FAILED: " << r.failure
          << "\n  options: " << DescribeOptions(r.options)
          << "\n  reproduce: " << ReproduceCommand(base, seed) << "\n";
    } else if (!quiet) {
      const RunStats& s = r.stats;
      out << "seed " << seed << " ok: nodes=" << r.options.nodes << " ops=" << s.ops_ok
          << " unknown=" << s.ops_unknown << " leaders=" << s.leaders
          << " committed=" << s.committed << " crashes=" << s.crashes
          << " partitions=" << s.partitions << " conf_changes=" << s.conf_changes
          << " compactions=" << s.compactions << " snapshots=" << s.snapshots
          << " snap_sent=" << s.snapshots_sent << " snap_installed=" << s.snapshots_installed
          << " snap_failed=" << s.snapshots_failed << " grants=" << s.lease_grants
          << " revokes=" << s.lease_revokes << " expiries=" << s.lease_expiries
          << " keepalives=" << s.lease_keepalives
          << " keepalives_waited=" << s.lease_keepalives_waited
          << " lease_refused_puts=" << s.lease_refused_puts << " messages=" << s.messages
          << " max_in_flight=" << s.max_in_flight << " lin_states=" << s.lin_states
          << " end=" << s.end_ms << "ms\n";
    }
    if (seed == range.last) break;
  }
  out << (range.last - range.first + 1) << " seeds, " << failed << " failed, " << ok_ops
      << " client operations completed; " << total.compactions << " log compactions, "
      << total.snapshots_sent << " snapshots sent, " << total.snapshots_installed << " installed, "
      << total.snapshots_failed << " failed; leases: " << total.lease_grants << " granted, "
      << total.lease_revokes << " revoked, " << total.lease_expiries << " expired, "
      << total.lease_keepalives << " keep-alives (" << total.lease_keepalives_waited
      << " answered after a wait), " << total.lease_refused_puts
      << " puts refused (lease not found)\n";
  return failed;
}

int SimMain(int argc, char** argv) {
  CLI::App app{"aspen-sim: deterministic simulation of an Aspen cluster (docs/SIMULATOR.md)"};
  std::optional<std::uint64_t> seed;
  std::string seeds;
  std::string bug = "none";
  std::string runtime = "node";
  bool quiet = false;
  SimOptions base;
  base.nodes = 0;
  app.add_option("--seed", seed, "run one seed");
  app.add_option("--seeds", seeds, "run seeds A..B (inclusive)");
  app.add_flag("--trace", base.trace, "print the trace of the run (of failing runs with --seeds)");
  app.add_flag("--quiet", quiet, "print only failures and the summary");
  app.add_option("--nodes", base.nodes, "voters at start: 3 or 5 (default: drawn per seed)")
      ->check(CLI::IsMember({3, 5}));
  app.add_option("--safety-ms", base.safety_ms, "simulated ms of the safety phase")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--liveness-ms", base.liveness_ms, "bound of the liveness phase (simulated ms)")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--lin-states", base.lin_states, "linearizability search bound per key")
      ->check(CLI::Range(1, 100'000'000));
  app.add_option("--runtime", runtime,
                 "node: each replica is node::Node (default); raw: the simulator's own Ready "
                 "loop around raft::RawNode (adds log compaction and snapshots)");
  app.add_option("--bug", bug, "inject a known bug (proof the checkers catch it)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  SeedRange range;
  if (seed.has_value() == !seeds.empty()) {
    std::cerr << "aspen-sim: give exactly one of --seed N or --seeds A..B\n";
    return 2;
  }
  if (seed) {
    range = SeedRange{*seed, *seed};
  } else {
    auto r = ParseSeedRange(seeds);
    if (!r.ok()) {
      std::cerr << "aspen-sim: " << r.status().message() << "\n";
      return 2;
    }
    range = *r;
  }
  auto b = ParseBug(bug);
  if (!b.ok()) {
    std::cerr << "aspen-sim: " << b.status().message() << "\n";
    return 2;
  }
  base.bug = *b;
  auto rt = ParseRuntime(runtime);
  if (!rt.ok()) {
    std::cerr << "aspen-sim: " << rt.status().message() << "\n";
    return 2;
  }
  base.runtime = *rt;
  if ((base.bug == SimBug::kStaleRead || base.bug == SimBug::kSnapshotDropKv ||
       IsLeaseBug(base.bug)) &&
      base.runtime != Runtime::kNode) {
    std::cerr << "aspen-sim: --bug " << bug << " needs --runtime node\n";
    return 2;
  }
  return RunSeeds(base, range, quiet, std::cout) == 0 ? 0 : 1;
}

}  // namespace aspen::sim
