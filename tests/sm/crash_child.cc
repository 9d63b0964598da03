// Child of sm_crash_process_test: opens a RocksStore, recovers the state
// machine from the log (ReplayCommitted), then loops: append entry i with the
// hard state (commit = i, a single-node log) in one synced write, report
// "i\n" on stdout (the write is acknowledged), apply entry i with an unsynced
// write. The parent SIGKILLs it at random moments.
//
// Usage: sm_crash_child DIR
#include <cstdio>
#include <string>
#include <vector>

#include "sm/crash_workload.h"
#include "sm/recovery.h"
#include "sm/state_machine.h"
#include "storage/log_store.h"
#include "storage/rocks_store.h"

namespace {

int Fail(const aspen::Status& s) {
  std::fprintf(stderr, "sm_crash_child: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aspen;
  if (argc != 2) {
    std::fprintf(stderr, "usage: sm_crash_child DIR\n");
    return 2;
  }
  auto store = storage::RocksStore::Open(argv[1]);
  if (!store.ok()) return Fail(store.status());
  auto log = storage::LogStore::Open(store->get());
  if (!log.ok()) return Fail(log.status());
  auto sm = sm::StateMachine::Open(store->get());
  if (!sm.ok()) return Fail(sm.status());
  auto report = sm::ReplayCommitted(**log, sm->get());
  if (!report.ok()) return Fail(report.status());
  if (report->replayed > 0) {
    std::fprintf(stderr, "sm_crash_child: applied %llu, commit %llu, replayed %llu\n",
                 static_cast<unsigned long long>(report->applied_before),
                 static_cast<unsigned long long>(report->commit),
                 static_cast<unsigned long long>(report->replayed));
  }

  for (std::uint64_t i = (*log)->LastIndex() + 1;; ++i) {
    std::vector<storage::LogEntry> entries(1);
    entries[0].index = i;
    entries[0].term = 1;
    entries[0].data = sm::testing::CrashCommand(i);
    storage::WriteBatch append;
    if (Status s = (*log)->AppendToBatch(&append, entries); !s.ok()) return Fail(s);
    (*log)->SetHardState(&append, storage::HardState{1, 1, i});
    if (Status s = (*store)->Write(append, /*sync=*/true); !s.ok()) return Fail(s);
    std::printf("%llu\n", static_cast<unsigned long long>(i));
    std::fflush(stdout);
    const sm::Entry entry{i, entries[0].data};
    auto applied = (*sm)->ApplyAndWrite(std::span<const sm::Entry>(&entry, 1));
    if (!applied.ok()) return Fail(applied.status());
  }
}
