// The `kv` virtual table: SQLite glue around KvCursor (scans) and
// ChooseKvPlan (xBestIndex). Read-only: no xUpdate, so writes fail in SQLite.
#include <sqlite3.h>

#include <memory>

#include "sql/kv_cursor.h"
#include "sql/kv_plan.h"
#include "sql/vtabs.h"

namespace aspen::sql {
namespace {

struct KvVtab {
  sqlite3_vtab base{};  // must be first: SQLite casts between the two
  QueryContext* ctx = nullptr;
};

struct KvVtabCursor {
  sqlite3_vtab_cursor base{};  // must be first
  std::unique_ptr<KvCursor> cursor;
};

// Reports `s` through the vtab's error message and the query context.
int Fail(sqlite3_vtab_cursor* cur, const Status& s) {
  auto* vtab = reinterpret_cast<KvVtab*>(cur->pVtab);
  vtab->ctx->scan_error = s;
  sqlite3_free(vtab->base.zErrMsg);
  vtab->base.zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
  return SQLITE_ERROR;
}

int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** err) {
  const int rc = sqlite3_declare_vtab(db, kKvSchema);
  if (rc != SQLITE_OK) {
    *err = sqlite3_mprintf("kv: cannot declare the schema");
    return rc;
  }
  auto* vtab = new KvVtab();
  vtab->ctx = static_cast<QueryContext*>(aux);
  *out = &vtab->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* v) {
  delete reinterpret_cast<KvVtab*>(v);
  return SQLITE_OK;
}

int BestIndex(sqlite3_vtab*, sqlite3_index_info* idx) {
  ChooseKvPlan(idx);
  return SQLITE_OK;
}

int Open(sqlite3_vtab* v, sqlite3_vtab_cursor** out) {
  auto* cur = new KvVtabCursor();
  cur->cursor = std::make_unique<KvCursor>(reinterpret_cast<KvVtab*>(v)->ctx);
  *out = &cur->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* c) {
  delete reinterpret_cast<KvVtabCursor*>(c);
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* c, int, const char* idx_str, int argc, sqlite3_value** argv) {
  auto* cur = reinterpret_cast<KvVtabCursor*>(c);
  auto* vtab = reinterpret_cast<KvVtab*>(c->pVtab);
  if (vtab->ctx->snapshot == nullptr) {
    return Fail(c, Status::FailedPrecondition("kv is readable only through aspen::sql::Engine"));
  }
  std::optional<KvPlan> plan = KvPlan::Decode(idx_str);
  if (!plan.has_value() || plan->args.size() != static_cast<std::size_t>(argc)) {
    return Fail(c, Status::Internal("kv: malformed scan plan"));
  }
  Status s = cur->cursor->Filter(*plan, argc, argv);
  return s.ok() ? SQLITE_OK : Fail(c, s);
}

int Next(sqlite3_vtab_cursor* c) {
  Status s = reinterpret_cast<KvVtabCursor*>(c)->cursor->Next();
  return s.ok() ? SQLITE_OK : Fail(c, s);
}

int Eof(sqlite3_vtab_cursor* c) {
  return reinterpret_cast<KvVtabCursor*>(c)->cursor->Eof() ? 1 : 0;
}

int Column(sqlite3_vtab_cursor* c, sqlite3_context* out, int col) {
  reinterpret_cast<KvVtabCursor*>(c)->cursor->Column(out, col);
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* c, sqlite3_int64* rowid) {
  *rowid = reinterpret_cast<KvVtabCursor*>(c)->cursor->Rowid();
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only
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

int RegisterKvTable(sqlite3* db, QueryContext* ctx) {
  return sqlite3_create_module(db, "kv", &kModule, ctx);
}

}  // namespace aspen::sql
