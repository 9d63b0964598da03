#include "cli/cmd_sql_shell.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/common.h"
#include "sql/vtabs.h"

namespace aspen::cli {

namespace {

namespace pb = aspen::v1;
using Json = nlohmann::json;

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "x'";
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out + "'";
}

std::string JsonString(std::string_view s) {
  return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string RealText(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  // The shortest text that reads back as the same double.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, d);
    if (std::strtod(shorter, nullptr) == d) return shorter;
  }
  return buf;
}

std::string JsonValue(const pb::Value& v) {
  switch (v.kind_case()) {
    case pb::Value::kInt: return std::to_string(v.int_());
    case pb::Value::kReal: return Json(v.real()).dump();  // inf and NaN: null
    case pb::Value::kText: return JsonString(v.text());
    case pb::Value::kBlob: return "{\"base64\": \"" + Base64(v.blob()) + "\"}";
    case pb::Value::KIND_NOT_SET: break;
  }
  return "null";
}

// The cell as text: NULL, 42, 1.5, text, x'00ff'.
std::string PlainValue(const pb::Value& v, bool null_as_word) {
  switch (v.kind_case()) {
    case pb::Value::kInt: return std::to_string(v.int_());
    case pb::Value::kReal: return RealText(v.real());
    case pb::Value::kText: return v.text();
    case pb::Value::kBlob: return Hex(v.blob());
    case pb::Value::KIND_NOT_SET: break;
  }
  return null_as_word ? "NULL" : "";
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// Display width in code points (UTF-8 continuation bytes do not count).
std::size_t Width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// A one-line table cell: control characters escaped, long text cut.
std::string TableCell(const pb::Value& v) {
  const std::string plain = PlainValue(v, true);
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    const char c = plain[i];
    if ((c & 0xC0) != 0x80 && ++chars > kMaxTableCellChars) {
      out += "...";
      break;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

bool IsQueryPlan(const SqlResult& r) {
  return r.columns == std::vector<std::string>{"id", "parent", "notused", "detail"};
}

// EXPLAIN QUERY PLAN as a tree, like the sqlite3 shell.
std::string FormatPlan(const SqlResult& r) {
  struct Node {
    std::int64_t id, parent;
    std::string detail;
  };
  std::vector<Node> nodes;
  for (const pb::Row& row : r.rows) {
    if (row.values_size() != 4) continue;
    nodes.push_back({row.values(0).int_(), row.values(1).int_(), row.values(3).text()});
  }
  std::string out = "QUERY PLAN\n";
  std::function<void(std::int64_t, const std::string&)> walk = [&](std::int64_t parent,
                                                                   const std::string& indent) {
    std::vector<const Node*> kids;
    for (const Node& n : nodes) {
      if (n.parent == parent) kids.push_back(&n);
    }
    for (std::size_t i = 0; i < kids.size(); ++i) {
      const bool last = i + 1 == kids.size();
      out += indent + (last ? "`--" : "|--") + kids[i]->detail + "\n";
      if (kids[i]->id != parent) walk(kids[i]->id, indent + (last ? "   " : "|  "));
    }
  };
  walk(0, "");
  return out;
}

std::string Footer(const SqlResult& r) {
  std::string out = "(" + std::to_string(r.rows.size()) + (r.rows.size() == 1 ? " row" : " rows") +
                    ", revision " + std::to_string(r.revision) + ")\n";
  if (r.truncated) {
    out += "(truncated: more rows exist past the row limit; raise --max-rows or add a LIMIT)\n";
  }
  return out;
}

std::string Trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

constexpr const char* kHelp =
    "Statements end with ';' and may span lines. Commands:\n"
    "  .tables                  list the tables\n"
    "  .schema [TABLE]          show the CREATE statements\n"
    "  .mode table|json|csv     set the output format\n"
    "  .timer on|off            print each query's round-trip time\n"
    "  .help                    this text\n"
    "  .quit, .exit             leave the shell\n"
    "EXPLAIN QUERY PLAN <query>; shows what the kv table pushes down (docs/SQL.md).\n";

}  // namespace

Result<OutputMode> ParseOutputMode(std::string_view text) {
  if (text == "table") return OutputMode::kTable;
  if (text == "json") return OutputMode::kJson;
  if (text == "csv") return OutputMode::kCsv;
  return Status::InvalidArgument("output mode must be table, json or csv, got '" +
                                 std::string(text) + "'");
}

std::string FormatJson(const SqlResult& r) {
  std::string out = "{\"columns\": [";
  for (std::size_t i = 0; i < r.columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += JsonString(r.columns[i]);
  }
  out += "], \"rows\": [";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    if (i > 0) out += ", ";
    out += '[';
    for (int c = 0; c < r.rows[i].values_size(); ++c) {
      if (c > 0) out += ", ";
      out += JsonValue(r.rows[i].values(c));
    }
    out += ']';
  }
  out += "], \"revision\": " + std::to_string(r.revision) +
         ", \"truncated\": " + (r.truncated ? "true" : "false") + "}\n";
  return out;
}

std::string FormatCsv(const SqlResult& r) {
  std::string out;
  for (std::size_t i = 0; i < r.columns.size(); ++i) {
    if (i > 0) out += ',';
    out += CsvField(r.columns[i]);
  }
  out += "\r\n";
  for (const pb::Row& row : r.rows) {
    for (int c = 0; c < row.values_size(); ++c) {
      if (c > 0) out += ',';
      out += CsvField(PlainValue(row.values(c), false));
    }
    out += "\r\n";
  }
  return out;
}

std::string FormatTable(const SqlResult& r) {
  if (IsQueryPlan(r)) return FormatPlan(r);
  const std::size_t n = r.columns.size();
  std::vector<std::size_t> width(n);
  std::vector<std::vector<std::string>> cells;
  std::vector<bool> numeric(n, true);
  for (std::size_t c = 0; c < n; ++c) width[c] = Width(r.columns[c]);
  for (const pb::Row& row : r.rows) {
    std::vector<std::string>& line = cells.emplace_back();
    for (std::size_t c = 0; c < n; ++c) {
      const pb::Value empty;
      const pb::Value& v =
          static_cast<int>(c) < row.values_size() ? row.values(static_cast<int>(c)) : empty;
      line.push_back(TableCell(v));
      width[c] = std::max(width[c], Width(line.back()));
      if (v.kind_case() != pb::Value::kInt && v.kind_case() != pb::Value::kReal &&
          v.kind_case() != pb::Value::KIND_NOT_SET) {
        numeric[c] = false;
      }
    }
  }
  std::string rule = "+";
  for (std::size_t c = 0; c < n; ++c) rule += std::string(width[c] + 2, '-') + "+";
  rule += "\n";
  auto line = [&](const std::vector<std::string>& v, bool header) {
    std::string out = "|";
    for (std::size_t c = 0; c < n; ++c) {
      const std::string pad(width[c] - Width(v[c]), ' ');
      out += " " + (numeric[c] && !header ? pad + v[c] : v[c] + pad) + " |";
    }
    return out + "\n";
  };
  std::string out = rule + line(r.columns, true) + rule;
  for (const auto& l : cells) out += line(l, false);
  if (!cells.empty()) out += rule;
  return out + Footer(r);
}

std::string Format(const SqlResult& result, OutputMode mode) {
  switch (mode) {
    case OutputMode::kJson: return FormatJson(result);
    case OutputMode::kCsv: return FormatCsv(result);
    case OutputMode::kTable: break;
  }
  return FormatTable(result);
}

bool SqlShell::Feed(std::string_view line) {
  if (buffer_.empty()) {
    const std::string trimmed = Trim(line);
    if (trimmed.empty()) return true;
    if (trimmed[0] == '.') return RunCommand(trimmed);
  }
  if (buffer_.size() + line.size() + 1 > kMaxShellStatementBytes) {
    err_ << "Error: the statement is longer than " << kMaxShellStatementBytes
         << " bytes; it was dropped\n";
    ++failures_;
    buffer_.clear();
    return true;
  }
  buffer_.append(line);
  buffer_.push_back('\n');
  if (sqlite3_complete(buffer_.c_str()) != 0) {
    std::string sql = std::move(buffer_);
    buffer_.clear();
    RunStatement(sql);
  }
  return true;
}

void SqlShell::Flush() {
  if (Trim(buffer_).empty()) return;
  std::string sql = std::move(buffer_);
  buffer_.clear();
  RunStatement(sql);
}

void SqlShell::RunStatement(const std::string& sql) {
  const auto start = std::chrono::steady_clock::now();
  Result<SqlResult> r = execute_(sql);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (!r.ok()) {
    err_ << "Error: " << r.status().message() << "\n";
    ++failures_;
  } else {
    out_ << Format(*r, mode_);
  }
  if (timer_) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "Run Time: %.3f ms\n",
                  std::chrono::duration<double, std::milli>(elapsed).count());
    out_ << buf;
  }
  out_.flush();
}

bool SqlShell::RunCommand(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::string cmd, arg, extra;
  in >> cmd >> arg >> extra;
  auto fail = [&](const std::string& message) {
    err_ << "Error: " << message << "\n";
    ++failures_;
    return true;
  };
  if (!extra.empty()) return fail(cmd + ": too many arguments; try .help");
  if (cmd == ".quit" || cmd == ".exit") return false;
  if (cmd == ".help") {
    out_ << kHelp;
  } else if (cmd == ".tables") {
    if (!arg.empty()) return fail(".tables takes no argument");
    out_ << "kv      leases\n";
  } else if (cmd == ".schema") {
    if (arg.empty() || arg == "kv") out_ << sql::kKvSchema << ";\n";
    if (arg.empty() || arg == "leases") out_ << sql::kLeasesSchema << ";\n";
    if (!arg.empty() && arg != "kv" && arg != "leases") {
      return fail("no such table: " + arg + " (the tables are kv and leases)");
    }
  } else if (cmd == ".mode") {
    Result<OutputMode> m = ParseOutputMode(arg);
    if (!m.ok()) return fail(".mode: " + m.status().message());
    mode_ = *m;
  } else if (cmd == ".timer") {
    if (arg != "on" && arg != "off") return fail(".timer takes on or off");
    timer_ = arg == "on";
  } else {
    return fail("unknown command " + cmd + "; try .help");
  }
  out_.flush();
  return true;
}

}  // namespace aspen::cli
