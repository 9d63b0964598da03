// Recovery of the state machine from the Raft log after a restart
// (DESIGN.md, "The write path", point 4).
//
// Apply batches are written with sync=false, so after a crash the state
// machine may lag the log: its applied_index is exact, and the committed
// entries above it (at most the last apply batch or two) are still in the
// log, made durable by their synced append. ReplayCommitted applies them.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "sm/state_machine.h"
#include "storage/log_store.h"

namespace aspen::sm {

struct RecoveryReport {
  std::uint64_t applied_before = 0;  // the state machine's applied_index at open
  std::uint64_t commit = 0;          // the hard state's commit index
  std::uint64_t replayed = 0;        // entries applied by the replay
};

// Applies every log entry in (sm.applied_index(), min(commit, last index)] to
// `sm`, in chunks of at most `max_chunk_bytes`, each written with sync=false.
// Normal entries carry commands; conf-change entries are applied as no-ops
// (membership belongs to the node, which restores it from the conf state).
// Corruption when an entry that must be replayed is already compacted or
// missing: the state cannot be rebuilt from this log. `log` and `sm` must live
// in the same Store.
Result<RecoveryReport> ReplayCommitted(const storage::LogStore& log, StateMachine* sm,
                                       std::uint64_t max_chunk_bytes = 4 << 20);

}  // namespace aspen::sm
