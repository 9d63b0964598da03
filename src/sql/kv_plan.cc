// xBestIndex of the kv table: the candidate plans, their costs, and which
// constraints SQLite may stop checking (omit). The rules that keep pushdown
// from changing results (docs/SQL.md, "Pushdown"):
//   - omit=1 only where the cursor enforces the constraint exactly:
//     key/key_bytes comparisons with BINARY collation (class-aware, see
//     key_space.h), IN lists, and the indexed integer columns;
//   - LIKE/GLOB on key push only the literal prefix before the first
//     wildcard as a byte range, with omit=0 (SQLite re-checks the pattern);
//   - LIMIT/OFFSET bound how many rows the cursor produces only when every
//     other constraint of the scan has omit=1 and the ORDER BY is absent or
//     consumed; SQLite still applies them itself (omit=0), so a limit that
//     already counts the offset costs rows, never correctness.
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/assert.h"
#include "sql/key_space.h"
#include "sql/kv_plan.h"

namespace aspen::sql {

std::string KvPlan::Encode() const {
  std::string s;
  s.push_back(static_cast<char>(kind));
  char order = '-';
  if (order_consumed) order = descending ? 'd' : 'a';
  if (order_consumed && order_by_bytes) order = descending ? 'D' : 'A';
  s.push_back(order);
  for (const PlanArg& a : args) {
    s.push_back(static_cast<char>('0' + a.column));
    s.push_back(static_cast<char>(a.op));
  }
  return s;
}

std::optional<KvPlan> KvPlan::Decode(const char* idx_str) {
  if (idx_str == nullptr) return std::nullopt;
  const std::string_view s(idx_str);
  if (s.size() < 2 || s.size() % 2 != 0) return std::nullopt;
  KvPlan p;
  p.kind = static_cast<PlanKind>(s[0]);
  p.order_consumed = s[1] != '-';
  p.descending = s[1] == 'd' || s[1] == 'D';
  p.order_by_bytes = s[1] == 'A' || s[1] == 'D';
  for (std::size_t i = 2; i < s.size(); i += 2) {
    const int col = s[i] - '0';
    if (col < 0 || col >= kNumKvColumns) return std::nullopt;
    p.args.push_back(PlanArg{col, static_cast<ArgOp>(s[i + 1])});
  }
  return p;
}

namespace {

struct Candidate {
  KvPlan plan;
  std::vector<int> constraint_of_arg;  // aConstraint index of each arg
  std::vector<bool> omit;              // parallel to args
  double rows = kAssumedTableRows;
  double cost = 0;
  bool unique = false;
};

std::optional<ArgOp> ComparisonOp(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return ArgOp::kEq;
    case SQLITE_INDEX_CONSTRAINT_GT: return ArgOp::kGt;
    case SQLITE_INDEX_CONSTRAINT_GE: return ArgOp::kGe;
    case SQLITE_INDEX_CONSTRAINT_LT: return ArgOp::kLt;
    case SQLITE_INDEX_CONSTRAINT_LE: return ArgOp::kLe;
    default: return std::nullopt;
  }
}

bool BinaryCollation(sqlite3_index_info* idx, int i) {
  const char* coll = sqlite3_vtab_collation(idx, i);
  return coll == nullptr || sqlite3_stricmp(coll, "BINARY") == 0;
}

void AddArg(Candidate* c, int constraint, int column, ArgOp op, bool omit) {
  c->plan.args.push_back(PlanArg{column, op});
  c->constraint_of_arg.push_back(constraint);
  c->omit.push_back(omit);
}

// The key plan over `column` (kColKey or kColKeyBytes).
Candidate KeyCandidate(sqlite3_index_info* idx, int column) {
  Candidate c;
  c.plan.kind = PlanKind::kKey;
  bool eq = false, in = false, lower = false, upper = false, prefix = false;
  for (int i = 0; i < idx->nConstraint; ++i) {
    const auto& con = idx->aConstraint[i];
    if (!con.usable || con.iColumn != column) continue;
    if (con.op == SQLITE_INDEX_CONSTRAINT_LIKE || con.op == SQLITE_INDEX_CONSTRAINT_GLOB) {
      // Only on key: SQLite's LIKE/GLOB of a BLOB operand do not match by bytes.
      if (column != kColKey) continue;
      const bool glob = con.op == SQLITE_INDEX_CONSTRAINT_GLOB;
      // omit=0: SQLite re-checks the whole pattern (it never matches a BLOB
      // operand, while the pushed prefix range holds keys of both classes).
      AddArg(&c, i, column, glob ? ArgOp::kGlob : ArgOp::kLike, false);
      prefix = true;
      continue;
    }
    std::optional<ArgOp> op = ComparisonOp(con.op);
    if (!op.has_value() || !BinaryCollation(idx, i)) continue;
    if (*op == ArgOp::kEq && sqlite3_vtab_in(idx, i, -1)) {
      sqlite3_vtab_in(idx, i, 1);  // all values at once, in xFilter
      AddArg(&c, i, column, ArgOp::kIn, true);
      in = true;
      continue;
    }
    AddArg(&c, i, column, *op, true);
    eq = eq || *op == ArgOp::kEq;
    lower = lower || *op == ArgOp::kGt || *op == ArgOp::kGe;
    upper = upper || *op == ArgOp::kLt || *op == ArgOp::kLe;
  }
  double rows = kAssumedTableRows;
  if (eq) {
    rows = 1;
    c.unique = true;
  } else if (in) {
    rows = 10;
  } else {
    if (prefix) rows /= 100;
    if (lower && upper) {
      rows /= 50;
    } else if (lower || upper) {
      rows /= 4;
    }
  }
  c.rows = std::max(rows, 1.0);
  c.cost = 10 + c.rows;  // a seek, then one step per row
  return c;
}

// A plan over the secondary index of `column`, or nullopt without a usable
// constraint on it.
std::optional<Candidate> IndexCandidate(sqlite3_index_info* idx, int column, PlanKind kind) {
  Candidate c;
  c.plan.kind = kind;
  bool eq = false, lower = false, upper = false;
  for (int i = 0; i < idx->nConstraint; ++i) {
    const auto& con = idx->aConstraint[i];
    if (!con.usable || con.iColumn != column) continue;
    std::optional<ArgOp> op = ComparisonOp(con.op);
    if (!op.has_value() || (*op == ArgOp::kEq && sqlite3_vtab_in(idx, i, -1))) continue;
    AddArg(&c, i, column, *op, true);
    eq = eq || *op == ArgOp::kEq;
    lower = lower || *op == ArgOp::kGt || *op == ArgOp::kGe;
    upper = upper || *op == ArgOp::kLt || *op == ArgOp::kLe;
  }
  if (c.plan.args.empty()) return std::nullopt;
  double rows = kAssumedTableRows;
  if (eq) {
    rows = kind == PlanKind::kLeaseId ? 100 : 2;  // a lease holds many keys; a revision few
  } else if (lower && upper) {
    rows /= 50;
  } else {
    rows /= 4;
  }
  c.rows = std::max(rows, 1.0);
  c.cost = 10 + 3 * c.rows;  // an index row plus a point read of the kv row
  return c;
}

// ORDER BY key / key_bytes (one term), consumable by a key plan.
void ConsumeOrder(const sqlite3_index_info* idx, Candidate* c) {
  if (idx->nOrderBy != 1) return;
  const int col = idx->aOrderBy[0].iColumn;
  if (col != kColKey && col != kColKeyBytes) return;
  c->plan.order_consumed = true;
  c->plan.descending = idx->aOrderBy[0].desc != 0;
  c->plan.order_by_bytes = col == kColKeyBytes;
}

// LIMIT/OFFSET may bound the scan only when every other constraint is
// enforced exactly by the cursor and the order is SQLite's to keep or absent.
void MaybeAddLimit(sqlite3_index_info* idx, Candidate* c) {
  if (idx->nOrderBy > 0 && !c->plan.order_consumed) return;
  int limit = -1, offset = -1;
  for (int i = 0; i < idx->nConstraint; ++i) {
    const auto& con = idx->aConstraint[i];
    if (con.op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
      if (con.usable) limit = i;
      continue;
    }
    if (con.op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
      if (con.usable) offset = i;
      continue;
    }
    const auto it = std::find(c->constraint_of_arg.begin(), c->constraint_of_arg.end(), i);
    if (it == c->constraint_of_arg.end()) return;  // a constraint SQLite must check
    if (!c->omit[static_cast<std::size_t>(it - c->constraint_of_arg.begin())]) return;
  }
  if (limit < 0) return;
  AddArg(c, limit, 0, ArgOp::kLimit, false);
  if (offset >= 0) AddArg(c, offset, 0, ArgOp::kOffset, false);
}

int CountOn(const sqlite3_index_info* idx, int column) {
  int n = 0;
  for (int i = 0; i < idx->nConstraint; ++i) {
    if (idx->aConstraint[i].usable && idx->aConstraint[i].iColumn == column) ++n;
  }
  return n;
}

}  // namespace

void ChooseKvPlan(sqlite3_index_info* idx) {
  // Key constraints on key_bytes when there are more of them than on key.
  const int key_column =
      CountOn(idx, kColKeyBytes) > CountOn(idx, kColKey) ? kColKeyBytes : kColKey;
  Candidate best = KeyCandidate(idx, key_column);
  ConsumeOrder(idx, &best);
  const std::pair<int, PlanKind> indexed[] = {{kColModRevision, PlanKind::kModRevision},
                                              {kColCreateRevision, PlanKind::kCreateRevision},
                                              {kColExpiresAt, PlanKind::kExpiresAt},
                                              {kColLeaseId, PlanKind::kLeaseId}};
  for (const auto& [column, kind] : indexed) {
    std::optional<Candidate> c = IndexCandidate(idx, column, kind);
    if (c.has_value() && c->cost < best.cost) best = std::move(*c);
  }
  MaybeAddLimit(idx, &best);
  for (std::size_t a = 0; a < best.plan.args.size(); ++a) {
    auto& usage = idx->aConstraintUsage[best.constraint_of_arg[a]];
    usage.argvIndex = static_cast<int>(a) + 1;
    usage.omit = best.omit[a] ? 1 : 0;
  }
  const std::string encoded = best.plan.Encode();
  idx->idxStr = sqlite3_mprintf("%s", encoded.c_str());
  idx->needToFreeIdxStr = 1;
  idx->orderByConsumed = best.plan.order_consumed ? 1 : 0;
  idx->estimatedRows = static_cast<sqlite3_int64>(best.rows);
  idx->estimatedCost = best.cost;
  if (best.unique) idx->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
}

}  // namespace aspen::sql
