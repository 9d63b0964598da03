// `aspen bench`: load generator over the etcd v3 API (see docs/BENCH.md).
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "client/bench/report.h"
#include "client/bench/runner.h"

namespace aspen::cli {

namespace {

struct BenchFlags {
  ClientFlags common;
  std::string workload = "put";
  std::string consistency = "l";
  client::bench::BenchConfig config;
};

// Exit codes: 0 all ops succeeded, 1 bad flags, 2 could not connect or
// prefill, 3 the run finished but some ops failed.
int RunBenchCommand(BenchFlags& flags) {
  namespace bench = client::bench;
  bench::BenchConfig& config = flags.config;
  Result<client::ClientOptions> options = OptionsFrom(flags.common);
  if (!options.ok()) return UsageError("bench", options.status().message());
  config.endpoints = std::move(options->endpoints);
  config.dial_timeout = options->dial_timeout;
  config.request_timeout = options->call_timeout;
  const std::optional<bench::Workload> workload = bench::ParseWorkload(flags.workload);
  ASPEN_ASSERT(workload.has_value());  // CLI11 already checked membership
  config.workload = *workload;
  config.serializable = flags.consistency == "s" || flags.consistency == "serializable";
  if (config.total == 0 && config.duration_s == 0) config.duration_s = 10;
  if (Status valid = bench::Validate(config); !valid.ok()) {
    std::cerr << "aspen bench: " << valid.message() << "\n";
    return 1;
  }
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  bench::ProgressFn progress;
  if (tty) {
    progress = [](double elapsed_s, std::uint64_t ops, std::uint64_t errors) {
      std::cerr << "\r" << bench::ProgressLine(elapsed_s, ops, errors) << "\033[K" << std::flush;
    };
  }
  Result<bench::BenchResult> result = bench::RunBench(config, progress);
  if (tty) std::cerr << "\r\033[K" << std::flush;
  if (!result.ok()) {
    std::cerr << "aspen bench: " << result.status().ToString() << "\n";
    return 2;
  }
  if (flags.common.json()) {
    std::cout << bench::ReportJson(config, *result) << "\n";
  } else {
    std::cout << bench::ReportTable(config, *result);
  }
  return result->errors == 0 ? 0 : 3;
}

}  // namespace

void RegisterBenchCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<BenchFlags>();
  client::bench::BenchConfig& c = flags->config;
  CLI::App* cmd = app.add_subcommand(
      "bench", "Load generator over the etcd v3 API (works against etcd and Aspen)");
  // A load run waits longer for its connections and replies than one request.
  flags->common.dial_timeout = "5s";
  flags->common.command_timeout = "10s";
  AddClientFlags(cmd, flags->common);
  cmd->add_option("--workload", flags->workload, "put|get|range|txn-cas|mixed|lease-put")
      ->check(CLI::IsMember({"put", "get", "range", "txn-cas", "mixed", "lease-put"}))
      ->capture_default_str();
  cmd->add_option("--clients", c.clients, "Concurrent requests in flight")->capture_default_str();
  cmd->add_option("--conns", c.conns, "gRPC connections shared by the clients")
      ->capture_default_str();
  cmd->add_option("--threads", c.threads, "Completion-queue polling threads")
      ->capture_default_str();
  cmd->add_option("--key-size", c.key_size, "Key size in bytes")->capture_default_str();
  cmd->add_option("--value-size", c.value_size, "Value size in bytes")->capture_default_str();
  cmd->add_option("--keys", c.keys, "Key space (distinct keys)")->capture_default_str();
  cmd->add_option("--total", c.total, "Stop after this many ops");
  cmd->add_option("--duration", c.duration_s, "Stop after this many seconds (default 10)");
  cmd->add_option("--rate", c.rate, "Target ops/s, open loop; 0 = closed loop")
      ->capture_default_str();
  cmd->add_option("--consistency", flags->consistency, "Reads: l (linearizable) or s")
      ->check(CLI::IsMember({"l", "s", "linearizable", "serializable"}))
      ->capture_default_str();
  cmd->add_option("--read-ratio", c.read_ratio, "mixed: fraction of reads")->capture_default_str();
  cmd->add_option("--lease-ttl", c.lease_ttl_s, "lease-put: lease TTL in seconds")
      ->capture_default_str();
  cmd->add_flag("--prefill", c.prefill, "Put every key once before measuring");
  cmd->add_option("--seed", c.seed, "Seed of the key choice")->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunBenchCommand(*flags); });
}

}  // namespace aspen::cli
