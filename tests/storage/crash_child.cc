// storage_crash_child: a helper process for the storage process tests
// (crash_process_test.cc, rocks_store_test.cc). Never part of a node.
//
//   storage_crash_child loop DIR   open a RocksStore in DIR and loop forever:
//       append one log entry + hard state (sync=true), print its index on
//       stdout, then apply it (sync=false): kv "k<index>" = entry data and
//       meta "applied_index" = index. On start it first replays entries above
//       applied_index, as a node does. The parent SIGKILLs it at random.
//   storage_crash_child hold DIR   open DIR, print "ready", wait for EOF on stdin.
//   storage_crash_child open DIR [--as-nobody]   try to open DIR (as user
//       nobody when started as root) and print the resulting Status.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "storage/coding.h"
#include "storage/crash_workload.h"
#include "storage/log_store.h"
#include "storage/rocks_store.h"

namespace aspen::storage {
namespace {

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "storage_crash_child: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(3);
}

void Report(std::uint64_t index) {
  const std::string line = std::to_string(index) + "\n";
  // One write(2) per line: the parent never sees half a line.
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    std::exit(4);
  }
}

void Apply(Store* store, const LogEntry& e) {
  WriteBatch b;
  crash_workload::AddApply(&b, e);
  Status s = store->Write(b, /*sync=*/false);
  if (!s.ok()) Die("apply", s);
}

int Loop(const std::string& dir) {
  auto store = RocksStore::Open(dir);
  if (!store.ok()) Die("open", store.status());
  auto log = LogStore::Open(store->get());
  if (!log.ok()) Die("open log", log.status());
  LogStore& l = **log;
  auto applied = crash_workload::AppliedIndex(store->get());
  if (!applied.ok()) Die("applied_index", applied.status());
  // Replay committed entries above applied_index (at most one, see the test).
  for (std::uint64_t j = *applied + 1; j <= l.LastIndex(); ++j) {
    auto e = l.Entries(j, j + 1, UINT64_MAX);
    if (!e.ok()) Die("replay", e.status());
    Apply(store->get(), e->front());
  }
  for (std::uint64_t i = l.LastIndex() + 1;; ++i) {
    std::vector<LogEntry> entries = {crash_workload::MakeEntry(i)};
    WriteBatch b;
    Status s = l.AppendToBatch(&b, entries);
    if (!s.ok()) Die("append", s);
    l.SetHardState(&b, HardState{entries[0].term, 1, i});
    if (i % crash_workload::kCompactEvery == 0) {
      s = l.CompactTo(&b, i - crash_workload::kKeepEntries);
      if (!s.ok()) Die("compact", s);
    }
    s = store->get()->Write(b, /*sync=*/true);
    if (!s.ok()) Die("append write", s);
    Report(i);
    Apply(store->get(), entries[0]);
  }
}

int Hold(const std::string& dir) {
  auto store = RocksStore::Open(dir);
  if (!store.ok()) Die("open", store.status());
  Report(0);
  char c;
  while (::read(STDIN_FILENO, &c, 1) > 0) {
  }
  return 0;
}

int TryOpen(const std::string& dir, bool as_nobody) {
  if (as_nobody && ::geteuid() == 0) {
    constexpr uid_t kNobody = 65534;
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      std::perror("setuid nobody");
      return 5;
    }
  }
  auto store = RocksStore::Open(dir);
  std::cout << store.status().ToString() << std::endl;
  return store.ok() ? 0 : 2;
}

}  // namespace
}  // namespace aspen::storage

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "loop") == 0) return aspen::storage::Loop(argv[2]);
  if (argc >= 3 && std::strcmp(argv[1], "hold") == 0) return aspen::storage::Hold(argv[2]);
  if (argc >= 3 && std::strcmp(argv[1], "open") == 0) {
    const bool as_nobody = argc >= 4 && std::strcmp(argv[3], "--as-nobody") == 0;
    return aspen::storage::TryOpen(argv[2], as_nobody);
  }
  std::fprintf(stderr, "usage: storage_crash_child loop|hold|open DIR [--as-nobody]\n");
  return 64;
}
