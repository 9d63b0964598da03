// The SQLite glue shared by Aspen's read-only, eponymous-only virtual tables
// (kv, leases, kv_at): connect/disconnect, cursor lifetime, error reporting
// and the "only through the Engine" check, so each table file holds only what
// differs (its schema, xBestIndex and its cursor).
//
// A table is a class with
//   static constexpr const char* kName;    // the table's name in SQL
//   static constexpr const char* kSchema;  // its CREATE TABLE statement
//   static int BestIndex(sqlite3_index_info* idx);  // an SQLite code
//   class Cursor {
//     explicit Cursor(QueryContext* ctx);
//     Status Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv);
//     Status Next();
//     bool Eof() const;
//     Status Column(sqlite3_context* out, int col);
//     std::int64_t Rowid() const;
//   };
// Module<Table>::Register(db, ctx) installs it. A Cursor's error Status
// becomes the statement's error message and QueryContext::scan_error (whose
// code the Engine reports). xFilter refuses to run without a snapshot.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "sql/context.h"

namespace aspen::sql {

struct VtabBase {
  sqlite3_vtab base{};  // must be first: SQLite casts between the two
  QueryContext* ctx = nullptr;
};

// Records `s` as the vtab's error message and ctx->scan_error; SQLITE_ERROR.
int FailVtab(sqlite3_vtab* vtab, const Status& s);

// The position part of a cursor over rows materialized by xFilter (leases,
// kv_at): Filter fills rows_ after Reset(); Next/Eof/Row walk them.
template <class Row>
class RowsCursor {
 public:
  Status Next() {
    ++pos_;
    return Status::Ok();
  }
  bool Eof() const { return pos_ >= rows_.size(); }

 protected:
  void Reset() {
    rows_.clear();
    pos_ = 0;
  }
  const Row& row() const { return rows_[pos_]; }

  std::vector<Row> rows_;
  std::size_t pos_ = 0;
};

template <class Table>
class VtabModule {
 public:
  // `ctx` is not owned and must outlive the connection.
  static int Register(sqlite3* db, QueryContext* ctx) {
    static const sqlite3_module kModule = Make();
    return sqlite3_create_module(db, Table::kName, &kModule, ctx);
  }

 private:
  using TableCursor = typename Table::Cursor;
  struct Cursor {
    explicit Cursor(QueryContext* ctx) : impl(ctx) {}
    sqlite3_vtab_cursor base{};  // must be first
    TableCursor impl;
  };

  static QueryContext* Ctx(sqlite3_vtab_cursor* c) {
    return reinterpret_cast<VtabBase*>(c->pVtab)->ctx;
  }
  static TableCursor& Impl(sqlite3_vtab_cursor* c) { return reinterpret_cast<Cursor*>(c)->impl; }
  static int Check(sqlite3_vtab_cursor* c, const Status& s) {
    return s.ok() ? SQLITE_OK : FailVtab(c->pVtab, s);
  }

  static int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out,
                     char** err) {
    const int rc = sqlite3_declare_vtab(db, Table::kSchema);
    if (rc != SQLITE_OK) {
      *err = sqlite3_mprintf("%s: cannot declare the schema", Table::kName);
      return rc;
    }
    auto* vtab = new VtabBase();
    vtab->ctx = static_cast<QueryContext*>(aux);
    *out = &vtab->base;
    return SQLITE_OK;
  }
  static int Disconnect(sqlite3_vtab* v) {
    delete reinterpret_cast<VtabBase*>(v);
    return SQLITE_OK;
  }
  static int BestIndex(sqlite3_vtab*, sqlite3_index_info* idx) { return Table::BestIndex(idx); }
  static int Open(sqlite3_vtab* v, sqlite3_vtab_cursor** out) {
    auto* cur = new Cursor(reinterpret_cast<VtabBase*>(v)->ctx);
    *out = &cur->base;
    return SQLITE_OK;
  }
  static int Close(sqlite3_vtab_cursor* c) {
    delete reinterpret_cast<Cursor*>(c);
    return SQLITE_OK;
  }
  static int Filter(sqlite3_vtab_cursor* c, int idx_num, const char* idx_str, int argc,
                    sqlite3_value** argv) {
    if (Ctx(c)->snapshot == nullptr) {
      return FailVtab(c->pVtab,
                      Status::FailedPrecondition(std::string(Table::kName) +
                                                 " is readable only through aspen::sql::Engine"));
    }
    return Check(c, Impl(c).Filter(idx_num, idx_str, argc, argv));
  }
  static int Next(sqlite3_vtab_cursor* c) { return Check(c, Impl(c).Next()); }
  static int Eof(sqlite3_vtab_cursor* c) { return Impl(c).Eof() ? 1 : 0; }
  static int Column(sqlite3_vtab_cursor* c, sqlite3_context* out, int col) {
    return Check(c, Impl(c).Column(out, col));
  }
  static int Rowid(sqlite3_vtab_cursor* c, sqlite3_int64* rowid) {
    *rowid = Impl(c).Rowid();
    return SQLITE_OK;
  }

  static sqlite3_module Make() {
    sqlite3_module m{};
    m.xCreate = nullptr;  // eponymous-only: no CREATE VIRTUAL TABLE
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
};

}  // namespace aspen::sql
