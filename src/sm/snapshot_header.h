// The header of a state snapshot (storage/snapshot.h), read from the same
// store snapshot that is streamed, so header and rows agree.
//
// Thread safety: a pure function of the snapshot.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "storage/snapshot.h"
#include "storage/store.h"

namespace aspen::sm {

// applied_index and revision from Cf::kMeta; applied_term from the log entry
// at applied_index, or from the compaction point / snapshot record when that
// entry is compacted; conf_state as stored in raft_state (empty if none).
// Corruption when the applied entry's term cannot be found.
Result<storage::SnapshotHeader> ReadSnapshotHeader(const storage::Snapshot& snapshot,
                                                   std::uint64_t cluster_id,
                                                   std::uint64_t member_id);

}  // namespace aspen::sm
