// Storage: how raft reads its log (etcd-io/raft storage.go). Raft never writes
// through this interface; the application persists each Ready (ready.h) into
// its store, and that store implements Storage so raft can read it back.
//
// Contract for every implementation (pinned by tests/raft/memory_storage_test.cc):
//   - Indexes in [FirstIndex(), LastIndex()] are available. FirstIndex() - 1 is
//     the index of the latest snapshot (or 0), and Term(FirstIndex() - 1) must
//     still answer (the term of the snapshot), so raft can match the entry
//     just before the first one.
//   - An index below that: ErrorCode::kCompacted. Above LastIndex():
//     ErrorCode::kUnavailable.
//   - Snapshot() may answer kSnapshotTemporarilyUnavailable while one is built;
//     raft then retries later.
//   - Any other error is a broken store: raft asserts.
// Thread safety: raft calls these from the one thread that drives it; an
// implementation shared with other threads must synchronize itself.
#pragma once

#include <cstdint>

#include "raft/error.h"
#include "raft/types.h"

namespace aspen::raft {

struct StorageState {
  pb::HardState hard_state;
  pb::ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The saved hard state and configuration (of the latest snapshot plus every
  // conf change applied since), read once when raft starts.
  virtual Result<StorageState> InitialState() const = 0;
  // Entries in [lo, hi), at most max_bytes in total (EntrySize) but at least
  // one entry when lo < hi. Requires lo <= hi.
  virtual Result<EntryVec> Entries(std::uint64_t lo, std::uint64_t hi,
                                   std::uint64_t max_bytes) const = 0;
  // The term of entry i, for i in [FirstIndex() - 1, LastIndex()].
  virtual Result<std::uint64_t> Term(std::uint64_t i) const = 0;
  virtual Result<std::uint64_t> FirstIndex() const = 0;
  virtual Result<std::uint64_t> LastIndex() const = 0;
  // The most recent snapshot.
  virtual Result<pb::Snapshot> Snapshot() const = 0;
};

}  // namespace aspen::raft
