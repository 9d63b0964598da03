// Storage benchmarks on the real engine, in a temp dir under /work (the disk
// the DB uses; override with ASPEN_BENCH_DIR).
// Run: build/bench/bench_storage --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true
//
//   BM_SyncedAppend      one ~100-byte log entry + hard state, Write(sync=true)
//                        through LogStore; counter syncs_per_write from the
//                        counting FileSystem
//   BM_RawFdatasync      write 100 bytes + fdatasync to a plain file in the same
//                        dir: the disk's floor for a durable append
//   BM_UnsyncedApply     a batch of 100 puts of 64-byte values, sync=false;
//                        items/s = puts per second
//   BM_PointGet          Get of a random existing key (100,000 keys)
//   BM_RangeScan1000     iterate 1,000 consecutive keys from a snapshot
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/log_store.h"
#include "storage/rocks_store.h"

namespace {

using aspen::storage::Cf;
using aspen::storage::HardState;
using aspen::storage::LogEntry;
using aspen::storage::LogStore;
using aspen::storage::RocksOptions;
using aspen::storage::RocksStore;
using aspen::storage::WriteBatch;

constexpr int kKeys = 100'000;

// A fresh directory under ASPEN_BENCH_DIR (default /work), removed at exit.
class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("ASPEN_BENCH_DIR");
    std::string pattern = std::string(base != nullptr ? base : "/work") + "/aspen-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

BenchDir& Dir() {
  static BenchDir dir;
  return dir;
}

std::unique_ptr<RocksStore> OpenOrDie(const std::string& dir, bool count_syncs,
                                      RocksOptions options = {}) {
  options.count_syncs = count_syncs;
  auto opened = RocksStore::Open(dir, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), opened.status().ToString().c_str());
    std::abort();
  }
  return std::move(opened).value();
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "bench/key/%08d", i);
  return buf;
}

// Args: {pre-sized WAL (0 off, 1 on), small memtables (1: 64 KB, so the run
// crosses many WAL switches)}.
void BM_SyncedAppend(benchmark::State& state) {
  static int run = 0;
  RocksOptions options;
  if (state.range(0) == 0) options.wal_presize_bytes = 0;
  if (state.range(1) == 1) {
    options.write_buffer_bytes = 64u << 10;
    options.raft_log_write_buffer_bytes = 64u << 10;
  }
  auto store =
      OpenOrDie(Dir().Sub("append" + std::to_string(run++)), /*count_syncs=*/true, options);
  auto log = LogStore::Open(store.get());
  if (!log.ok()) std::abort();
  const std::uint64_t syncs_before = store->sync_calls();
  std::uint64_t index = 0;
  // Per-write latencies: on a shared disk the mean is dominated by other
  // processes' bursts, the median is not.
  std::vector<double> us;
  us.reserve(1u << 16);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    ++index;
    std::vector<LogEntry> entries(1);
    entries[0].index = index;
    entries[0].term = 1;
    entries[0].data = std::string(100, 'e');
    WriteBatch b;
    if (!(*log)->AppendToBatch(&b, entries).ok()) std::abort();
    (*log)->SetHardState(&b, HardState{1, 1, index});
    if (!store->Write(b, /*sync=*/true).ok()) std::abort();
    if (us.size() < us.capacity()) {
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
    }
  }
  if (!us.empty()) {
    std::sort(us.begin(), us.end());
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[us.size() * 99 / 100];
  }
  state.counters["syncs_per_write"] = benchmark::Counter(
      static_cast<double>(store->sync_calls() - syncs_before) / static_cast<double>(index));
}
BENCHMARK(BM_SyncedAppend)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"presize", "switches"})
    ->UseRealTime();

void BM_RawFdatasync(benchmark::State& state) {
  const std::string path = Dir().Sub("raw.log");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
  if (fd < 0) std::abort();
  const std::string record(100, 'r');
  for (auto _ : state) {
    if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size())) {
      std::abort();
    }
    if (::fdatasync(fd) != 0) std::abort();
  }
  ::close(fd);
}
BENCHMARK(BM_RawFdatasync)->UseRealTime();

// One store for the unsynced and read benchmarks, preloaded with kKeys keys.
RocksStore* ReadStore() {
  static std::unique_ptr<RocksStore> store = [] {
    auto s = OpenOrDie(Dir().Sub("reads"), false);
    for (int i = 0; i < kKeys;) {
      WriteBatch b;
      for (int k = 0; k < 1000 && i < kKeys; ++k, ++i) b.Put(Cf::kKv, Key(i), std::string(64, 'v'));
      if (!s->Write(b, false).ok()) std::abort();
    }
    if (!s->Write(WriteBatch(), true).ok()) std::abort();
    return s;
  }();
  return store.get();
}

void BM_UnsyncedApply(benchmark::State& state) {
  RocksStore* store = ReadStore();
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> key(0, kKeys - 1);
  const std::string value(64, 'w');
  for (auto _ : state) {
    WriteBatch b;
    for (int k = 0; k < 100; ++k) b.Put(Cf::kKv, Key(key(rng)), value);
    b.Put(Cf::kMeta, "applied_index", "12345678");
    if (!store->Write(b, /*sync=*/false).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_UnsyncedApply)->UseRealTime();

void BM_PointGet(benchmark::State& state) {
  RocksStore* store = ReadStore();
  std::mt19937 rng(2);
  std::uniform_int_distribution<int> key(0, kKeys - 1);
  std::string value;
  for (auto _ : state) {
    if (!store->Get(Cf::kKv, Key(key(rng)), &value).ok()) std::abort();
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_PointGet)->UseRealTime();

void BM_RangeScan1000(benchmark::State& state) {
  RocksStore* store = ReadStore();
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> start(0, kKeys - 1000);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto snap = store->GetSnapshot();
    const int s = start(rng);
    const std::string lo = Key(s);
    const std::string hi = Key(s + 1000);
    auto it = snap->NewIterator(Cf::kKv, lo, std::string_view(hi));
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) bytes += it->value().size();
    if (n != 1000) std::abort();
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_RangeScan1000)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
