// Internal helpers of engine.cc: parameter binding and result cells.
#pragma once

#include <sqlite3.h>

#include "base/status.h"
#include "sql/engine.h"

namespace aspen::sql::internal {

// Binds every parameter of `stmt` from `params`; InvalidArgument naming the
// parameter when one is missing, unknown, extra, or not a valid value.
Status BindParams(sqlite3_stmt* stmt, const Params& params);

// Column i of the current row.
Value ColumnValue(sqlite3_stmt* stmt, int i);
// The same into *out, reusing its string's capacity.
void ReadColumn(sqlite3_stmt* stmt, int i, Value* out);

}  // namespace aspen::sql::internal
