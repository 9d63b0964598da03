// MVCC history (docs/WATCH.md): every kv change is also recorded in
// Cf::kHistory, in the same apply batch as the current row, so that
//   (a) a Range at a past revision R finds each key's latest version <= R, and
//   (b) a watcher can replay every event after a revision, in order.
//
// Two kinds of rows share Cf::kHistory (the first byte tells them apart):
//
//   event row:   'r' be64(revision) be32(sub)  ->  event_record
//   version row: 'k' esc(key) 0x00 0x01 be64(~revision) be32(~sub)  ->  u8 type
//
//   sub          := the change's position inside its revision (0, 1, ...)
//   esc(key)     := key with every 0x00 byte written as 0x00 0xff, so that
//                   version rows sort by key, then newest revision first
//   type         := 0x00 put | 0x01 delete
//   event_record := 0x01                   tag kHistoryEventTagV1, DO NOT CHANGE
//                   u8 type
//                   varint64 key_len, key
//                   kv_record              (puts only: the row written, record.h)
//
// The tags, prefixes and layouts are persisted: DO NOT CHANGE them.
//
// Compaction (etcd's): compact_revision C in Cf::kMeta is replicated through
// Raft (the Compact command); reads below C are refused from then on. The
// rows themselves are removed later by CompactStep, in bounded batches run by
// each node on its own (physical progress in Cf::kMeta "compact_cursor"). A
// row below C that is still present never changes an answer: Range at R >= C
// picks the latest version <= R, and events at or below C are never replayed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sm/record.h"
#include "sm/view.h"
#include "storage/store.h"
#include "storage/write_batch.h"

namespace aspen::sm {

inline constexpr std::uint8_t kHistoryEventTagV1 = 0x01;                         // DO NOT CHANGE
inline constexpr char kHistoryEventPrefix = 'r';                                 // DO NOT CHANGE
inline constexpr char kHistoryVersionPrefix = 'k';                               // DO NOT CHANGE
inline constexpr std::string_view kMetaCompactRevisionKey = "compact_revision";  // DO NOT CHANGE
inline constexpr std::string_view kMetaCompactCursorKey = "compact_cursor";      // DO NOT CHANGE

// One change of one key.
struct HistoryEvent {
  std::int64_t revision = 0;
  std::uint32_t sub = 0;
  bool deleted = false;
  std::string key;
  KvMeta meta;        // puts only
  std::string value;  // puts only
};

std::string HistoryEventKey(std::int64_t revision, std::uint32_t sub);
Status DecodeHistoryEventKey(std::string_view bytes, std::int64_t* revision, std::uint32_t* sub);
std::string EncodeHistoryEvent(bool deleted, std::string_view key, const KvMeta& meta,
                               std::string_view value);
// Fills everything but revision and sub. Corruption names the faulty field.
Status DecodeHistoryEvent(std::string_view bytes, HistoryEvent* event);

std::string HistoryVersionKey(std::string_view key, std::int64_t revision, std::uint32_t sub);
// The first version row of `key` (its newest version) and the first key after
// all of them.
std::string HistoryVersionPrefix(std::string_view key);
// [begin, end) over the version rows of every key in [lo, hi); nullopt hi =
// no upper bound.
std::pair<std::string, std::optional<std::string>> HistoryVersionSpan(
    std::string_view lo, const std::optional<std::string>& hi);
struct HistoryVersion {
  std::string key;
  std::int64_t revision = 0;
  std::uint32_t sub = 0;
  bool deleted = false;
};
Status DecodeHistoryVersion(std::string_view row_key, std::string_view row_value,
                            HistoryVersion* out);

// Appends the rows of one change (called by the apply path).
void AddHistoryRows(Overlay* overlay, const HistoryEvent& event);

// The version of `key` live at revision `at` (its newest change <= at, when
// that is a put); nullopt when the key did not exist then.
Status ReadVersionAt(const KvView& view, std::string_view key, std::int64_t at,
                     std::optional<HistoryEvent>* out);
// The version of `key` just before change (revision, sub): what etcd's
// prev_kv shows. nullopt when there was none or it was a deletion.
Status ReadPrevVersion(const KvView& view, std::string_view key, std::int64_t revision,
                       std::uint32_t sub, std::optional<HistoryEvent>* out);

// Events with revision in [from, to] in (revision, sub) order. Stops after
// the revision in which `max_events` was reached (a revision is never split),
// and sets *next to the first revision not returned (to + 1 when complete).
Status ReadEvents(const KvView& view, std::int64_t from, std::int64_t to, std::size_t max_events,
                  std::vector<HistoryEvent>* out, std::int64_t* next);

struct CompactionState {
  std::int64_t compact_revision = 0;  // 0: never compacted
  // Every event below (cursor_revision, cursor_sub) has been processed by
  // CompactStep; the physical compaction of C is done when cursor_revision > C.
  std::int64_t cursor_revision = 1;
  std::uint32_t cursor_sub = 0;

  std::int64_t done_revision() const { return cursor_revision - 1; }
  bool pending() const { return compact_revision > done_revision(); }
};
Result<CompactionState> ReadCompactionState(const storage::Snapshot& snapshot);

struct CompactStepResult {
  storage::WriteBatch batch;  // deletions and the new cursor; empty when nothing was pending
  CompactionState state;      // as of after the batch
  std::size_t rows_deleted = 0;
};
// Processes up to `max_events` history events of the pending compaction (if
// any): each event removes the older versions of its key, and a deletion
// removes itself. Read-only on the snapshot; the caller writes the batch
// (unsynced) before the next step.
Result<CompactStepResult> CompactStep(const storage::Snapshot& snapshot, std::size_t max_events);

}  // namespace aspen::sm
