// SQL on a running member: the gRPC service aspen.v1.SQL/Query (client
// port) and the runner behind it and behind HTTP POST /v1/sql (docs/API.md).
//
// Every query: its consistency first (linearizable: node::Node::ReadBarrier,
// which works on followers too; serializable: nothing), then a snapshot of
// the applied state and sql::Engine::Execute on it, with the request's row
// and time limits (defaults 10,000 rows and 30 s, ceilings kMaxSqlRowsCeiling
// and kMaxSqlTimeoutMsCeiling). Engines are reused through SqlEnginePool.
//
// gRPC streaming: the first message carries the columns (with the first rows
// when there are any), then rows in messages of at most 8,192 rows and about
// kMaxSqlMessageBytes each, and the last message done = true, the revision
// and truncated. A slow reader holds the worker (backpressure) until the
// query's own deadline; a cancelled call stops the query.
//
// Thread safety: everything here is called concurrently by gRPC and by HTTP
// connection threads; the pointees given at construction must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aspen/sql/v1/sql.grpc.pb.h"
#include "base/status.h"
#include "node/node.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "sql/engine.h"

namespace aspen::server {

// The largest max_rows and timeout_ms a request may ask for.
inline constexpr std::uint64_t kMaxSqlRowsCeiling = 1'000'000;
inline constexpr std::uint64_t kMaxSqlTimeoutMsCeiling = 600'000;
// A gRPC message is cut after the row that reaches this many value bytes.
inline constexpr std::size_t kMaxSqlMessageBytes = 4u << 20;
// Queries waiting for a SQL worker (more: RESOURCE_EXHAUSTED).
inline constexpr std::size_t kMaxQueuedSqlQueries = 256;
// Idle engines kept for reuse.
inline constexpr std::size_t kMaxIdleSqlEngines = 8;

// One query as the endpoints receive it (0 means the default).
struct SqlRequest {
  std::string sql;
  sql::Params params;
  bool serializable = false;
  std::uint64_t max_rows = 0;
  std::uint64_t timeout_ms = 0;
};

// Checks a request's bounds and turns it into engine options (without now_ms).
// InvalidArgument naming the limit when max_rows or timeout_ms is too large.
Result<sql::QueryOptions> SqlQueryOptions(const SqlRequest& request);

class SqlRunner {
 public:
  // `node` answers reads; `threads` SQL workers run gRPC queries.
  SqlRunner(node::Node* node, std::size_t threads);
  ~SqlRunner();
  SqlRunner(const SqlRunner&) = delete;
  SqlRunner& operator=(const SqlRunner&) = delete;

  // Calls `run` on a SQL worker once the consistency requirement holds, or
  // `fail` (on some thread) with the error: the barrier's, or
  // ResourceExhausted when kMaxQueuedSqlQueries queries wait already.
  void Schedule(bool serializable, std::function<void()> run, std::function<void(Status)> fail);

  // Blocks until the consistency requirement holds (at most timeout_ms).
  Status AwaitConsistency(bool serializable, std::uint64_t timeout_ms);

  // Executes `request` on the calling thread against a fresh snapshot.
  // `options` comes from SqlQueryOptions (sinks may be added).
  Result<sql::QuerySummary> Execute(const SqlRequest& request, sql::QueryOptions options,
                                    const sql::BatchSink& sink);

  // Finishes queued work and joins the workers. Idempotent.
  void Stop();

 private:
  Result<std::unique_ptr<sql::Engine>> AcquireEngine();
  void ReleaseEngine(std::unique_ptr<sql::Engine> engine);

  node::Node* node_;
  WorkerPool pool_;
  std::mutex mu_;
  std::vector<std::unique_ptr<sql::Engine>> idle_;  // guarded by mu_
};

class SqlService final : public aspen::v1::SQL::CallbackService {
 public:
  SqlService(SqlRunner* runner, RequestMetrics* metrics) : runner_(runner), metrics_(metrics) {}
  grpc::ServerWriteReactor<aspen::v1::QueryResponse>* Query(
      grpc::CallbackServerContext* ctx, const aspen::v1::QueryRequest* request) override;

 private:
  SqlRunner* runner_;
  RequestMetrics* metrics_;
};

// The largest JSON answer of POST /v1/sql; past it the query fails with
// ResourceExhausted (ask for fewer rows or columns).
inline constexpr std::size_t kMaxSqlHttpResponseBytes = 64u << 20;

// POST /v1/sql: `body` is {"sql": "...", "params": [...] or {...},
// "consistency": "linearizable"|"serializable", "max_rows": N, "timeout_ms": N};
// the answer {"columns": [...], "rows": [[...]], "revision": N, "truncated": b}
// or {"error": {"code": "INVALID_ARGUMENT", "message": "..."}} with the
// matching HTTP status (docs/API.md). Runs on the calling thread.
HttpResponse HandleSqlHttp(SqlRunner* runner, std::string_view body);
// The JSON error answer for `status` (HTTP 400, 404, 429, 503, 504 or 500).
HttpResponse SqlHttpError(const Status& status);

// The engine Value of a protobuf Value and back.
sql::Value FromProto(const aspen::v1::Value& v);
void ToProto(const sql::Value& v, aspen::v1::Value* out);

}  // namespace aspen::server
