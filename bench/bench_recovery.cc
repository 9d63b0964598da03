// Recovery time after a crash with 1M keys (issue: storage and state machine).
//
// Setup (once, not timed): 10,000 log entries, each a Txn of 100 puts of
// 64-byte values (1M keys), appended with synced writes and applied with
// unsynced ones, in groups of 100 entries; the last group is appended but
// never applied, and the store is closed without a flush (RocksDB's
// avoid_flush_during_shutdown), so reopening replays the WAL as after a
// crash. Each timed iteration starts from a fresh copy of that directory and
// measures what a restarting node does: open RocksDB, open the log (verifying
// the whole chain hash), open the state machine, replay the committed entries
// above applied_index.
//
// Run: build/bench/bench_recovery --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "sm/recovery.h"
#include "sm/state_machine.h"
#include "storage/log_store.h"
#include "storage/rocks_store.h"

namespace {

namespace fs = std::filesystem;
using namespace aspen;

constexpr int kEntries = 10'000;
constexpr int kPutsPerEntry = 100;
constexpr int kGroup = 100;

std::string MakeDir() {
  const char* base = std::getenv("ASPEN_BENCH_DIR");
  std::string pattern = std::string(base != nullptr ? base : "/work") + "/aspen-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

void Check(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "bench_recovery: %s\n", s.ToString().c_str());
    std::abort();
  }
}

std::string EntryData(int e) {
  sm::v1::Command cmd;
  cmd.set_now_ms(1'700'000'000'000);
  sm::v1::TxnRequest* txn = cmd.mutable_txn();
  char key[32];
  for (int p = 0; p < kPutsPerEntry; ++p) {
    std::snprintf(key, sizeof(key), "key/%08d", e * kPutsPerEntry + p);
    sm::v1::PutRequest* put = txn->add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(std::string(64, 'v'));
  }
  return cmd.SerializeAsString();
}

// Builds the crashed store in `dir` (see the file comment).
void BuildCrashedStore(const std::string& dir) {
  auto store = storage::RocksStore::Open(dir);
  Check(store.status());
  auto log = storage::LogStore::Open(store->get());
  Check(log.status());
  auto sm = sm::StateMachine::Open(store->get());
  Check(sm.status());
  for (int first = 1; first <= kEntries; first += kGroup) {
    std::vector<storage::LogEntry> entries;
    for (int e = first; e < first + kGroup; ++e) {
      storage::LogEntry entry;
      entry.index = static_cast<std::uint64_t>(e);
      entry.term = 1;
      entry.data = EntryData(e - 1);
      entries.push_back(std::move(entry));
    }
    storage::WriteBatch append;
    Check((*log)->AppendToBatch(&append, entries));
    (*log)->SetHardState(&append, storage::HardState{1, 1, entries.back().index});
    Check((*store)->Write(append, /*sync=*/true));
    if (first + kGroup > kEntries) break;  // the crash: the last group is never applied
    std::vector<sm::Entry> apply;
    for (const auto& e : entries) apply.push_back(sm::Entry{e.index, e.data});
    Check((*sm)->ApplyAndWrite(apply).status());
  }
}

const std::string& Template() {
  static const std::string dir = [] {
    std::string d = MakeDir();
    BuildCrashedStore(d + "/db");
    return d;
  }();
  return dir;
}

void BM_RecoverAfterCrash1MKeys(benchmark::State& state) {
  const std::string& tmpl = Template();
  const std::string copy = tmpl + "/copy";
  std::uint64_t replayed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(copy);
    fs::copy(tmpl + "/db", copy, fs::copy_options::recursive);
    state.ResumeTiming();
    auto store = storage::RocksStore::Open(copy);
    Check(store.status());
    auto log = storage::LogStore::Open(store->get());  // verifies the chain hash
    Check(log.status());
    auto sm = sm::StateMachine::Open(store->get());
    Check(sm.status());
    auto report = sm::ReplayCommitted(**log, sm->get());
    Check(report.status());
    replayed = report->replayed;
    state.PauseTiming();
    store->reset();
    state.ResumeTiming();
  }
  state.counters["keys"] = static_cast<double>(kEntries) * kPutsPerEntry;
  state.counters["log_entries"] = kEntries;
  state.counters["replayed"] = static_cast<double>(replayed);
}
BENCHMARK(BM_RecoverAfterCrash1MKeys)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  if (!Template().empty()) fs::remove_all(Template(), ec);
  return 0;
}
