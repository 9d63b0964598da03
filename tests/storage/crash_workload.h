// The workload shared by storage_crash_child (which runs it until killed) and
// crash_process_test.cc (which checks what survived): entry contents, the apply
// batch, and where applied_index lives.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/coding.h"
#include "storage/log_store.h"
#include "storage/store.h"

namespace aspen::storage::crash_workload {

inline constexpr std::string_view kAppliedKey = "applied_index";
// Every kCompactEvery-th append also compacts the log, keeping kKeepEntries.
inline constexpr std::uint64_t kCompactEvery = 64;
inline constexpr std::uint64_t kKeepEntries = 16;

// The kv key of entry i: "k" + be64(i), so keys sort by index.
inline std::string KvKey(std::uint64_t i) {
  std::string k = "k";
  PutBigEndian64(&k, i);
  return k;
}

// Entry i: about 100 bytes of data that name it; the term grows every 100.
inline LogEntry MakeEntry(std::uint64_t i) {
  LogEntry e;
  e.index = i;
  e.term = 1 + i / 100;
  e.data = "entry-" + std::to_string(i) + "-" + std::string(90, static_cast<char>('a' + i % 26));
  return e;
}

// The apply batch of entry e: its data under KvKey, and applied_index.
inline void AddApply(WriteBatch* b, const LogEntry& e) {
  b->Put(Cf::kKv, KvKey(e.index), e.data);
  std::string v;
  PutBigEndian64(&v, e.index);
  b->Put(Cf::kMeta, kAppliedKey, v);
}

// 0 when nothing was applied yet.
inline Result<std::uint64_t> AppliedIndex(Store* store) {
  std::string v;
  Status s = store->Get(Cf::kMeta, kAppliedKey, &v);
  if (s.code() == Code::kNotFound) return std::uint64_t{0};
  if (!s.ok()) return s;
  if (v.size() != 8)
    return Status::Corruption("applied_index has " + std::to_string(v.size()) + " bytes, want 8");
  return DecodeBigEndian64(v);
}

}  // namespace aspen::storage::crash_workload
