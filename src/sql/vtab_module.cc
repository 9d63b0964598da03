// Error reporting shared by the virtual tables (vtab_module.h).
#include "sql/vtab_module.h"

namespace aspen::sql {

int FailVtab(sqlite3_vtab* vtab, const Status& s) {
  auto* v = reinterpret_cast<VtabBase*>(vtab);
  v->ctx->scan_error = s;
  sqlite3_free(v->base.zErrMsg);
  v->base.zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
  return SQLITE_ERROR;
}

}  // namespace aspen::sql
