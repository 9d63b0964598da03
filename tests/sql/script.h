// The SQL script format of tests/sql/scripts/*.test (sqllogictest style):
//
//   # a comment
//   query rowsort                 (or: query ordered; add "empty-ok" when no
//   params: int:5 text:ab blob:00ff double:1.5 null :name=text:x
//   SELECT key FROM kv WHERE ...  data set may return rows; add "error" when
//   ... more SQL lines ...         the statement must fail in both engines)
//   <blank line ends the block>
//
// "rowsort" compares rows as multisets, "ordered" in order. There is no
// expected-output section: the differential runner's expectation is plain
// SQLite over a materialized copy of the same rows.
#pragma once

#include <string>
#include <vector>

#include "sql/engine.h"

namespace aspen::sql::testing {

struct ScriptQuery {
  int line = 0;  // of the "query" header
  bool ordered = false;
  bool empty_ok = false;
  bool expect_error = false;
  Params params;
  std::string sql;
};

// Parses a script; on a syntax error returns no queries and sets *error
// (naming the line).
std::vector<ScriptQuery> ParseScript(const std::string& text, std::string* error);

}  // namespace aspen::sql::testing
