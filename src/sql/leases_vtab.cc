// The `leases` virtual table: one row per lease of the state machine.
//
//   id           the lease id
//   granted_ttl  the TTL (seconds) it was granted with
//   ttl          seconds left when the node knows the expiry (EngineOptions::
//                lease_expiry, the leader's lease keeper), else granted_ttl
//                (what a new leader would grant it: etcd extends every lease
//                by its TTL on a leader change)
//   expires_at_ms  the known expiry, NULL when the state machine cannot know it
//   key_count    attached keys that are not expired at the query's now_ms
//
// `id = v` (and id ranges) are enforced here; the rest is left to SQLite.
#include <sqlite3.h>

#include <vector>

#include "sm/reads.h"
#include "sql/kv_cursor.h"
#include "sql/vtabs.h"

namespace aspen::sql {
namespace {

enum LeaseColumn { kColId = 0, kColTtl, kColGrantedTtl, kColLeaseExpiresAt, kColKeyCount };

struct LeasesVtab {
  sqlite3_vtab base{};
  QueryContext* ctx = nullptr;
};

struct LeasesCursor {
  sqlite3_vtab_cursor base{};
  std::vector<sm::LeaseInfo> rows;
  std::size_t pos = 0;
};

QueryContext* Ctx(sqlite3_vtab_cursor* c) {
  return reinterpret_cast<LeasesVtab*>(c->pVtab)->ctx;
}

int Fail(sqlite3_vtab_cursor* c, const Status& s) {
  auto* vtab = reinterpret_cast<LeasesVtab*>(c->pVtab);
  vtab->ctx->scan_error = s;
  sqlite3_free(vtab->base.zErrMsg);
  vtab->base.zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
  return SQLITE_ERROR;
}

int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** err) {
  const int rc = sqlite3_declare_vtab(db, kLeasesSchema);
  if (rc != SQLITE_OK) {
    *err = sqlite3_mprintf("leases: cannot declare the schema");
    return rc;
  }
  auto* vtab = new LeasesVtab();
  vtab->ctx = static_cast<QueryContext*>(aux);
  *out = &vtab->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* v) {
  delete reinterpret_cast<LeasesVtab*>(v);
  return SQLITE_OK;
}

// idxStr: one ArgOp character per argv, all on `id`.
int BestIndex(sqlite3_vtab*, sqlite3_index_info* idx) {
  std::string ops;
  for (int i = 0; i < idx->nConstraint; ++i) {
    const auto& con = idx->aConstraint[i];
    if (!con.usable || con.iColumn != kColId) continue;
    char op = 0;
    switch (con.op) {
      case SQLITE_INDEX_CONSTRAINT_EQ: op = static_cast<char>(ArgOp::kEq); break;
      case SQLITE_INDEX_CONSTRAINT_GT: op = static_cast<char>(ArgOp::kGt); break;
      case SQLITE_INDEX_CONSTRAINT_GE: op = static_cast<char>(ArgOp::kGe); break;
      case SQLITE_INDEX_CONSTRAINT_LT: op = static_cast<char>(ArgOp::kLt); break;
      case SQLITE_INDEX_CONSTRAINT_LE: op = static_cast<char>(ArgOp::kLe); break;
      default: continue;
    }
    if (op == static_cast<char>(ArgOp::kEq) && sqlite3_vtab_in(idx, i, -1)) continue;
    ops.push_back(op);
    idx->aConstraintUsage[i].argvIndex = static_cast<int>(ops.size());
    idx->aConstraintUsage[i].omit = 1;
  }
  const bool eq = ops.find(static_cast<char>(ArgOp::kEq)) != std::string::npos;
  idx->idxStr = sqlite3_mprintf("%s", ops.c_str());
  idx->needToFreeIdxStr = 1;
  idx->estimatedRows = eq ? 1 : 1000;
  idx->estimatedCost = eq ? 5 : 1000;
  if (eq) idx->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = &(new LeasesCursor())->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* c) {
  delete reinterpret_cast<LeasesCursor*>(c);
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* c, int, const char* idx_str, int argc, sqlite3_value** argv) {
  auto* cur = reinterpret_cast<LeasesCursor*>(c);
  QueryContext* ctx = Ctx(c);
  cur->rows.clear();
  cur->pos = 0;
  if (ctx->snapshot == nullptr) {
    return Fail(c,
                Status::FailedPrecondition("leases is readable only through aspen::sql::Engine"));
  }
  const std::string_view ops = idx_str == nullptr ? "" : idx_str;
  if (ops.size() != static_cast<std::size_t>(argc)) {
    return Fail(c, Status::Internal("leases: malformed scan plan"));
  }
  std::int64_t lo = INT64_MIN, hi = INT64_MAX;
  for (int i = 0; i < argc; ++i) {
    if (!NarrowIntRange(ToCmpOp(static_cast<ArgOp>(ops[static_cast<std::size_t>(i)])), argv[i], &lo,
                        &hi)) {
      return SQLITE_OK;  // nothing can match
    }
  }
  Result<std::vector<sm::LeaseInfo>> all = sm::Leases(*ctx->snapshot);
  if (!all.ok()) return Fail(c, all.status());
  for (sm::LeaseInfo& info : *all) {
    ++ctx->counters.lease_rows_read;
    if (info.id >= lo && info.id <= hi) cur->rows.push_back(std::move(info));
  }
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* c) {
  ++reinterpret_cast<LeasesCursor*>(c)->pos;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* c) {
  auto* cur = reinterpret_cast<LeasesCursor*>(c);
  return cur->pos >= cur->rows.size() ? 1 : 0;
}

int Column(sqlite3_vtab_cursor* c, sqlite3_context* out, int col) {
  auto* cur = reinterpret_cast<LeasesCursor*>(c);
  QueryContext* ctx = Ctx(c);
  const sm::LeaseInfo& row = cur->rows[cur->pos];
  std::optional<std::int64_t> expiry;
  if ((col == kColTtl || col == kColLeaseExpiresAt) && ctx->lease_expiry) {
    expiry = ctx->lease_expiry(row.id);
  }
  switch (col) {
    case kColId: sqlite3_result_int64(out, row.id); break;
    case kColGrantedTtl: sqlite3_result_int64(out, row.granted_ttl_s); break;
    case kColTtl:
      if (expiry.has_value()) {
        const std::int64_t left_ms = std::max<std::int64_t>(0, *expiry - ctx->now_ms);
        sqlite3_result_int64(out, (left_ms + 999) / 1000);
      } else {
        sqlite3_result_int64(out, row.granted_ttl_s);
      }
      break;
    case kColLeaseExpiresAt:
      if (expiry.has_value()) {
        sqlite3_result_int64(out, *expiry);
      } else {
        sqlite3_result_null(out);
      }
      break;
    case kColKeyCount: {
      Result<sm::LeaseInfo> live = sm::LeaseTimeToLive(*ctx->snapshot, row.id, ctx->now_ms);
      if (!live.ok()) return Fail(c, live.status());
      sqlite3_result_int64(out, static_cast<std::int64_t>(live->keys.size()));
      break;
    }
    default: sqlite3_result_null(out); break;
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* c, sqlite3_int64* rowid) {
  auto* cur = reinterpret_cast<LeasesCursor*>(c);
  *rowid = cur->rows[cur->pos].id;
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.xConnect = Connect;
  m.xBestIndex = BestIndex;
  m.xDisconnect = Disconnect;
  m.xDestroy = Disconnect;
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = Column;
  m.xRowid = Rowid;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

int RegisterLeasesTable(sqlite3* db, QueryContext* ctx) {
  return sqlite3_create_module(db, "leases", &kModule, ctx);
}

}  // namespace aspen::sql
