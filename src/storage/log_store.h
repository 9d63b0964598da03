// LogStore: the Raft log, hard state, conf state and snapshot metadata of a
// node, kept in a Store (DESIGN.md, "The write path"). Shared by RocksStore and
// MemStore. storage/ does not depend on raft/: these are storage's own types,
// and node/ adapts them to Raft's Storage interface.
//
// The node persists a Raft Ready by building one WriteBatch through this class
// (AppendToBatch + SetHardState, maybe CompactTo) and writing it with
// sync=true; Raft reads the log back through Entries/Term/FirstIndex/LastIndex.
//
// ---------------------------------------------------------------------------
// Key layout
//   Cf::kRaftLog   key   := be64(index)                  (sorts numerically)
//   Cf::kRaftState keys  := "hard_state" | "conf_state" | "snapshot" | "truncated"
//
// Byte formats (a grammar; be64/be32 are fixed-width big-endian unsigned
// integers; "tag" is a format version byte). DO NOT CHANGE a tag value, a
// field order or a key name: they are on disk. A new format gets a new tag.
//
//   log_entry   := tag:u8 (=0x01) term:be64 type:u8 chain_hash:32*u8
//                  data_len:be32 data:data_len*u8          ; nothing follows
//   type        := 0x00 (normal) | 0x01 (conf change) | 0x02 (conf change v2)
//   hard_state  := tag:u8 (=0x01) term:be64 vote:be64 commit:be64
//   truncated   := tag:u8 (=0x01) index:be64 term:be64 chain_hash:32*u8
//   snapshot    := tag:u8 (=0x01) index:be64 term:be64 chain_hash:32*u8
//                  conf_len:be32 conf_state:conf_len*u8     ; nothing follows
//   conf_state  := opaque bytes (Raft's encoded ConfState), stored as given
//
// The entry's index is its key, not part of the value. "truncated" records the
// compaction point: the index, term and chain hash of the last entry removed
// from the log (index 0, term 0 and a zero hash for a fresh log); the first
// index of the log is truncated.index + 1. Decoders check every length and
// return Corruption naming the record; they never read out of bounds.
// ---------------------------------------------------------------------------
//
// Errors (like etcd's raft.Storage):
//   - an index below the compaction point: Code::kOutOfRange ("compacted";
//     etcd's ErrCompacted), see IsCompacted();
//   - an index above LastIndex(): Code::kUnavailable (etcd's ErrUnavailable),
//     see IsUnavailable();
//   - stored bytes that fail a check: Code::kCorruption naming the index.
//
// Caching: FirstIndex, LastIndex, the last term and the chain tip are cached in
// memory and advanced when a batch is BUILT (AppendToBatch, CompactTo,
// ApplySnapshotToBatch), because the node writes the log through this class
// only. The caller must Write each such batch before the next call on this
// LogStore; if that Write fails, call Reload() (on a real node a failed log
// write is fatal anyway). Two appends may be built into one batch before it is
// written: the later one sees the earlier one's entries.
//
// Thread safety: none. One thread (the node's Ready loop) owns a LogStore;
// other threads read the log through their own Store snapshots.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/chain_hash.h"
#include "storage/store.h"
#include "storage/write_batch.h"

namespace aspen::storage {

// Entry types (on disk: DO NOT CHANGE).
inline constexpr std::uint8_t kEntryNormal = 0;
inline constexpr std::uint8_t kEntryConfChange = 1;
inline constexpr std::uint8_t kEntryConfChangeV2 = 2;

struct HardState {
  std::uint64_t term = 0;
  std::uint64_t vote = 0;
  std::uint64_t commit = 0;
  bool operator==(const HardState&) const = default;
};

struct LogEntry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint8_t type = kEntryNormal;  // kEntryNormal, kEntryConfChange, kEntryConfChangeV2
  std::string data;
  ChainHash chain_hash{};  // filled in by AppendToBatch
  bool operator==(const LogEntry&) const = default;
};

// Metadata of a state-machine snapshot: the last entry it covers.
struct SnapshotMeta {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string conf_state;  // opaque: Raft's encoded ConfState
  ChainHash chain_hash{};  // hash(index), so the chain continues after a restore
  bool operator==(const SnapshotMeta&) const = default;
};

// The compaction point (see "truncated" above).
struct TruncatedState {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  ChainHash chain_hash{};
  bool operator==(const TruncatedState&) const = default;
};

// What Raft needs at start: hard state and conf state (zero/empty if never set).
struct InitialRaftState {
  HardState hard_state;
  std::string conf_state;
};

// ----- Codec (implemented in log_codec.cc; formats above) -----
std::string EncodeLogKey(std::uint64_t index);
// Corruption unless `key` is exactly 8 bytes.
Result<std::uint64_t> DecodeLogKey(std::string_view key);
// Encodes term, type, chain_hash and data (index is the key). Requires
// entry.data.size() <= UINT32_MAX.
std::string EncodeLogEntry(const LogEntry& entry);
// `index` comes from the key; Corruption (naming the index) on a bad tag, a bad
// type, a short record, a length mismatch or trailing bytes.
Result<LogEntry> DecodeLogEntry(std::uint64_t index, std::string_view bytes);
std::string EncodeHardState(const HardState& hs);
Result<HardState> DecodeHardState(std::string_view bytes);
std::string EncodeTruncatedState(const TruncatedState& ts);
Result<TruncatedState> DecodeTruncatedState(std::string_view bytes);
// Requires meta.conf_state.size() <= UINT32_MAX.
std::string EncodeSnapshotMeta(const SnapshotMeta& meta);
Result<SnapshotMeta> DecodeSnapshotMeta(std::string_view bytes);

// raft_state key names (on disk: DO NOT CHANGE).
inline constexpr std::string_view kHardStateKey = "hard_state";
inline constexpr std::string_view kConfStateKey = "conf_state";
inline constexpr std::string_view kSnapshotKey = "snapshot";
inline constexpr std::string_view kTruncatedKey = "truncated";

struct LogStoreOptions {
  // Walk the whole chain in Open (VerifyChain) and fail on a mismatch.
  bool verify_chain_on_open = true;
};

class LogStore {
 public:
  // Loads the compaction point, first/last index and chain tip from `store`
  // (which must outlive the LogStore). Corruption if the stored state is
  // inconsistent or, with verify_chain_on_open, the chain does not verify.
  static Result<std::unique_ptr<LogStore>> Open(Store* store, const LogStoreOptions& options = {});

  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // ----- Building batches (see "Caching" above) -----

  // Adds `entries` (consecutive indexes, non-decreasing terms) to the log,
  // filling in each entry's chain_hash. Entries already compacted are skipped
  // (Raft only re-sends committed entries there). Existing entries from the
  // first new index on are overwritten and entries beyond the new last index
  // are deleted (a conflicting suffix, Raft §5.3). InvalidArgument for
  // non-consecutive indexes, decreasing terms, an unknown type or oversized
  // data; FailedPrecondition if the first new index would leave a gap after
  // LastIndex(). On error nothing is added to `batch`.
  Status AppendToBatch(WriteBatch* batch, std::vector<LogEntry>& entries);

  void SetHardState(WriteBatch* batch, const HardState& hs);
  void SetConfState(WriteBatch* batch, std::string_view conf_state);
  // Records the metadata of the latest state-machine snapshot taken locally
  // (it does not touch the log; see CompactTo and ApplySnapshotToBatch).
  void SetSnapshotMeta(WriteBatch* batch, const SnapshotMeta& meta);

  // Removes every entry <= index with one DeleteRange and records index's term
  // and chain hash as the compaction point: afterwards FirstIndex() ==
  // index + 1 and Term(index) still works. Compacted if index is already
  // compacted; Unavailable if index > LastIndex().
  Status CompactTo(WriteBatch* batch, std::uint64_t index);

  // Replaces the whole log by a received snapshot: deletes every entry, makes
  // meta the compaction point, and stores meta and its conf state.
  // FailedPrecondition if meta.index <= the current compaction point
  // (an out-of-date snapshot).
  Status ApplySnapshotToBatch(WriteBatch* batch, const SnapshotMeta& meta);

  // Re-reads the cached state from the store (after a failed Write).
  Status Reload();

  // ----- Reads -----

  // Entries [lo, hi), stopping before the total encoded size would exceed
  // max_bytes, but always at least one entry when lo < hi. Compacted if
  // lo < FirstIndex(); Unavailable if hi > LastIndex() + 1; InvalidArgument if
  // lo > hi; Corruption if a stored entry is missing or malformed.
  Result<std::vector<LogEntry>> Entries(std::uint64_t lo, std::uint64_t hi,
                                        std::uint64_t max_bytes) const;
  // Term of entry `index`, for FirstIndex()-1 <= index <= LastIndex() (the
  // compaction point's term included; Term(0) of a fresh log is 0).
  Result<std::uint64_t> Term(std::uint64_t index) const;
  std::uint64_t FirstIndex() const { return truncated_.index + 1; }
  // FirstIndex() - 1 when the log is empty.
  std::uint64_t LastIndex() const { return last_index_; }
  std::uint64_t LastTerm() const { return last_term_; }
  // hash(LastIndex()): the chain tip.
  const ChainHash& LastChainHash() const { return tip_; }
  const TruncatedState& Truncated() const { return truncated_; }

  Result<InitialRaftState> InitialState() const;
  // nullopt if no snapshot was ever recorded.
  Result<std::optional<SnapshotMeta>> Snapshot() const;

  // Walks the log from the first to the last index on one store snapshot and
  // checks each entry's stored chain hash. Corruption "chain hash mismatch at
  // index N" for the first bad entry (or naming a missing/undecodable entry).
  Status VerifyChain() const;

  static bool IsCompacted(const Status& s) { return s.code() == Code::kOutOfRange; }
  static bool IsUnavailable(const Status& s) { return s.code() == Code::kUnavailable; }

 private:
  explicit LogStore(Store* store) : store_(store) {}

  Status CompactedError(std::uint64_t index) const;
  Status UnavailableError(std::uint64_t index) const;
  // The entry at `index` as it will be once `batch` is written: from the
  // batch if it puts or deletes that index, else from the store.
  Result<LogEntry> EntryAsOfBatch(const WriteBatch& batch, std::uint64_t index) const;

  Store* store_;
  // Invariant: truncated_.index <= last_index_; tip_ and last_term_ describe
  // entry last_index_ (the truncated state itself when the log is empty).
  TruncatedState truncated_;
  std::uint64_t last_index_ = 0;
  std::uint64_t last_term_ = 0;
  ChainHash tip_{};
};

}  // namespace aspen::storage
