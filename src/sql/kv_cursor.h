// KvCursor: executes a KvPlan against the query's snapshot, one row at a time.
//
// Rows are the live kv rows (expired TTL keys are skipped as of the query's
// now_ms). Cells are decoded lazily: xColumn of `value` is the only place a
// value is materialized (counted in ScanCounters::values_decoded), so
// COUNT(*) and key-only queries never copy a value.
//
// Errors (storage faults, a malformed record, the deadline) come back as a
// non-ok Status; the cursor is then at EOF.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "sm/record.h"
#include "sql/context.h"
#include "sql/key_space.h"
#include "sql/kv_plan.h"

namespace aspen::sql {

class KvCursor {
 public:
  explicit KvCursor(QueryContext* ctx) : ctx_(ctx) {}

  // Starts the scan described by `plan` with xFilter's arguments.
  Status Filter(const KvPlan& plan, int argc, sqlite3_value** argv);
  Status Next();
  bool Eof() const { return eof_; }
  // Sets the result of column `col` (a KvColumn) of the current row.
  void Column(sqlite3_context* out, int col);
  std::int64_t Rowid() const { return static_cast<std::int64_t>(produced_); }

 private:
  // One ordered pass over Cf::kKv (kKey plans) or Cf::kIndex (index plans).
  struct Segment {
    ByteRange range;
    bool descending = false;
    std::optional<KeyClass> only_class;  // keep only keys of this class
    bool check_space = false;            // keep only keys that match space_
  };

  Status BuildKeyPlan(const KvPlan& plan, int argc, sqlite3_value** argv);
  Status BuildIndexPlan(const KvPlan& plan, int argc, sqlite3_value** argv);
  void BuildSegments(const KvPlan& plan);
  void SortPoints(const KvPlan& plan);
  // The keys to read when the key constraints leave single keys only.
  std::optional<std::vector<std::pair<KeyClass, std::string>>> SinglePoints() const;
  // Moves to the next row that passes every check, starting at the current
  // position (advance=false) or after it.
  Status Settle(bool advance);
  Status NextPoint(bool* found);
  Status NextInSegment(bool advance, bool* found);
  Status AcceptKvRow(std::string_view key, std::string_view record, bool* ok);
  Status AcceptIndexRow(std::string_view index_key, bool* ok);

  QueryContext* ctx_;
  bool eof_ = true;
  std::uint64_t produced_ = 0;
  std::uint64_t row_budget_ = UINT64_MAX;  // LIMIT + OFFSET when pushed down

  PlanKind kind_ = PlanKind::kKey;
  KeySpace space_{false};
  bool has_points_ = false;
  std::vector<std::pair<KeyClass, std::string>> points_;
  std::size_t next_point_ = 0;
  std::vector<Segment> segments_;
  std::size_t segment_ = 0;
  std::unique_ptr<storage::Iterator> it_;
  bool segment_started_ = false;
  std::uint64_t steps_ = 0;

  // The current row. Views point into owned_key_/owned_record_ or the iterator.
  std::string owned_key_;
  std::string owned_record_;
  std::string_view key_;
  sm::KvMeta meta_;
  std::string_view value_;
};

}  // namespace aspen::sql

namespace aspen::sql {

// Narrows [*lo, *hi] for "int_column op rhs" exactly as SQLite compares an
// INTEGER column (numeric affinity applied to rhs, then numbers < TEXT <
// BLOB; NULL matches nothing). Returns false when no row can match.
bool NarrowIntRange(CmpOp op, sqlite3_value* rhs, std::int64_t* lo, std::int64_t* hi);

// The operator of a comparison argument; asserts `op` is one.
CmpOp ToCmpOp(ArgOp op);

}  // namespace aspen::sql
