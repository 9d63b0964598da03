// The column families of Aspen's single RocksDB instance per node.
//
// On-disk names: DO NOT CHANGE a name or a value; they are persisted.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace aspen::storage {

enum class Cf : std::uint8_t {
  kRaftLog = 0,    // index (8-byte big-endian) -> encoded log entry (term, type, data, chain hash)
  kRaftState = 1,  // hard state, conf state, snapshot metadata
  kKv = 2,         // user key -> encoded KeyValue record
  kIndex = 3,      // tuple ("idx", name, value, key) -> empty
  kLease = 4,      // lease id -> encoded lease record
  kMeta = 5,       // applied_index, revision, chain tip, cluster identity
  kHistory = 6,    // MVCC history: events by revision, versions by key (sm/history.h)
};

inline constexpr std::size_t kNumCfs = 7;

inline constexpr std::array<std::string_view, kNumCfs> kCfNames = {
    "raft_log", "raft_state", "kv", "index", "lease", "meta", "history",
};

inline std::string_view CfName(Cf cf) {
  return kCfNames[static_cast<std::size_t>(cf)];
}

}  // namespace aspen::storage
