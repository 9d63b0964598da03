// `aspen sql`: result formatting and the interactive shell's logic, kept
// apart from the terminal (readline) and the network so that tests can feed
// it lines and read what it prints.
//
// Output modes:
//   table  aligned columns with borders for people; NULL as NULL, BLOBs as
//          x'0a1b', long cells cut at kMaxTableCellChars; a footer with the
//          row count and revision. EXPLAIN QUERY PLAN prints as a tree.
//   json   one line: {"columns": [...], "rows": [[...], ...], "revision": N,
//          "truncated": false}; numbers as JSON numbers, TEXT as strings,
//          NULL as null, BLOBs as {"base64": "..."}.
//   csv    RFC 4180: a header line, then one line per row; NULL is an empty
//          field, BLOBs x'0a1b'.
//
// Thread safety: none.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "aspen/sql/v1/sql.pb.h"
#include "base/status.h"

namespace aspen::cli {

inline constexpr std::size_t kMaxTableCellChars = 120;
// A statement the shell collects over several lines may not exceed this.
inline constexpr std::size_t kMaxShellStatementBytes = 1536 * 1024;

enum class OutputMode { kTable, kJson, kCsv };

// "table", "json", "csv"; InvalidArgument otherwise.
Result<OutputMode> ParseOutputMode(std::string_view text);

struct SqlResult {
  std::vector<std::string> columns;
  std::vector<aspen::v1::Row> rows;
  std::int64_t revision = 0;
  bool truncated = false;
};

std::string FormatJson(const SqlResult& result);
std::string FormatCsv(const SqlResult& result);
std::string FormatTable(const SqlResult& result);
std::string Format(const SqlResult& result, OutputMode mode);

// Runs one statement; the shell prints what it returns.
using SqlExecutor = std::function<Result<SqlResult>(const std::string& sql)>;

class SqlShell {
 public:
  SqlShell(SqlExecutor execute, OutputMode mode, std::ostream& out, std::ostream& err)
      : execute_(std::move(execute)), mode_(mode), out_(out), err_(err) {}

  // Takes one input line (without its newline). Statements run once they are
  // complete (end with `;` outside quotes and comments); dot-commands run
  // when no statement is pending. Returns false after .quit/.exit.
  bool Feed(std::string_view line);
  // Runs a pending statement that lacks its final `;` (end of input).
  void Flush();
  // True while a statement is incomplete (the prompt shows "...>").
  bool pending() const { return !buffer_.empty(); }
  // How many statements or commands failed so far.
  int failures() const { return failures_; }

 private:
  void RunStatement(const std::string& sql);
  bool RunCommand(std::string_view line);

  SqlExecutor execute_;
  OutputMode mode_;
  bool timer_ = false;
  std::ostream& out_;
  std::ostream& err_;
  std::string buffer_;
  int failures_ = 0;
};

}  // namespace aspen::cli
