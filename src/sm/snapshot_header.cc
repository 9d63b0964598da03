#include "sm/snapshot_header.h"

#include <string>

#include "sm/reads.h"
#include "storage/log_store.h"

namespace aspen::sm {

namespace {

// The term of entry `index` as of `snapshot`.
Result<std::uint64_t> TermAt(const storage::Snapshot& snapshot, std::uint64_t index) {
  if (index == 0) return std::uint64_t{0};
  std::string bytes;
  Status s = snapshot.Get(storage::Cf::kRaftLog, storage::EncodeLogKey(index), &bytes);
  if (s.ok()) {
    Result<storage::LogEntry> e = storage::DecodeLogEntry(index, bytes);
    if (!e.ok()) return e.status();
    return e->term;
  }
  if (s.code() != Code::kNotFound) return s;
  s = snapshot.Get(storage::Cf::kRaftState, storage::kTruncatedKey, &bytes);
  if (s.ok()) {
    Result<storage::TruncatedState> t = storage::DecodeTruncatedState(bytes);
    if (!t.ok()) return t.status();
    if (t->index == index) return t->term;
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  s = snapshot.Get(storage::Cf::kRaftState, storage::kSnapshotKey, &bytes);
  if (s.ok()) {
    Result<storage::SnapshotMeta> m = storage::DecodeSnapshotMeta(bytes);
    if (!m.ok()) return m.status();
    if (m->index == index) return m->term;
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  return Status::Corruption("snapshot header: the term of applied entry " + std::to_string(index) +
                            " is neither in the log nor at its compaction point");
}

}  // namespace

Result<storage::SnapshotHeader> ReadSnapshotHeader(const storage::Snapshot& snapshot,
                                                   std::uint64_t cluster_id,
                                                   std::uint64_t member_id) {
  Result<AppliedState> applied = ReadAppliedState(snapshot);
  if (!applied.ok()) return applied.status();
  storage::SnapshotHeader h;
  h.cluster_id = cluster_id;
  h.member_id = member_id;
  h.applied_index = applied->applied_index;
  h.revision = applied->revision;
  Result<std::uint64_t> term = TermAt(snapshot, h.applied_index);
  if (!term.ok()) return term.status();
  h.applied_term = *term;
  Status s = snapshot.Get(storage::Cf::kRaftState, storage::kConfStateKey, &h.conf_state);
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  return h;
}

}  // namespace aspen::sm
