// SQL over a RocksStore snapshot against raw iteration of the same keys
// (docs/SQL.md, "Performance"). Run:
//   build/bench/bench_sql --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// One data set, loaded once through StateMachine::ApplyAndWrite (Put
// commands in entries of 1,000): kKeys keys "bench/key/0000000".., 64-byte
// values.
//   BM_RawScan        RocksStore snapshot iterator over Cf::kKv, touching
//                     every key and value byte length
//   BM_RawScanMaterialized  the same, plus decoding each record and copying
//                     key and value into reused sql::Values (the engine's output)
//   BM_SqlFullScan    SELECT key, value FROM kv, every row delivered to a sink
//   BM_SqlCountStar   SELECT count(*) FROM kv
//   BM_SqlPointQuery  SELECT value FROM kv WHERE key = ?  (a random key)
//   BM_SmRangePoint   sm::Range of one random key (the etcd read path)
// items/s = rows per second for the scans; the scans report ns per row.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/limits.h"
#include "sm/reads.h"
#include "sm/record.h"
#include "sm/state_machine.h"
#include "sql/engine.h"
#include "storage/rocks_store.h"

namespace {

using aspen::sm::Entry;
namespace v1 = aspen::sm::v1;

constexpr int kKeys = 1'000'000;
constexpr int kEntriesPerApply = 1'000;
constexpr std::int64_t kNowMs = 1'700'000'000'000;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "bench/key/%07d", i);
  return buf;
}

class BenchDb {
 public:
  BenchDb() {
    std::string pattern = "/work/aspen-bench-sql-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    auto store = aspen::storage::RocksStore::Open(dir_ + "/db");
    if (!store.ok()) std::abort();
    store_ = std::move(*store);
    auto sm = aspen::sm::StateMachine::Open(store_.get());
    if (!sm.ok()) std::abort();
    std::vector<std::string> data;
    std::vector<Entry> entries;
    for (int i = 0; i < kKeys; i += kEntriesPerApply) {
      data.clear();
      entries.clear();
      for (int j = i; j < i + kEntriesPerApply && j < kKeys; ++j) {
        v1::Command c;
        c.set_now_ms(kNowMs);
        c.mutable_put()->set_key(Key(j));
        c.mutable_put()->set_value(std::string(64, static_cast<char>('a' + j % 26)));
        data.push_back(c.SerializeAsString());
      }
      for (const std::string& d : data) {
        entries.push_back({(*sm)->applied_index() + entries.size() + 1, d});
      }
      if (!(*sm)->ApplyAndWrite(entries).ok()) std::abort();
    }
    auto engine = aspen::sql::Engine::Open();
    if (!engine.ok()) std::abort();
    engine_ = std::move(*engine);
  }
  ~BenchDb() {
    engine_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  aspen::storage::RocksStore& store() { return *store_; }
  aspen::sql::Engine& engine() { return *engine_; }

 private:
  std::string dir_;
  std::unique_ptr<aspen::storage::RocksStore> store_;
  std::unique_ptr<aspen::sql::Engine> engine_;
};

BenchDb& Db() {
  static BenchDb* db = new BenchDb();
  return *db;
}

aspen::sql::QueryOptions Options() {
  aspen::sql::QueryOptions o;
  o.now_ms = kNowMs;
  o.max_rows = 2 * kKeys;
  o.max_time_ms = 600'000;
  return o;
}

void BM_RawScan(benchmark::State& state) {
  auto snap = Db().store().GetSnapshot();
  std::size_t rows = 0;
  for (auto _ : state) {
    std::size_t bytes = 0;
    auto it = snap->NewIterator(aspen::storage::Cf::kKv);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      bytes += it->key().size() + it->value().size();
      ++rows;
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_RawScan)->Unit(benchmark::kMillisecond);

// The raw scan plus what the engine's output costs at least: decoding the
// record and copying key and value into Values, batched like Execute.
void BM_RawScanMaterialized(benchmark::State& state) {
  auto snap = Db().store().GetSnapshot();
  std::size_t rows = 0;
  for (auto _ : state) {
    // Rows reused from batch to batch, as Engine::Execute does.
    std::vector<aspen::sql::Row> batch(aspen::limits::kScanBatchRows, aspen::sql::Row(2));
    std::size_t used = 0;
    auto it = snap->NewIterator(aspen::storage::Cf::kKv);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      aspen::sm::KvMeta meta;
      std::string_view value;
      if (!aspen::sm::DecodeKvRecord(it->value(), &meta, &value).ok()) std::abort();
      aspen::sql::Row& row = batch[used++];
      row[0].type = aspen::sql::ValueType::kText;
      row[0].s.assign(it->key());
      row[1].type = aspen::sql::ValueType::kText;
      row[1].s.assign(value);
      if (used == batch.size()) {
        benchmark::DoNotOptimize(batch.data());
        used = 0;
      }
      ++rows;
    }
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_RawScanMaterialized)->Unit(benchmark::kMillisecond);

void RunScan(benchmark::State& state, const char* sql) {
  auto snap = Db().store().GetSnapshot();
  std::size_t rows = 0;
  for (auto _ : state) {
    auto r = Db().engine().Execute(
        *snap, sql, {}, Options(),
        [](const std::vector<std::string>&, std::span<const aspen::sql::Row> batch) {
          benchmark::DoNotOptimize(batch.data());
          return aspen::Status::Ok();
        });
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    rows += r.ok() ? r->counters.rows_produced : 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}

void BM_SqlFullScan(benchmark::State& state) {
  RunScan(state, "SELECT key, value FROM kv");
}
BENCHMARK(BM_SqlFullScan)->Unit(benchmark::kMillisecond);

void BM_SqlCountStar(benchmark::State& state) {
  RunScan(state, "SELECT count(*) FROM kv");
}
BENCHMARK(BM_SqlCountStar)->Unit(benchmark::kMillisecond);

void BM_SqlPointQuery(benchmark::State& state) {
  auto snap = Db().store().GetSnapshot();
  std::mt19937 rng(7);
  aspen::sql::Params p;
  p.positional.push_back(aspen::sql::Value::Text(""));
  for (auto _ : state) {
    p.positional[0].s = Key(static_cast<int>(rng() % kKeys));
    auto r = Db().engine().Query(*snap, "SELECT value FROM kv WHERE key = ?", p, Options());
    if (!r.ok() || r->rows.size() != 1) state.SkipWithError("point query failed");
  }
}
BENCHMARK(BM_SqlPointQuery)->Unit(benchmark::kMicrosecond);

void BM_SmRangePoint(benchmark::State& state) {
  auto snap = Db().store().GetSnapshot();
  std::mt19937 rng(7);
  v1::RangeRequest req;
  for (auto _ : state) {
    req.set_key(Key(static_cast<int>(rng() % kKeys)));
    auto r = aspen::sm::Range(*snap, req, kNowMs);
    if (!r.ok() || r->kvs_size() != 1) state.SkipWithError("range failed");
  }
}
BENCHMARK(BM_SmRangePoint)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
