// Engine: read-only SQL over a storage::Snapshot (DESIGN.md, "SQL";
// docs/SQL.md). SQLite is the query engine; Aspen's data appears as the
// eponymous virtual tables `kv` and `leases`, plus the tuple_* functions.
//
// Every query:
//   - reads exactly one snapshot (consistency, e.g. a ReadIndex before taking
//     it, is the caller's job) and reports that snapshot's revision;
//   - is read-only: one statement, checked by an authorizer and
//     sqlite3_stmt_readonly; anything that writes is InvalidArgument;
//   - is bounded: at most max_rows rows (then `truncated` is set and the
//     query stops), at most max_time_ms (DeadlineExceeded "query timed out
//     after N ms"), and SQLite's heap (ResourceExhausted);
//   - streams its rows to a sink in batches of at most batch_rows.
//
// Errors: InvalidArgument (SQL syntax or runtime error, a write statement,
// more than one statement, a bad or missing parameter, bad options),
// DeadlineExceeded, ResourceExhausted, Corruption/IOError from storage, and
// whatever the sink returns (the query stops there).
//
// Thread safety: an Engine owns one SQLite connection; call Execute from one
// thread at a time (a server keeps one Engine per worker). Engines on
// different threads are independent.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/limits.h"
#include "base/status.h"
#include "sql/context.h"
#include "sql/value.h"
#include "storage/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace aspen::sql {

// SQLite's heap bound, process-wide (sqlite3_hard_heap_limit64 has no
// per-connection form). The first Engine::Open sets it; later Opens only
// lower it.
inline constexpr std::int64_t kDefaultSqlHeapLimitBytes = 512LL << 20;
// Prepared statements an Engine keeps for reuse (LRU, keyed by SQL text).
inline constexpr std::size_t kStatementCacheSize = 32;
// The longest string or blob a query may build (SQLITE_LIMIT_LENGTH).
inline constexpr int kMaxSqlValueBytes = 16 << 20;

struct EngineOptions {
  LeaseExpiryFn lease_expiry;  // optional: the node's view of lease expiries
  std::int64_t heap_limit_bytes = kDefaultSqlHeapLimitBytes;
};

// Receives the result's column names and declared types ("" for an
// expression) once, before the first row. A non-ok Status stops the query.
using ColumnsSink = std::function<Status(const std::vector<std::string>& names,
                                         const std::vector<std::string>& decl_types)>;

struct QueryOptions {
  std::int64_t now_ms = 0;  // ms since the epoch; TTL keys with expires_at_ms <= now_ms are hidden
  std::size_t max_rows = limits::kMaxSqlRows;
  std::uint64_t max_time_ms = limits::kMaxSqlTimeMs;
  std::size_t batch_rows = limits::kScanBatchRows;
  ColumnsSink on_columns;  // optional
};

// Parameters: positional values bind ?1, ?2, ... (a bare `?` takes the next
// index); named values bind :name, @name or $name (the key may be given with
// or without its sigil). Every parameter of the statement needs a value.
struct Params {
  std::vector<Value> positional;
  std::map<std::string, Value> named;
};

using Row = std::vector<Value>;
// Receives the rows in order, at most batch_rows at a time, never an empty
// batch. The rows are valid during the call only (the engine reuses their
// storage for the next batch: no allocation per row). A non-ok Status stops
// the query and is returned by Execute.
using BatchSink =
    std::function<Status(const std::vector<std::string>& columns, std::span<const Row> rows)>;

struct QuerySummary {
  std::vector<std::string> columns;
  std::uint64_t rows = 0;
  bool truncated = false;     // more rows existed past max_rows
  std::int64_t revision = 0;  // the revision of the snapshot that was read
  ScanCounters counters;      // what the virtual tables did (tests, diagnostics)
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool truncated = false;
  std::int64_t revision = 0;
  ScanCounters counters;
};

class Engine {
 public:
  // Internal on SQLite failures.
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one read-only statement against `snapshot` (which must outlive the
  // call), streaming rows into `sink`.
  Result<QuerySummary> Execute(const storage::Snapshot& snapshot, std::string_view sql,
                               const Params& params, const QueryOptions& options,
                               const BatchSink& sink);

  // Execute, collecting every row (at most options.max_rows).
  Result<QueryResult> Query(const storage::Snapshot& snapshot, std::string_view sql,
                            const Params& params, const QueryOptions& options);

 private:
  explicit Engine(EngineOptions options);
  Status Init();
  // Compiles exactly one read-only-looking statement (the authorizer and the
  // one-statement rule); *stmt is set even on some errors (caller finalizes).
  Status Prepare(std::string_view sql, const QueryOptions& options, sqlite3_stmt** stmt);
  // The Status for a failed sqlite3_step (or an interrupted prepare).
  Status StepError(int rc, const QueryOptions& options);
  // Prepared statements by SQL text, most recently used first; every entry
  // passed Prepare and the read-only check.
  sqlite3_stmt* CachedStatement(std::string_view sql);
  void CacheStatement(std::string_view sql, sqlite3_stmt* stmt);

  EngineOptions options_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<QueryContext> ctx_;
  std::string denied_;  // the action the authorizer refused during the last prepare
  std::list<std::pair<std::string, sqlite3_stmt*>> cache_;  // at most kStatementCacheSize
};

}  // namespace aspen::sql
