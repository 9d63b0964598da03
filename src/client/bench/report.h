// Rendering of a bench result: a human table or one JSON object.
#pragma once

#include <string>

#include "client/bench/runner.h"

namespace aspen::client::bench {

// One JSON object (no trailing newline) with the documented keys (docs/BENCH.md):
// workload, endpoints, clients, conns, key_size, value_size, keys, rate,
// consistency, elapsed_s, ops, errors, ops_per_s,
// latency_us {min, mean, p50, p90, p99, p99_9, max}, errors_by_code {CODE: n},
// first_error {CODE: message}, and for txn-cas: txn {succeeded, failed}.
std::string ReportJson(const BenchConfig& config, const BenchResult& result);

// A few aligned lines for a terminal, ending in a newline.
std::string ReportTable(const BenchConfig& config, const BenchResult& result);

// The one-line progress text shown on a TTY (no newline, no carriage return).
std::string ProgressLine(double elapsed_s, std::uint64_t ops, std::uint64_t errors);

}  // namespace aspen::client::bench
