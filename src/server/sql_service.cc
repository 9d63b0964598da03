#include "server/sql_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <utility>

#include "base/assert.h"
#include "server/etcd_errors.h"

namespace aspen::server {

namespace pb = aspen::v1;

Result<sql::QueryOptions> SqlQueryOptions(const SqlRequest& request) {
  sql::QueryOptions o;
  if (request.max_rows > kMaxSqlRowsCeiling) {
    return Status::InvalidArgument("max_rows " + std::to_string(request.max_rows) +
                                   " is above the limit of " + std::to_string(kMaxSqlRowsCeiling));
  }
  if (request.timeout_ms > kMaxSqlTimeoutMsCeiling) {
    return Status::InvalidArgument("timeout_ms " + std::to_string(request.timeout_ms) +
                                   " is above the limit of " +
                                   std::to_string(kMaxSqlTimeoutMsCeiling));
  }
  if (request.max_rows != 0) o.max_rows = request.max_rows;
  if (request.timeout_ms != 0) o.max_time_ms = request.timeout_ms;
  return o;
}

sql::Value FromProto(const pb::Value& v) {
  switch (v.kind_case()) {
    case pb::Value::kInt: return sql::Value::Int(v.int_());
    case pb::Value::kReal: return sql::Value::Double(v.real());
    case pb::Value::kText: return sql::Value::Text(v.text());
    case pb::Value::kBlob: return sql::Value::Blob(v.blob());
    case pb::Value::KIND_NOT_SET: break;
  }
  return sql::Value::Null();
}

void ToProto(const sql::Value& v, pb::Value* out) {
  switch (v.type) {
    case sql::ValueType::kNull: out->clear_kind(); break;
    case sql::ValueType::kInt: out->set_int_(v.i); break;
    case sql::ValueType::kDouble: out->set_real(v.d); break;
    case sql::ValueType::kText: out->set_text(v.s); break;
    case sql::ValueType::kBlob: out->set_blob(v.s); break;
  }
}

// ----- SqlRunner -----

SqlRunner::SqlRunner(node::Node* node, std::size_t threads)
    : node_(node), pool_(threads, kMaxQueuedSqlQueries) {
  ASPEN_ASSERT(node_ != nullptr);
}

SqlRunner::~SqlRunner() {
  Stop();
}

void SqlRunner::Stop() {
  pool_.Stop();
}

void SqlRunner::Schedule(bool serializable, std::function<void()> run,
                         std::function<void(Status)> fail) {
  auto submit = [this, run = std::move(run), fail]() mutable {
    if (!pool_.Submit(std::move(run))) {
      fail(Status::ResourceExhausted("too many SQL queries waiting (limit " +
                                     std::to_string(kMaxQueuedSqlQueries) +
                                     ") or the server is stopping"));
    }
  };
  if (serializable) return submit();
  node_->ReadBarrier([submit = std::move(submit), fail](Status s) mutable {
    if (!s.ok()) return fail(std::move(s));
    submit();
  });
}

Status SqlRunner::AwaitConsistency(bool serializable, std::uint64_t timeout_ms) {
  if (serializable) return Status::Ok();
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> result = done->get_future();
  node_->ReadBarrier([done](Status s) { done->set_value(std::move(s)); });
  if (result.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    return Status(Code::kDeadlineExceeded, "query timed out after " + std::to_string(timeout_ms) +
                                               " ms waiting for the linearizable read barrier");
  }
  return result.get();
}

Result<std::unique_ptr<sql::Engine>> SqlRunner::AcquireEngine() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<sql::Engine> e = std::move(idle_.back());
      idle_.pop_back();
      return e;
    }
  }
  sql::EngineOptions o;
  o.lease_expiry = [node = node_](std::int64_t id) -> std::optional<std::int64_t> {
    Result<node::LeaseStatus> st = node->LeaseTimeToLive(id);  // leader only
    if (!st.ok()) return std::nullopt;
    return node->NowMs() + st->remaining_ttl_s * 1000;
  };
  return sql::Engine::Open(std::move(o));
}

void SqlRunner::ReleaseEngine(std::unique_ptr<sql::Engine> engine) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdleSqlEngines) idle_.push_back(std::move(engine));
}

Result<sql::QuerySummary> SqlRunner::Execute(const SqlRequest& request, sql::QueryOptions options,
                                             const sql::BatchSink& sink) {
  Result<std::unique_ptr<sql::Engine>> engine = AcquireEngine();
  if (!engine.ok()) return engine.status();
  std::unique_ptr<storage::Snapshot> snapshot = node_->GetSnapshot();
  options.now_ms = node_->NowMs();
  Result<sql::QuerySummary> r =
      (*engine)->Execute(*snapshot, request.sql, request.params, options, sink);
  ReleaseEngine(std::move(engine).value());
  return r;
}

// ----- SqlService -----

namespace {

grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(GrpcCode(s.code()), s.message());
}

std::size_t ValueBytes(const sql::Value& v) {
  return v.s.size() + 8;
}

// One Query call. Runs on a SQL worker, writing with backpressure: a message
// is started only when the previous write completed. Deletes itself in OnDone.
class QueryReactor final : public grpc::ServerWriteReactor<pb::QueryResponse> {
 public:
  QueryReactor(grpc::CallbackServerContext* ctx, SqlRunner* runner, RequestMetrics* metrics,
               const pb::QueryRequest* request)
      : ctx_(ctx), runner_(runner), metrics_(metrics) {
    request_.sql = request->sql();
    for (const pb::Value& v : request->params()) {
      request_.params.positional.push_back(FromProto(v));
    }
    for (const auto& [name, v] : request->named_params()) {
      request_.params.named.emplace(name, FromProto(v));
    }
    request_.serializable = request->consistency() == pb::SERIALIZABLE;
    request_.max_rows = request->max_rows();
    request_.timeout_ms = request->timeout_ms();
  }

  void Start() {
    Result<sql::QueryOptions> options = SqlQueryOptions(request_);
    if (!options.ok()) return FinishWith(options.status());
    options_ = std::move(options).value();
    runner_->Schedule(
        request_.serializable, [this] { Run(); }, [this](Status s) { FinishWith(s); });
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) broken_ = true;
    cv_.notify_all();
  }
  void OnCancel() override {
    std::lock_guard lock(mu_);
    broken_ = true;
    cv_.notify_all();
  }
  void OnDone() override { delete this; }

 private:
  void Run() {
    deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.max_time_ms);
    options_.on_columns = [this](const std::vector<std::string>& names,
                                 const std::vector<std::string>& types) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        pb::Column* c = pending_.add_columns();
        c->set_name(names[i]);
        c->set_decl_type(types[i]);
      }
      return Status::Ok();
    };
    Result<sql::QuerySummary> summary =
        runner_->Execute(request_, options_,
                         [this](const std::vector<std::string>&, std::span<const sql::Row> rows) {
                           std::size_t bytes = 0;
                           for (const sql::Row& row : rows) {
                             pb::Row* out = pending_.add_rows();
                             for (const sql::Value& v : row) {
                               bytes += ValueBytes(v);
                               ToProto(v, out->add_values());
                             }
                             if (bytes >= kMaxSqlMessageBytes) {
                               ASPEN_RETURN_IF_ERROR(Write());
                               bytes = 0;
                             }
                           }
                           return pending_.rows_size() > 0 ? Write() : Status::Ok();
                         });
    if (!summary.ok()) return FinishWith(summary.status());
    pending_.set_done(true);
    pending_.set_revision(summary->revision);
    pending_.set_truncated(summary->truncated);
    Status s = Write();
    FinishWith(s);
  }

  // Sends pending_ once the previous write is done.
  Status Write() {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline_, [this] { return !writing_ || broken_; });
    if (broken_) return Status(Code::kAborted, "the client cancelled the query");
    if (writing_) {
      ctx_->TryCancel();  // completes the stuck write
      return Status(Code::kDeadlineExceeded, "query timed out after " +
                                                 std::to_string(options_.max_time_ms) +
                                                 " ms (the client is not reading)");
    }
    out_.Swap(&pending_);
    pending_.Clear();
    writing_ = true;
    lock.unlock();
    StartWrite(&out_);
    return Status::Ok();
  }

  void FinishWith(const Status& s) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !writing_; });
    }
    const grpc::Status status = ToGrpc(s);
    metrics_->Record("Query", status.error_code(), std::chrono::steady_clock::now() - start_);
    Finish(status);  // OnDone may run at once: touch nothing after this
  }

  grpc::CallbackServerContext* ctx_;
  SqlRunner* runner_;
  RequestMetrics* metrics_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  SqlRequest request_;
  sql::QueryOptions options_;
  std::chrono::steady_clock::time_point deadline_;
  pb::QueryResponse pending_;  // only the running query touches it
  pb::QueryResponse out_;      // owned by gRPC while writing_
  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;  // guarded by mu_
  bool broken_ = false;   // guarded by mu_: cancelled or a write failed
};

}  // namespace

grpc::ServerWriteReactor<pb::QueryResponse>* SqlService::Query(grpc::CallbackServerContext* ctx,
                                                               const pb::QueryRequest* request) {
  auto* reactor = new QueryReactor(ctx, runner_, metrics_, request);
  reactor->Start();
  return reactor;
}

}  // namespace aspen::server
