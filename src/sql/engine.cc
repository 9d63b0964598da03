#include "sql/engine.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "sm/reads.h"
#include "sql/statement.h"
#include "sql/vtabs.h"

namespace aspen::sql {
namespace {

// VM instructions between deadline checks (a few microseconds of work).
constexpr int kProgressInstructions = 1000;

const char* ActionName(int action) {
  switch (action) {
    case SQLITE_INSERT: return "INSERT";
    case SQLITE_UPDATE: return "UPDATE";
    case SQLITE_DELETE: return "DELETE";
    case SQLITE_PRAGMA: return "PRAGMA";
    case SQLITE_ATTACH: return "ATTACH";
    case SQLITE_DETACH: return "DETACH";
    case SQLITE_TRANSACTION: return "BEGIN/COMMIT/ROLLBACK";
    case SQLITE_SAVEPOINT: return "SAVEPOINT";
    case SQLITE_ANALYZE: return "ANALYZE";
    case SQLITE_REINDEX: return "REINDEX";
    case SQLITE_ALTER_TABLE: return "ALTER TABLE";
    case SQLITE_DROP_VTABLE:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE: return "DROP TABLE";
    case SQLITE_CREATE_VTABLE:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_TABLE: return "CREATE TABLE";
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TEMP_VIEW: return "CREATE VIEW";
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TEMP_INDEX: return "CREATE INDEX";
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TRIGGER: return "CREATE TRIGGER";
    default: return "this statement";
  }
}

// Allows reading and computing only; records what it refused. SQLite itself
// reports writes of sqlite_master while it prepares reads of a WITHOUT ROWID
// virtual table; a user's write of sqlite_master is refused by SQLite
// ("may not be modified") and by sqlite3_stmt_readonly.
int Authorize(void* denied, int action, const char* table, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
      if (table != nullptr && std::string_view(table) == "sqlite_master") return SQLITE_OK;
      [[fallthrough]];
    default: *static_cast<std::string*>(denied) = ActionName(action); return SQLITE_DENY;
  }
}

int OnProgress(void* ctx) {
  return static_cast<QueryContext*>(ctx)->PastDeadline() ? 1 : 0;
}

Status ReadOnlyError(const std::string& what) {
  return Status::InvalidArgument("the SQL interface is read-only: " + what + " is not allowed");
}

// Returns the statement to its cache slot (reset, bindings cleared) or
// finalizes it, and detaches the snapshot, when a query ends.
class QueryScope {
 public:
  explicit QueryScope(QueryContext* ctx) : ctx_(ctx) {}
  ~QueryScope() {
    if (cached) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      sqlite3_finalize(stmt);
    }
    ctx_->snapshot = nullptr;
  }
  QueryScope(const QueryScope&) = delete;
  QueryScope& operator=(const QueryScope&) = delete;
  sqlite3_stmt* stmt = nullptr;
  bool cached = false;  // owned by the engine's statement cache

 private:
  QueryContext* ctx_;
};

}  // namespace

Engine::Engine(EngineOptions options)
    : options_(std::move(options)), ctx_(std::make_unique<QueryContext>()) {
  ctx_->lease_expiry = options_.lease_expiry;
}

Engine::~Engine() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

sqlite3_stmt* Engine::CachedStatement(std::string_view sql) {
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->first == sql) {
      cache_.splice(cache_.begin(), cache_, it);  // most recently used first
      return cache_.front().second;
    }
  }
  return nullptr;
}

void Engine::CacheStatement(std::string_view sql, sqlite3_stmt* stmt) {
  if (cache_.size() == kStatementCacheSize) {
    sqlite3_finalize(cache_.back().second);
    cache_.pop_back();
  }
  cache_.emplace_front(std::string(sql), stmt);
}

Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  std::unique_ptr<Engine> engine(new Engine(std::move(options)));
  ASPEN_RETURN_IF_ERROR(engine->Init());
  return engine;
}

Status Engine::Init() {
  if (options_.heap_limit_bytes > 0) {
    const sqlite3_int64 current = sqlite3_hard_heap_limit64(-1);
    if (current == 0 || current > options_.heap_limit_bytes) {
      sqlite3_hard_heap_limit64(options_.heap_limit_bytes);
    }
  }
  // NOMUTEX: an Engine is used by one thread at a time (engine.h), so the
  // connection needs no mutex; with one, every sqlite3_column_* and
  // sqlite3_result_* call locked it (a fifth of a full scan's time).
  if (sqlite3_open_v2(":memory:", &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return Status::Internal("cannot open an SQLite connection: " +
                            std::string(db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }
  sqlite3_limit(db_, SQLITE_LIMIT_LENGTH, kMaxSqlValueBytes);
  sqlite3_limit(db_, SQLITE_LIMIT_SQL_LENGTH, static_cast<int>(limits::kMaxRequestBytes));
  sqlite3_limit(db_, SQLITE_LIMIT_ATTACHED, 0);
  int rc = RegisterKvTable(db_, ctx_.get());
  if (rc == SQLITE_OK) rc = RegisterLeasesTable(db_, ctx_.get());
  if (rc == SQLITE_OK) rc = RegisterTupleFunctions(db_);
  if (rc == SQLITE_OK) rc = RegisterKvAtTable(db_, ctx_.get());
  if (rc == SQLITE_OK) {
    // LIKE is case-sensitive in Aspen, so a LIKE prefix is a byte range;
    // sorts and temp b-trees stay in memory, under the heap limit.
    rc = sqlite3_exec(db_, "PRAGMA case_sensitive_like=ON; PRAGMA temp_store=MEMORY;", nullptr,
                      nullptr, nullptr);
  }
  if (rc != SQLITE_OK) {
    return Status::Internal(std::string("cannot set up the SQL connection: ") +
                            sqlite3_errmsg(db_));
  }
  sqlite3_set_authorizer(db_, Authorize, &denied_);
  sqlite3_progress_handler(db_, kProgressInstructions, OnProgress, ctx_.get());
  return Status::Ok();
}

Status Engine::Prepare(std::string_view sql, const QueryOptions& options, sqlite3_stmt** stmt) {
  denied_.clear();
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), stmt, &tail);
  if (rc != SQLITE_OK) {
    if (!denied_.empty()) return ReadOnlyError(denied_);
    const std::string msg = sqlite3_errmsg(db_);
    if (msg.find("may not be modified") != std::string::npos) {
      return Status::InvalidArgument("the SQL interface is read-only: " + msg);
    }
    if (ctx_->timed_out) return StepError(SQLITE_INTERRUPT, options);
    return Status::InvalidArgument("SQL error: " + msg);
  }
  if (*stmt == nullptr) return Status::InvalidArgument("empty SQL: no statement to run");
  if (tail != nullptr && tail < sql.data() + sql.size()) {
    sqlite3_stmt* next = nullptr;
    const int rc2 = sqlite3_prepare_v2(db_, tail, static_cast<int>(sql.data() + sql.size() - tail),
                                       &next, nullptr);
    sqlite3_finalize(next);
    if (rc2 != SQLITE_OK || next != nullptr) {
      return Status::InvalidArgument("only one SQL statement per query; text follows the first");
    }
  }
  return Status::Ok();
}

Status Engine::StepError(int rc, const QueryOptions& options) {
  if (ctx_->timed_out) {
    return Status(Code::kDeadlineExceeded,
                  "query timed out after " + std::to_string(options.max_time_ms) + " ms");
  }
  if (!ctx_->scan_error.ok()) return ctx_->scan_error;
  if (rc == SQLITE_NOMEM) {
    return Status::ResourceExhausted("query ran out of memory (the SQL heap limit is " +
                                     std::to_string(sqlite3_hard_heap_limit64(-1)) + " bytes)");
  }
  if (rc == SQLITE_TOOBIG) {
    return Status::ResourceExhausted("a string or blob exceeded " +
                                     std::to_string(kMaxSqlValueBytes) + " bytes");
  }
  return Status::InvalidArgument(std::string("SQL error: ") + sqlite3_errmsg(db_));
}

Result<QuerySummary> Engine::Execute(const storage::Snapshot& snapshot, std::string_view sql,
                                     const Params& params, const QueryOptions& options,
                                     const BatchSink& sink) {
  if (options.max_rows == 0) return Status::InvalidArgument("max_rows must be at least 1");
  if (options.max_time_ms == 0) return Status::InvalidArgument("max_time_ms must be at least 1");
  if (options.batch_rows == 0) return Status::InvalidArgument("batch_rows must be at least 1");
  if (sql.size() > limits::kMaxRequestBytes) {
    return Status::ResourceExhausted("SQL text is longer than " +
                                     std::to_string(limits::kMaxRequestBytes) + " bytes");
  }
  Result<sm::AppliedState> state = sm::ReadAppliedState(snapshot);
  if (!state.ok()) return state.status();

  QueryContext& ctx = *ctx_;
  ctx.snapshot = &snapshot;
  ctx.now_ms = options.now_ms;
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.max_time_ms);
  ctx.timed_out = false;
  ctx.counters = {};
  ctx.scan_error = Status::Ok();
  QueryScope scope(&ctx);

  scope.stmt = CachedStatement(sql);
  scope.cached = scope.stmt != nullptr;
  if (!scope.cached) {
    ASPEN_RETURN_IF_ERROR(Prepare(sql, options, &scope.stmt));
    if (!sqlite3_stmt_readonly(scope.stmt)) return ReadOnlyError("a statement that writes");
    CacheStatement(sql, scope.stmt);
    scope.cached = true;
  }
  ASPEN_RETURN_IF_ERROR(internal::BindParams(scope.stmt, params));

  QuerySummary summary;
  summary.revision = state->revision;
  const int ncols = sqlite3_column_count(scope.stmt);
  for (int i = 0; i < ncols; ++i) {
    const char* name = sqlite3_column_name(scope.stmt, i);
    summary.columns.emplace_back(name == nullptr ? "" : name);
  }
  if (options.on_columns) {
    std::vector<std::string> types;
    for (int i = 0; i < ncols; ++i) {
      const char* type = sqlite3_column_decltype(scope.stmt, i);
      types.emplace_back(type == nullptr ? "" : type);
    }
    ASPEN_RETURN_IF_ERROR(options.on_columns(summary.columns, types));
  }
  // Rows are reused from batch to batch, so their strings keep their
  // capacity: after the first batch a row costs no allocation.
  std::vector<Row> batch;
  batch.reserve(std::min<std::size_t>(options.batch_rows, 1024));
  std::size_t used = 0;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(scope.stmt)) == SQLITE_ROW) {
    if (summary.rows == options.max_rows) {
      summary.truncated = true;
      break;
    }
    if (used == batch.size()) batch.emplace_back();
    Row& row = batch[used++];
    row.resize(static_cast<std::size_t>(ncols));
    for (int i = 0; i < ncols; ++i)
      internal::ReadColumn(scope.stmt, i, &row[static_cast<std::size_t>(i)]);
    ++summary.rows;
    if (used == options.batch_rows) {
      ASPEN_RETURN_IF_ERROR(sink(summary.columns, std::span<const Row>(batch.data(), used)));
      used = 0;
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return StepError(rc, options);
  if (used > 0) {
    ASPEN_RETURN_IF_ERROR(sink(summary.columns, std::span<const Row>(batch.data(), used)));
  }
  summary.counters = ctx.counters;
  return summary;
}

Result<QueryResult> Engine::Query(const storage::Snapshot& snapshot, std::string_view sql,
                                  const Params& params, const QueryOptions& options) {
  QueryResult result;
  Result<QuerySummary> summary =
      Execute(snapshot, sql, params, options,
              [&result](const std::vector<std::string>&, std::span<const Row> rows) {
                result.rows.insert(result.rows.end(), rows.begin(), rows.end());
                return Status::Ok();
              });
  if (!summary.ok()) return summary.status();
  result.columns = std::move(summary->columns);
  result.truncated = summary->truncated;
  result.revision = summary->revision;
  result.counters = summary->counters;
  return result;
}

}  // namespace aspen::sql
