// QueryContext: what the virtual tables of one engine connection read while a
// statement runs: the snapshot, the clock, the deadline, and counters that
// tests and EXPLAIN-style diagnostics use. Owned by the Engine; the virtual
// tables hold a pointer to it (sqlite3 module client data).
//
// Thread safety: none; it belongs to the engine's connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "base/status.h"
#include "storage/store.h"

namespace aspen::sql {

// Counters of one query, reset by every Engine::Execute.
struct ScanCounters {
  std::uint64_t kv_rows_read = 0;     // kv rows fetched from storage (scanned or looked up)
  std::uint64_t index_rows_read = 0;  // secondary index rows scanned
  std::uint64_t rows_produced = 0;    // rows the kv table handed to SQLite
  std::uint64_t values_decoded = 0;   // kv.value cells materialized
  std::uint64_t lease_rows_read = 0;  // leases table rows read
};

// When the node knows a lease's expiry (its leader-side lease keeper), the
// absolute time in ms since the epoch; nullopt when unknown.
using LeaseExpiryFn = std::function<std::optional<std::int64_t>(std::int64_t lease_id)>;

struct QueryContext {
  const storage::Snapshot* snapshot = nullptr;  // not owned; set for the duration of a query
  std::int64_t now_ms = 0;
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
  LeaseExpiryFn lease_expiry;
  ScanCounters counters;
  // The storage error (Corruption, IOError) that stopped a scan, if any; the
  // engine returns it as is instead of SQLite's generic error.
  Status scan_error;

  // True (and timed_out set) once the deadline has passed.
  bool PastDeadline() {
    if (!timed_out && std::chrono::steady_clock::now() >= deadline) timed_out = true;
    return timed_out;
  }
};

}  // namespace aspen::sql
