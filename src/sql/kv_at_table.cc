// `kv_at(R)`: the kv table as it was at revision R, read from the MVCC
// history (sm/history.h), as an eponymous table-valued function:
//
//   SELECT key, value, mod_revision FROM kv_at(42) WHERE key LIKE 'app/%';
//
// Same columns as `kv` (docs/SQL.md) plus the hidden argument `rev`. R below
// the compacted revision is "mvcc: required revision has been compacted", R
// above the current one "mvcc: required revision is a future revision". The
// rows come from one sm::Range at R (every key, in key order) on the query's
// snapshot, so they are consistent; more than limits::kMaxSqlRows live keys
// at R is an error naming the limit (filters run in SQLite, after the read).
#include <sqlite3.h>

#include <string>
#include <vector>

#include "base/limits.h"
#include "sm/reads.h"
#include "sql/key_space.h"
#include "sql/vtabs.h"

namespace aspen::sql {
namespace {

constexpr const char* kKvAtSchema =
    "CREATE TABLE kv_at(key, value, version INTEGER, create_revision INTEGER, "
    "mod_revision INTEGER, expires_at_ms INTEGER, lease_id INTEGER, rev HIDDEN)";
enum Column { kKey = 0, kValue, kVersion, kCreate, kMod, kExpires, kLease, kRev };

struct Vtab {
  sqlite3_vtab base{};
  QueryContext* ctx = nullptr;
};

struct Cursor {
  sqlite3_vtab_cursor base{};
  std::vector<sm::v1::KeyValue> rows;
  std::size_t pos = 0;
  std::int64_t rev = 0;
};

int Fail(sqlite3_vtab_cursor* c, const Status& s) {
  auto* vtab = reinterpret_cast<Vtab*>(c->pVtab);
  vtab->ctx->scan_error = s;
  sqlite3_free(vtab->base.zErrMsg);
  vtab->base.zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
  return SQLITE_ERROR;
}

int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** err) {
  const int rc = sqlite3_declare_vtab(db, kKvAtSchema);
  if (rc != SQLITE_OK) {
    *err = sqlite3_mprintf("kv_at: cannot declare the schema");
    return rc;
  }
  auto* vtab = new Vtab();
  vtab->ctx = static_cast<QueryContext*>(aux);
  *out = &vtab->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* v) {
  delete reinterpret_cast<Vtab*>(v);
  return SQLITE_OK;
}

// The revision argument is the only constraint taken; idxNum 1 = present.
int BestIndex(sqlite3_vtab*, sqlite3_index_info* idx) {
  for (int i = 0; i < idx->nConstraint; ++i) {
    const auto& con = idx->aConstraint[i];
    if (con.iColumn != kRev || con.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!con.usable) return SQLITE_CONSTRAINT;  // try a plan where it is
    idx->aConstraintUsage[i].argvIndex = 1;
    idx->aConstraintUsage[i].omit = 1;
    idx->idxNum = 1;
    idx->estimatedCost = 1000;
    return SQLITE_OK;
  }
  idx->idxNum = 0;
  idx->estimatedCost = 1e12;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = &(new Cursor())->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* c) {
  delete reinterpret_cast<Cursor*>(c);
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* c, int idx_num, const char*, int argc, sqlite3_value** argv) {
  auto* cur = reinterpret_cast<Cursor*>(c);
  QueryContext* ctx = reinterpret_cast<Vtab*>(c->pVtab)->ctx;
  cur->rows.clear();
  cur->pos = 0;
  if (ctx->snapshot == nullptr) {
    return Fail(c, Status::FailedPrecondition("kv_at is readable only through aspen::sql::Engine"));
  }
  if (idx_num != 1 || argc != 1 || sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
      sqlite3_value_int64(argv[0]) < 1) {
    return Fail(c,
                Status::InvalidArgument(
                    "kv_at: needs a revision >= 1 as its argument, as in SELECT * FROM kv_at(42)"));
  }
  cur->rev = sqlite3_value_int64(argv[0]);
  sm::v1::RangeRequest req;
  req.set_key(std::string(1, '\0'));
  req.set_range_end(std::string(1, '\0'));
  req.set_revision(cur->rev);
  req.set_limit(static_cast<std::int64_t>(limits::kMaxSqlRows) + 1);
  Result<sm::v1::RangeResponse> r = sm::Range(*ctx->snapshot, req, ctx->now_ms);
  if (!r.ok()) return Fail(c, Status(r.status().code(), "kv_at: " + r.status().message()));
  if (r->more()) {
    return Fail(c, Status::ResourceExhausted(
                       "kv_at(" + std::to_string(cur->rev) + "): more than limits::kMaxSqlRows (" +
                       std::to_string(limits::kMaxSqlRows) + ") keys at that revision"));
  }
  ctx->counters.kv_rows_read += static_cast<std::uint64_t>(r->kvs_size());
  cur->rows.assign(std::make_move_iterator(r->mutable_kvs()->begin()),
                   std::make_move_iterator(r->mutable_kvs()->end()));
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* c) {
  ++reinterpret_cast<Cursor*>(c)->pos;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* c) {
  auto* cur = reinterpret_cast<Cursor*>(c);
  return cur->pos >= cur->rows.size() ? 1 : 0;
}

void ResultBytes(sqlite3_context* out, const std::string& bytes) {
  const int n = static_cast<int>(bytes.size());
  if (ClassOfKey(bytes) == KeyClass::kText) {
    sqlite3_result_text(out, bytes.data(), n, SQLITE_TRANSIENT);
  } else {
    sqlite3_result_blob(out, bytes.data(), n, SQLITE_TRANSIENT);
  }
}

int ColumnOf(sqlite3_vtab_cursor* c, sqlite3_context* out, int col) {
  auto* cur = reinterpret_cast<Cursor*>(c);
  const sm::v1::KeyValue& kv = cur->rows[cur->pos];
  ++reinterpret_cast<Vtab*>(c->pVtab)->ctx->counters.rows_produced;
  switch (col) {
    case kKey: ResultBytes(out, kv.key()); break;
    case kValue: ResultBytes(out, kv.value()); break;
    case kVersion: sqlite3_result_int64(out, kv.version()); break;
    case kCreate: sqlite3_result_int64(out, kv.create_revision()); break;
    case kMod: sqlite3_result_int64(out, kv.mod_revision()); break;
    case kExpires:
      if (kv.expires_at_ms() == 0) {
        sqlite3_result_null(out);
      } else {
        sqlite3_result_int64(out, kv.expires_at_ms());
      }
      break;
    case kLease:
      if (kv.lease() == 0) {
        sqlite3_result_null(out);
      } else {
        sqlite3_result_int64(out, kv.lease());
      }
      break;
    case kRev: sqlite3_result_int64(out, cur->rev); break;
    default: sqlite3_result_null(out); break;
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* c, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<Cursor*>(c)->pos);
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
  m.xColumn = ColumnOf;
  m.xRowid = Rowid;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

int RegisterKvAtTable(sqlite3* db, QueryContext* ctx) {
  return sqlite3_create_module(db, "kv_at", &kModule, ctx);
}

}  // namespace aspen::sql
