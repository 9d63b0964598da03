// StateMachine: applies committed Raft entries to the kv, index, lease and
// meta column families with etcd's semantics (docs/STATE_MACHINE.md).
//
// Apply is deterministic: it reads no clock and no randomness (time comes in
// Command.now_ms from the leader), so replicas fed the same entries reach the
// same bytes. It never writes or syncs by itself: Apply returns ONE
// storage::WriteBatch holding every mutation, index update, the new revision
// and applied_index, and the caller writes it (sync=false, or merged into its
// synced append batch). ApplyAndWrite does that write for callers that need
// nothing else.
//
// Thread safety: Apply/ApplyAndWrite from one thread at a time. The read
// functions in sm/reads.h take a snapshot and may run on any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "sm/kv_cache.h"
#include "storage/store.h"
#include "storage/write_batch.h"

namespace aspen::sm {

// One committed log entry: its Raft index and its data bytes (a serialized
// v1::Command; empty for Raft's own no-op entries).
struct Entry {
  std::uint64_t index = 0;
  std::string_view data;
};

struct ApplyOutput {
  storage::WriteBatch batch;
  // responses[i] answers entries[i].
  std::vector<v1::Response> responses;
};

class StateMachine {
 public:
  // Loads applied_index and revision from Cf::kMeta (a fresh store starts at
  // applied_index 0, revision 1, as etcd does) and checks every lease row of
  // Cf::kLease. `store` is not owned and must outlive the StateMachine.
  // Corruption when a meta or lease row is malformed; storage errors as is.
  static Result<std::unique_ptr<StateMachine>> Open(storage::Store* store);

  // Applies `entries` (strictly increasing indexes, all above applied_index())
  // on top of the store's current state. Later entries see the effects of
  // earlier ones. Each entry gets a response: a malformed or invalid command
  // gets an error response (never a crash) and applied_index still advances.
  //
  // Returns FailedPrecondition (and changes nothing) if the indexes do not
  // increase, or a storage error (Corruption, IOError) if reading failed.
  //
  // On OK the in-memory applied_index()/revision() already reflect the batch:
  // the caller MUST write output.batch before the next Apply or read. If that
  // write fails, discard this StateMachine and Open a new one.
  Result<ApplyOutput> Apply(std::span<const Entry> entries);

  // Apply, then Store::Write(batch, sync=false). Returns the responses.
  Result<std::vector<v1::Response>> ApplyAndWrite(std::span<const Entry> entries);

  std::uint64_t applied_index() const { return applied_index_; }
  std::int64_t revision() const { return revision_; }
  // The last compaction's revision (0: never compacted); see sm/history.h.
  std::int64_t compact_revision() const { return compact_revision_; }
  // A NOSPACE alarm is active (sm/alarm.h): writes that need space fail.
  bool nospace() const { return nospace_; }

 private:
  StateMachine(storage::Store* store, std::uint64_t applied_index, std::int64_t revision,
               std::int64_t compact_revision, bool nospace)
      : store_(store),
        applied_index_(applied_index),
        revision_(revision),
        compact_revision_(compact_revision),
        nospace_(nospace) {}

  storage::Store* store_;
  std::uint64_t applied_index_;
  // Invariant: revision_ >= 1; it equals the largest mod_revision ever written
  // (or 1 before the first write).
  std::int64_t revision_;
  std::int64_t compact_revision_;  // <= revision_
  // Mirrors the alarm rows in Cf::kMeta, like revision_ mirrors its row.
  bool nospace_ = false;
  // Current kv records of recently applied keys (exact; see kv_cache.h).
  KvCache kv_cache_;
};

// Revision of a store that has never been written (etcd starts at 1; the
// first write gets revision 2).
inline constexpr std::int64_t kInitialRevision = 1;

}  // namespace aspen::sm
