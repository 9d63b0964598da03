#include "sql/kv_cursor.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"
#include "sm/index.h"

namespace aspen::sql {

namespace {

// How often (in rows stepped over) a scan checks the query deadline.
constexpr std::uint64_t kDeadlineCheckRows = 1024;

KeyOperand OperandOf(sqlite3_value* v) {
  KeyOperand op;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: op.kind = KeyOperand::kNumber; break;
    case SQLITE_TEXT: {
      op.kind = KeyOperand::kText;
      const char* text = reinterpret_cast<const char*>(sqlite3_value_text(v));
      const int n = sqlite3_value_bytes(v);
      if (text != nullptr && n > 0) op.bytes.assign(text, static_cast<std::size_t>(n));
      break;
    }
    case SQLITE_BLOB: {
      op.kind = KeyOperand::kBlob;
      const void* blob = sqlite3_value_blob(v);
      const int n = sqlite3_value_bytes(v);
      if (n > 0) op.bytes.assign(static_cast<const char*>(blob), static_cast<std::size_t>(n));
      break;
    }
    default: op.kind = KeyOperand::kNull; break;
  }
  return op;
}

std::optional<sm::IndexName> IndexOf(PlanKind kind) {
  switch (kind) {
    case PlanKind::kModRevision: return sm::IndexName::kModRevision;
    case PlanKind::kCreateRevision: return sm::IndexName::kCreateRevision;
    case PlanKind::kExpiresAt: return sm::IndexName::kExpiresAt;
    case PlanKind::kLeaseId: return sm::IndexName::kLeaseId;
    case PlanKind::kKey: return std::nullopt;
  }
  return std::nullopt;
}

std::int64_t IndexedValue(PlanKind kind, const sm::KvMeta& meta) {
  switch (kind) {
    case PlanKind::kModRevision: return meta.mod_revision;
    case PlanKind::kCreateRevision: return meta.create_revision;
    case PlanKind::kExpiresAt: return meta.expires_at_ms;
    case PlanKind::kLeaseId: return meta.lease;
    case PlanKind::kKey: break;
  }
  ASPEN_ASSERT(false);
  return 0;
}

// The smallest range holding both (the cursor re-checks each key).
ByteRange Union(const ByteRange& a, const ByteRange& b) {
  if (a.empty) return b;
  if (b.empty) return a;
  ByteRange u;
  if (a.lower && b.lower) {
    const int c = a.lower->compare(*b.lower);
    u.lower = c <= 0 ? a.lower : b.lower;
    u.lower_inclusive = c < 0   ? a.lower_inclusive
                        : c > 0 ? b.lower_inclusive
                                : a.lower_inclusive || b.lower_inclusive;
  }
  if (a.upper && b.upper) {
    const int c = a.upper->compare(*b.upper);
    u.upper = c >= 0 ? a.upper : b.upper;
    u.upper_inclusive = c > 0   ? a.upper_inclusive
                        : c < 0 ? b.upper_inclusive
                                : a.upper_inclusive || b.upper_inclusive;
  }
  return u;
}

}  // namespace

CmpOp ToCmpOp(ArgOp op) {
  switch (op) {
    case ArgOp::kEq: return CmpOp::kEq;
    case ArgOp::kGt: return CmpOp::kGt;
    case ArgOp::kGe: return CmpOp::kGe;
    case ArgOp::kLt: return CmpOp::kLt;
    case ArgOp::kLe: return CmpOp::kLe;
    default: break;
  }
  ASPEN_ASSERT(false);
  return CmpOp::kEq;
}

bool NarrowIntRange(CmpOp op, sqlite3_value* rhs, std::int64_t* lo, std::int64_t* hi) {
  const int type = sqlite3_value_numeric_type(rhs);
  if (type == SQLITE_NULL) return false;
  if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
    // Every integer sorts below TEXT and BLOB.
    return op == CmpOp::kLt || op == CmpOp::kLe;
  }
  std::int64_t want_lo = INT64_MIN, want_hi = INT64_MAX;
  if (type == SQLITE_INTEGER) {
    const std::int64_t v = sqlite3_value_int64(rhs);
    switch (op) {
      case CmpOp::kEq: want_lo = want_hi = v; break;
      case CmpOp::kGt:
        if (v == INT64_MAX) return false;
        want_lo = v + 1;
        break;
      case CmpOp::kGe: want_lo = v; break;
      case CmpOp::kLt:
        if (v == INT64_MIN) return false;
        want_hi = v - 1;
        break;
      case CmpOp::kLe: want_hi = v; break;
    }
  } else {
    const double r = sqlite3_value_double(rhs);
    if (std::isnan(r)) return false;
    constexpr double kTwo63 = 9223372036854775808.0;
    const double fl = std::floor(r), ce = std::ceil(r);
    switch (op) {
      case CmpOp::kEq:
        if (fl != r || r < -kTwo63 || r >= kTwo63) return false;
        want_lo = want_hi = static_cast<std::int64_t>(r);
        break;
      case CmpOp::kGt:
      case CmpOp::kGe: {
        const double bound = op == CmpOp::kGt ? fl + 1 : ce;
        if (bound >= kTwo63) return false;
        if (bound > -kTwo63) want_lo = static_cast<std::int64_t>(bound);
        break;
      }
      case CmpOp::kLt:
      case CmpOp::kLe: {
        const double bound = op == CmpOp::kLt ? ce - 1 : fl;
        if (bound < -kTwo63) return false;
        if (bound < kTwo63) want_hi = static_cast<std::int64_t>(bound);
        break;
      }
    }
  }
  *lo = std::max(*lo, want_lo);
  *hi = std::min(*hi, want_hi);
  return *lo <= *hi;
}

Status KvCursor::Filter(const KvPlan& plan, int argc, sqlite3_value** argv) {
  ASPEN_ASSERT(static_cast<std::size_t>(argc) == plan.args.size());
  kind_ = plan.kind;
  produced_ = 0;
  row_budget_ = UINT64_MAX;
  points_.clear();
  has_points_ = false;
  next_point_ = 0;
  segments_.clear();
  segment_ = 0;
  it_.reset();
  segment_started_ = false;
  eof_ = false;
  std::int64_t limit = -1, offset = 0;
  for (int i = 0; i < argc; ++i) {
    const ArgOp op = plan.args[static_cast<std::size_t>(i)].op;
    if (op == ArgOp::kLimit) limit = sqlite3_value_int64(argv[i]);
    if (op == ArgOp::kOffset) offset = std::max<std::int64_t>(0, sqlite3_value_int64(argv[i]));
  }
  if (limit >= 0)
    row_budget_ = static_cast<std::uint64_t>(limit) + static_cast<std::uint64_t>(offset);
  Status s = plan.kind == PlanKind::kKey ? BuildKeyPlan(plan, argc, argv)
                                         : BuildIndexPlan(plan, argc, argv);
  if (!s.ok()) {
    eof_ = true;
    return s;
  }
  return Settle(/*advance=*/false);
}

Status KvCursor::BuildKeyPlan(const KvPlan& plan, int argc, sqlite3_value** argv) {
  const bool bytes_col = !plan.args.empty() && plan.args[0].column == kColKeyBytes;
  space_ = KeySpace(bytes_col);
  std::optional<std::vector<std::pair<KeyClass, std::string>>> in_set;
  for (int i = 0; i < argc; ++i) {
    const PlanArg& a = plan.args[static_cast<std::size_t>(i)];
    switch (a.op) {
      case ArgOp::kLimit:
      case ArgOp::kOffset: break;
      case ArgOp::kLike:
      case ArgOp::kGlob: {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
          space_.Apply(CmpOp::kEq, KeyOperand{});  // LIKE NULL matches nothing
          break;
        }
        const char* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[i]));
        if (text == nullptr) return Status::ResourceExhausted("out of memory reading a pattern");
        space_.ApplyPrefix(PatternPrefix(
            std::string_view(text, static_cast<std::size_t>(sqlite3_value_bytes(argv[i]))),
            a.op == ArgOp::kGlob));
        break;
      }
      case ArgOp::kIn: {
        std::vector<std::pair<KeyClass, std::string>> values;
        sqlite3_value* v = nullptr;
        for (int rc = sqlite3_vtab_in_first(argv[i], &v); rc == SQLITE_OK && v != nullptr;
             rc = sqlite3_vtab_in_next(argv[i], &v)) {
          if (auto p = PointOf(OperandOf(v), bytes_col)) values.push_back(std::move(*p));
        }
        std::sort(values.begin(), values.end());
        if (in_set.has_value()) {
          std::vector<std::pair<KeyClass, std::string>> both;
          std::set_intersection(in_set->begin(), in_set->end(), values.begin(), values.end(),
                                std::back_inserter(both));
          values = std::move(both);
        }
        in_set = std::move(values);
        break;
      }
      default: space_.Apply(ToCmpOp(a.op), OperandOf(argv[i])); break;
    }
  }
  if (!in_set.has_value()) in_set = SinglePoints();
  if (in_set.has_value()) {
    has_points_ = true;
    for (auto& p : *in_set) {
      if (space_.range(p.first).Contains(p.second)) points_.push_back(std::move(p));
    }
    SortPoints(plan);
  } else {
    BuildSegments(plan);
  }
  return Status::Ok();
}

std::optional<std::vector<std::pair<KeyClass, std::string>>> KvCursor::SinglePoints() const {
  // Point reads (Get) are cheaper than an iterator when every non-empty class
  // range is a single key, as for "key = ?".
  std::vector<std::pair<KeyClass, std::string>> points;
  for (KeyClass c : {KeyClass::kText, KeyClass::kBlob}) {
    const ByteRange& r = space_.range(c);
    if (r.empty) continue;
    if (!r.lower || !r.upper || *r.lower != *r.upper || !r.lower_inclusive || !r.upper_inclusive) {
      return std::nullopt;
    }
    // The stored key with these bytes has this class only if its bytes say so.
    if (space_.key_bytes_column() || ClassOfKey(*r.lower) == c) points.emplace_back(c, *r.lower);
  }
  return points;
}

void KvCursor::SortPoints(const KvPlan& plan) {
  // Sorted and unique in SQL order (class, bytes) already; byte order drops
  // the class (a key has one class, so no duplicates appear).
  if (plan.order_by_bytes) {
    std::sort(points_.begin(), points_.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
  }
  points_.erase(std::unique(points_.begin(), points_.end()), points_.end());
  if (plan.order_consumed && plan.descending) std::reverse(points_.begin(), points_.end());
}

void KvCursor::BuildSegments(const KvPlan& plan) {
  const ByteRange& text = space_.range(KeyClass::kText);
  const ByteRange& blob = space_.range(KeyClass::kBlob);
  const bool desc = plan.order_consumed && plan.descending;
  if (plan.order_consumed && !plan.order_by_bytes && !text.empty && !blob.empty) {
    // SQL order: every TEXT key before every BLOB key.
    Segment t{text, desc, KeyClass::kText, false};
    Segment b{blob, desc, KeyClass::kBlob, false};
    if (desc) std::swap(t, b);
    segments_.push_back(std::move(t));
    segments_.push_back(std::move(b));
    return;
  }
  if (text.empty && blob.empty) return;
  Segment s;
  s.range = Union(text, blob);
  s.descending = desc;
  // One pass over the union; keys are re-checked against their own class's
  // range unless only one class is left or both ranges are equal.
  s.check_space = !text.empty && !blob.empty && !(text == blob);
  s.only_class = text.empty   ? std::optional<KeyClass>(KeyClass::kBlob)
                 : blob.empty ? std::optional<KeyClass>(KeyClass::kText)
                              : std::nullopt;
  if (space_.key_bytes_column()) s.only_class.reset();  // every key is a BLOB there
  segments_.push_back(std::move(s));
}

Status KvCursor::BuildIndexPlan(const KvPlan& plan, int argc, sqlite3_value** argv) {
  std::int64_t lo = INT64_MIN, hi = INT64_MAX;
  bool possible = true;
  for (int i = 0; i < argc && possible; ++i) {
    const PlanArg& a = plan.args[static_cast<std::size_t>(i)];
    if (a.op == ArgOp::kLimit || a.op == ArgOp::kOffset) continue;
    possible = NarrowIntRange(ToCmpOp(a.op), argv[i], &lo, &hi);
  }
  // expires_at_ms <= now_ms is expired, hence invisible.
  if (plan.kind == PlanKind::kExpiresAt && ctx_->now_ms < INT64_MAX) {
    lo = std::max(lo, ctx_->now_ms + 1);
  }
  if (!possible || lo > hi) return Status::Ok();
  const auto [begin, end] = sm::IndexValueRange(*IndexOf(plan.kind), lo, hi);
  Segment s;
  s.range.lower = begin;
  s.range.upper = end;
  segments_.push_back(std::move(s));
  return Status::Ok();
}

Status KvCursor::Next() {
  ++produced_;
  return Settle(/*advance=*/true);
}

Status KvCursor::Settle(bool advance) {
  if (produced_ >= row_budget_) {
    eof_ = true;
    return Status::Ok();
  }
  bool found = false;
  Status s = has_points_ ? NextPoint(&found) : NextInSegment(advance, &found);
  if (!s.ok() || !found) eof_ = true;
  if (found) ++ctx_->counters.rows_produced;
  return s;
}

Status KvCursor::NextPoint(bool* found) {
  while (next_point_ < points_.size()) {
    if (++steps_ % kDeadlineCheckRows == 0 && ctx_->PastDeadline()) {
      return Status(Code::kDeadlineExceeded, "query timed out");
    }
    owned_key_ = points_[next_point_++].second;
    Status s = ctx_->snapshot->Get(storage::Cf::kKv, owned_key_, &owned_record_);
    if (s.code() == Code::kNotFound) continue;
    ASPEN_RETURN_IF_ERROR(s);
    ++ctx_->counters.kv_rows_read;
    bool ok = false;
    ASPEN_RETURN_IF_ERROR(AcceptKvRow(owned_key_, owned_record_, &ok));
    if (ok) {
      *found = true;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status KvCursor::NextInSegment(bool advance, bool* found) {
  while (segment_ < segments_.size()) {
    const Segment& seg = segments_[segment_];
    if (!segment_started_) {
      const std::string begin = seg.range.Begin();
      const std::optional<std::string> end = seg.range.End();
      const storage::Cf cf = kind_ == PlanKind::kKey ? storage::Cf::kKv : storage::Cf::kIndex;
      it_ = ctx_->snapshot->NewIterator(cf, begin, end);
      if (seg.descending) {
        it_->SeekToLast();
      } else {
        it_->SeekToFirst();
      }
      segment_started_ = true;
      advance = false;
    }
    for (; it_->Valid(); advance = true) {
      if (advance) {
        seg.descending ? it_->Prev() : it_->Next();
        if (!it_->Valid()) break;
      }
      if (++steps_ % kDeadlineCheckRows == 0 && ctx_->PastDeadline()) {
        return Status(Code::kDeadlineExceeded, "query timed out");
      }
      bool ok = false;
      if (kind_ == PlanKind::kKey) {
        const std::string_view key = it_->key();
        ++ctx_->counters.kv_rows_read;
        if (seg.only_class.has_value() && ClassOfKey(key) != *seg.only_class) continue;
        if (seg.check_space && !space_.Matches(key)) continue;
        ASPEN_RETURN_IF_ERROR(AcceptKvRow(key, it_->value(), &ok));
      } else {
        ASPEN_RETURN_IF_ERROR(AcceptIndexRow(it_->key(), &ok));
      }
      if (ok) {
        *found = true;
        return Status::Ok();
      }
    }
    ASPEN_RETURN_IF_ERROR(it_->status());
    it_.reset();
    segment_started_ = false;
    ++segment_;
    advance = false;
  }
  return Status::Ok();
}

Status KvCursor::AcceptKvRow(std::string_view key, std::string_view record, bool* ok) {
  Status s = sm::DecodeKvRecord(record, &meta_, &value_);
  if (!s.ok()) return Status::Corruption("kv row: " + s.message());
  key_ = key;
  *ok = !meta_.ExpiredAt(ctx_->now_ms);
  return Status::Ok();
}

Status KvCursor::AcceptIndexRow(std::string_view index_key, bool* ok) {
  ++ctx_->counters.index_rows_read;
  sm::IndexEntry entry;
  ASPEN_RETURN_IF_ERROR(sm::DecodeIndexKey(*IndexOf(kind_), index_key, &entry));
  owned_key_ = std::move(entry.key);
  Status s = ctx_->snapshot->Get(storage::Cf::kKv, owned_key_, &owned_record_);
  if (s.code() == Code::kNotFound) return Status::Corruption("index row has no kv row");
  ASPEN_RETURN_IF_ERROR(s);
  ++ctx_->counters.kv_rows_read;
  ASPEN_RETURN_IF_ERROR(AcceptKvRow(owned_key_, owned_record_, ok));
  if (IndexedValue(kind_, meta_) != entry.value) {
    return Status::Corruption("index row disagrees with its kv row");
  }
  return Status::Ok();
}

void KvCursor::Column(sqlite3_context* out, int col) {
  switch (col) {
    case kColKey:
    case kColKeyBytes: {
      const int n = static_cast<int>(key_.size());
      if (col == kColKey && ClassOfKey(key_) == KeyClass::kText) {
        sqlite3_result_text(out, key_.data(), n, SQLITE_TRANSIENT);
      } else {
        sqlite3_result_blob(out, key_.data(), n, SQLITE_TRANSIENT);
      }
      break;
    }
    case kColValue: {
      ++ctx_->counters.values_decoded;
      const int n = static_cast<int>(value_.size());
      if (ClassOfKey(value_) == KeyClass::kText) {
        sqlite3_result_text(out, value_.data(), n, SQLITE_TRANSIENT);
      } else {
        sqlite3_result_blob(out, value_.data(), n, SQLITE_TRANSIENT);
      }
      break;
    }
    case kColVersion: sqlite3_result_int64(out, meta_.version); break;
    case kColCreateRevision: sqlite3_result_int64(out, meta_.create_revision); break;
    case kColModRevision: sqlite3_result_int64(out, meta_.mod_revision); break;
    case kColExpiresAt:
      if (meta_.expires_at_ms == 0) {
        sqlite3_result_null(out);
      } else {
        sqlite3_result_int64(out, meta_.expires_at_ms);
      }
      break;
    case kColLeaseId:
      if (meta_.lease == 0) {
        sqlite3_result_null(out);
      } else {
        sqlite3_result_int64(out, meta_.lease);
      }
      break;
    default: sqlite3_result_null(out); break;
  }
}

}  // namespace aspen::sql
