#include "sm/recovery.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/assert.h"

namespace aspen::sm {

Result<RecoveryReport> ReplayCommitted(const storage::LogStore& log, StateMachine* sm,
                                       std::uint64_t max_chunk_bytes) {
  auto initial = log.InitialState();
  if (!initial.ok()) return initial.status();
  RecoveryReport report;
  report.applied_before = sm->applied_index();
  report.commit = initial->hard_state.commit;
  const std::uint64_t target = std::min(report.commit, log.LastIndex());
  if (sm->applied_index() >= target) return report;
  if (sm->applied_index() + 1 < log.FirstIndex()) {
    return Status::Corruption("cannot recover: the state machine is at index " +
                              std::to_string(sm->applied_index()) +
                              " but the log starts at index " + std::to_string(log.FirstIndex()) +
                              " (the entries in between were compacted)");
  }
  while (sm->applied_index() < target) {
    const std::uint64_t lo = sm->applied_index() + 1;
    auto entries = log.Entries(lo, target + 1, max_chunk_bytes);
    if (!entries.ok()) return entries.status();
    ASPEN_ASSERT(!entries->empty());
    std::vector<Entry> batch;
    batch.reserve(entries->size());
    for (const storage::LogEntry& e : *entries) {
      const bool command = e.type == storage::kEntryNormal;
      batch.push_back(Entry{e.index, command ? std::string_view(e.data) : std::string_view()});
    }
    auto applied = sm->ApplyAndWrite(batch);
    if (!applied.ok()) return applied.status();
    report.replayed += batch.size();
    ASPEN_ASSERT(sm->applied_index() == batch.back().index);
  }
  return report;
}

}  // namespace aspen::sm
