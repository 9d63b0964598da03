// KvPlan: how the kv virtual table answers one scan, chosen in xBestIndex and
// carried to xFilter in idxStr (SQLite owns the string between the two).
//
// Plans:
//   kKey          a scan of Cf::kKv, narrowed by key constraints (=, IN, <,
//                 <=, >, >=, LIKE/GLOB prefix) on key or key_bytes; can
//                 produce ORDER BY key (either direction); a full scan when
//                 no key constraint is usable.
//   kModRevision, kCreateRevision, kExpiresAt, kLeaseId
//                 a scan of one secondary index (Cf::kIndex) over a value
//                 range, then a point read of each kv row.
//
// Every argv handed to xFilter is described by one PlanArg, in argv order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sqlite3.h>

namespace aspen::sql {

enum KvColumn : int {
  kColKey = 0,
  kColValue = 1,
  kColVersion = 2,
  kColCreateRevision = 3,
  kColModRevision = 4,
  kColExpiresAt = 5,
  kColLeaseId = 6,
  kColKeyBytes = 7,  // HIDDEN: the key as a BLOB, always
};
inline constexpr int kNumKvColumns = 8;

enum class PlanKind : char {
  kKey = 'K',
  kModRevision = 'M',
  kCreateRevision = 'C',
  kExpiresAt = 'E',
  kLeaseId = 'L',
};

enum class ArgOp : char {
  kEq = '=',
  kIn = 'i',
  kGt = '>',
  kGe = 'g',
  kLt = '<',
  kLe = 'l',
  kLike = 'k',
  kGlob = 'b',
  kLimit = 'm',
  kOffset = 'o',
};

struct PlanArg {
  int column = 0;  // a KvColumn; ignored for kLimit/kOffset
  ArgOp op = ArgOp::kEq;
};

struct KvPlan {
  PlanKind kind = PlanKind::kKey;
  bool order_consumed = false;  // rows come in ORDER BY key (or key_bytes) order
  bool descending = false;
  bool order_by_bytes = false;  // the order is key_bytes' (byte order), not key's (class order)
  std::vector<PlanArg> args;

  std::string Encode() const;
  static std::optional<KvPlan> Decode(const char* idx_str);
};

// Table-size guess used for cost estimates (SQLite only compares costs).
inline constexpr double kAssumedTableRows = 1'000'000;

// Fills idx->aConstraintUsage, idxStr, orderByConsumed, estimatedCost,
// estimatedRows and idxFlags for the cheapest plan. Always succeeds.
void ChooseKvPlan(sqlite3_index_info* idx);

}  // namespace aspen::sql
