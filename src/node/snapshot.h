// Raft snapshots of the node's state: which column families a snapshot
// carries. The bytes on the wire belong to the transport (server/peer_snapshot*).
#pragma once

#include <array>

#include "storage/column_families.h"

namespace aspen::node {

// The state a raft snapshot carries: everything the state machine and the
// members record keep. The raft log and raft state stay local.
inline constexpr std::array<storage::Cf, 4> kStateCfs = {
    storage::Cf::kKv, storage::Cf::kIndex, storage::Cf::kLease, storage::Cf::kMeta};

inline bool IsStateCf(storage::Cf cf) {
  for (storage::Cf c : kStateCfs) {
    if (c == cf) return true;
  }
  return false;
}

}  // namespace aspen::node
