#include "client/bench/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

namespace aspen::client::bench {

namespace {

double OpsPerSecond(const BenchResult& r) {
  return r.elapsed_s > 0 ? static_cast<double>(r.ops) / r.elapsed_s : 0.0;
}

double Micros(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

std::string Consistency(const BenchConfig& c) {
  return c.serializable ? "serializable" : "linearizable";
}

std::string Format(const char* fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), fmt, value);
  return buffer;
}

}  // namespace

std::string ReportJson(const BenchConfig& config, const BenchResult& result) {
  const Histogram& h = result.latency_ns;
  nlohmann::json out;
  out["workload"] = std::string(WorkloadName(config.workload));
  out["endpoints"] = config.endpoints;
  out["clients"] = config.clients;
  out["conns"] = config.conns;
  out["key_size"] = config.key_size;
  out["value_size"] = config.value_size;
  out["keys"] = config.keys;
  out["rate"] = config.rate;
  out["consistency"] = Consistency(config);
  out["elapsed_s"] = result.elapsed_s;
  out["ops"] = result.ops;
  out["errors"] = result.errors;
  out["ops_per_s"] = OpsPerSecond(result);
  out["latency_us"] = {{"min", Micros(h.min())},          {"mean", h.mean() / 1000.0},
                       {"p50", Micros(h.Percentile(50))}, {"p90", Micros(h.Percentile(90))},
                       {"p99", Micros(h.Percentile(99))}, {"p99_9", Micros(h.Percentile(99.9))},
                       {"max", Micros(h.max())}};
  out["errors_by_code"] = nlohmann::json::object();
  for (const auto& [code, n] : result.errors_by_code) out["errors_by_code"][code] = n;
  out["first_error"] = nlohmann::json::object();
  for (const auto& [code, message] : result.first_error) out["first_error"][code] = message;
  if (config.workload == Workload::kTxnCas) {
    out["txn"] = {{"succeeded", result.txn_succeeded}, {"failed", result.txn_failed}};
  }
  // Endpoints and server messages are outside bytes: replace invalid UTF-8
  // instead of throwing.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ReportTable(const BenchConfig& config, const BenchResult& result) {
  const Histogram& h = result.latency_ns;
  auto ms = [](std::uint64_t ns) { return Format("%.3f", static_cast<double>(ns) / 1e6); };
  std::string out;
  out += "workload     " + std::string(WorkloadName(config.workload)) + " (" +
         (config.rate > 0 ? "open loop, " + Format("%.0f", config.rate) + " ops/s target"
                          : std::string("closed loop")) +
         ", " + Consistency(config) + " reads)\n";
  out += "clients      " + std::to_string(config.clients) + " over " +
         std::to_string(config.conns) + " connection(s)\n";
  out += "ops          " + std::to_string(result.ops) + " in " + Format("%.2f", result.elapsed_s) +
         " s = " + Format("%.1f", OpsPerSecond(result)) + " ops/s\n";
  out += "latency ms   min " + ms(h.min()) + "  p50 " + ms(h.Percentile(50)) + "  p90 " +
         ms(h.Percentile(90)) + "  p99 " + ms(h.Percentile(99)) + "  p99.9 " +
         ms(h.Percentile(99.9)) + "  max " + ms(h.max()) + "\n";
  out += "errors       " + std::to_string(result.errors) + "\n";
  for (const auto& [code, n] : result.errors_by_code) {
    out +=
        "  " + code + " " + std::to_string(n) + " (first: " + result.first_error.at(code) + ")\n";
  }
  if (config.workload == Workload::kTxnCas) {
    out += "txn          " + std::to_string(result.txn_succeeded) + " succeeded, " +
           std::to_string(result.txn_failed) + " compare failed\n";
  }
  return out;
}

std::string ProgressLine(double elapsed_s, std::uint64_t ops, std::uint64_t errors) {
  const double rate = elapsed_s > 0 ? static_cast<double>(ops) / elapsed_s : 0.0;
  return "[" + Format("%6.1f", elapsed_s) + " s] " + std::to_string(ops) + " ops, " +
         Format("%.0f", rate) + " ops/s, " + std::to_string(errors) + " errors";
}

}  // namespace aspen::client::bench
