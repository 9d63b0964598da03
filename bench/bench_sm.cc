// State machine throughput on the real engine (RocksStore, temp dir under
// /work). Run: build/bench/bench_sm --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
//
//   BM_ApplyPut/1, /100  Apply+Write (sync=false) of 1 or 100 Put entries
//                        (64-byte values, 10,000 distinct keys, overwrites),
//                        items/s = entries applied per second
//   BM_RangePoint        Range of one key from a snapshot
//   BM_Range1000         Range of 1,000 consecutive keys
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sm/reads.h"
#include "sm/state_machine.h"
#include "storage/rocks_store.h"

namespace {

using aspen::sm::Entry;
using aspen::sm::StateMachine;
namespace v1 = aspen::sm::v1;

constexpr int kKeys = 10'000;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "bench/key/%06d", i);
  return buf;
}

std::string PutData(int i) {
  v1::Command c;
  c.set_now_ms(1'700'000'000'000);
  c.mutable_put()->set_key(Key(i % kKeys));
  c.mutable_put()->set_value(std::string(64, static_cast<char>('a' + i % 26)));
  return c.SerializeAsString();
}

// A RocksStore in a fresh directory under /work, removed at the end.
class BenchDb {
 public:
  BenchDb() {
    std::string pattern = "/work/aspen-bench-sm-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    auto store = aspen::storage::RocksStore::Open(dir_ + "/db");
    if (!store.ok()) std::abort();
    store_ = std::move(*store);
    auto sm = StateMachine::Open(store_.get());
    if (!sm.ok()) std::abort();
    sm_ = std::move(*sm);
  }
  ~BenchDb() {
    sm_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Applies `data` as consecutive entries and writes the batch.
  void Apply(const std::vector<std::string>& data) {
    std::vector<Entry> entries;
    entries.reserve(data.size());
    for (const std::string& d : data)
      entries.push_back({sm_->applied_index() + entries.size() + 1, d});
    auto out = sm_->ApplyAndWrite(entries);
    if (!out.ok()) std::abort();
  }
  void Fill() {
    std::vector<std::string> batch;
    for (int i = 0; i < kKeys; ++i) {
      batch.push_back(PutData(i));
      if (batch.size() == 100) {
        Apply(batch);
        batch.clear();
      }
    }
  }
  aspen::storage::RocksStore& store() { return *store_; }

 private:
  std::string dir_;
  std::unique_ptr<aspen::storage::RocksStore> store_;
  std::unique_ptr<StateMachine> sm_;
};

void BM_ApplyPut(benchmark::State& state) {
  BenchDb db;
  const int per_batch = static_cast<int>(state.range(0));
  int next = 0;
  std::vector<std::string> batch(static_cast<std::size_t>(per_batch));
  for (auto _ : state) {
    state.PauseTiming();
    for (std::string& d : batch) d = PutData(next++);
    state.ResumeTiming();
    db.Apply(batch);
  }
  state.SetItemsProcessed(state.iterations() * per_batch);
}
BENCHMARK(BM_ApplyPut)->Arg(1)->Arg(100);

void BM_RangePoint(benchmark::State& state) {
  BenchDb db;
  db.Fill();
  auto snap = db.store().GetSnapshot();
  int i = 0;
  for (auto _ : state) {
    v1::RangeRequest req;
    req.set_key(Key(i++ % kKeys));
    auto r = aspen::sm::Range(*snap, req, 0);
    if (!r.ok() || r->kvs_size() != 1) std::abort();
    benchmark::DoNotOptimize(r->kvs(0).value().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RangePoint);

void BM_Range1000(benchmark::State& state) {
  BenchDb db;
  db.Fill();
  auto snap = db.store().GetSnapshot();
  int i = 0;
  for (auto _ : state) {
    const int start = (i++ * 997) % (kKeys - 1000);
    v1::RangeRequest req;
    req.set_key(Key(start));
    req.set_range_end(Key(start + 1000));
    auto r = aspen::sm::Range(*snap, req, 0);
    if (!r.ok() || r->kvs_size() != 1000) std::abort();
    benchmark::DoNotOptimize(r->kvs(999).value().data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Range1000);

}  // namespace

BENCHMARK_MAIN();
