// `aspen bench`: load generator over the etcd v3 API (see docs/BENCH.md).
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "client/bench/report.h"
#include "client/bench/runner.h"
#include "client/endpoints.h"

namespace aspen::cli {

namespace {

struct BenchFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::string workload = "put";
  std::string consistency = "l";
  std::string output = "table";
  std::int64_t timeout_ms = 10'000;
  client::bench::BenchConfig config;
};

// Exit codes: 0 all ops succeeded, 1 bad flags, 2 could not connect or
// prefill, 3 the run finished but some ops failed.
int RunBenchCommand(BenchFlags& flags) {
  namespace bench = client::bench;
  bench::BenchConfig& config = flags.config;
  Result<std::vector<std::string>> endpoints = client::ParseEndpointList(flags.endpoints);
  if (!endpoints.ok()) {
    std::cerr << "aspen bench: --endpoints: " << endpoints.status().message() << "\n";
    return 1;
  }
  config.endpoints = std::move(endpoints).value();
  const std::optional<bench::Workload> workload = bench::ParseWorkload(flags.workload);
  ASPEN_ASSERT(workload.has_value());  // CLI11 already checked membership
  config.workload = *workload;
  config.serializable = flags.consistency == "s" || flags.consistency == "serializable";
  config.request_timeout = std::chrono::milliseconds(flags.timeout_ms);
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
  if (flags.output == "json") {
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
  cmd->add_option("--endpoints", flags->endpoints, "Comma-separated host:port list")
      ->capture_default_str();
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
  cmd->add_option("--timeout-ms", flags->timeout_ms, "Deadline of each request")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}))
      ->capture_default_str();
  cmd->add_option("--seed", c.seed, "Seed of the key choice")->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunBenchCommand(*flags); });
}

}  // namespace aspen::cli
