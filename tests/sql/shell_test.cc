// The `aspen sql` shell and its output formats, fed lines without a terminal
// or a server (the executor is a fake that records what it was asked).
#include <gtest/gtest.h>

#include <sstream>

#include "cli/cmd_sql_shell.h"

namespace aspen::cli {
namespace {

namespace pb = aspen::v1;

pb::Row MakeRow(std::initializer_list<pb::Value> values) {
  pb::Row r;
  for (const pb::Value& v : values) *r.add_values() = v;
  return r;
}
pb::Value Int(std::int64_t i) {
  pb::Value v;
  v.set_int_(i);
  return v;
}
pb::Value Text(std::string s) {
  pb::Value v;
  v.set_text(std::move(s));
  return v;
}
pb::Value Blob(std::string s) {
  pb::Value v;
  v.set_blob(std::move(s));
  return v;
}
pb::Value Real(double d) {
  pb::Value v;
  v.set_real(d);
  return v;
}

SqlResult Sample() {
  SqlResult r;
  r.columns = {"key", "n", "data"};
  r.rows.push_back(MakeRow({Text("a"), Int(7), pb::Value()}));
  r.rows.push_back(MakeRow({Text("long\"er,\nkey"), Real(1.5), Blob(std::string("\x00\xff", 2))}));
  r.revision = 9;
  return r;
}

TEST(SqlOutputTest, JsonIsOneObjectWithTypedCells) {
  EXPECT_EQ(FormatJson(Sample()),
            R"({"columns": ["key", "n", "data"], "rows": [["a", 7, null], )"
            R"(["long\"er,\nkey", 1.5, {"base64": "AP8="}]], "revision": 9, "truncated": false})"
            "\n");
}

TEST(SqlOutputTest, CsvQuotesFieldsThatNeedIt) {
  EXPECT_EQ(FormatCsv(Sample()), "key,n,data\r\na,7,\r\n\"long\"\"er,\nkey\",1.5,x'00ff'\r\n");
}

TEST(SqlOutputTest, TableAlignsColumnsAndEscapesControlCharacters) {
  SqlResult r = Sample();
  r.truncated = true;
  EXPECT_EQ(FormatTable(r),
            "+---------------+-----+---------+\n"
            "| key           | n   | data    |\n"
            "+---------------+-----+---------+\n"
            "| a             |   7 | NULL    |\n"
            "| long\"er,\\nkey | 1.5 | x'00ff' |\n"
            "+---------------+-----+---------+\n"
            "(2 rows, revision 9)\n"
            "(truncated: more rows exist past the row limit; raise --max-rows or add a LIMIT)\n");
}

TEST(SqlOutputTest, TableCutsLongCellsAndCountsCodePoints) {
  SqlResult r;
  r.columns = {"v"};
  r.rows.push_back(MakeRow({Text(std::string(500, 'x'))}));
  r.rows.push_back(MakeRow({Text("\xc3\xa9t\xc3\xa9")}));  // "été": 3 columns wide
  const std::string t = FormatTable(r);
  EXPECT_NE(t.find("| " + std::string(kMaxTableCellChars, 'x') + "... |"), std::string::npos) << t;
  EXPECT_NE(t.find("| \xc3\xa9t\xc3\xa9" + std::string(kMaxTableCellChars, ' ') + " |"),
            std::string::npos)
      << t;
}

TEST(SqlOutputTest, QueryPlanPrintsAsATree) {
  SqlResult r;
  r.columns = {"id", "parent", "notused", "detail"};
  r.rows.push_back(MakeRow({Int(2), Int(0), Int(0), Text("SCAN kv VIRTUAL TABLE INDEX 0:K-")}));
  r.rows.push_back(MakeRow({Int(5), Int(0), Int(0), Text("SEARCH l")}));
  r.rows.push_back(MakeRow({Int(7), Int(5), Int(0), Text("USE TEMP B-TREE")}));
  EXPECT_EQ(
      FormatTable(r),
      "QUERY PLAN\n|--SCAN kv VIRTUAL TABLE INDEX 0:K-\n`--SEARCH l\n   `--USE TEMP B-TREE\n");
}

class ShellTest : public ::testing::Test {
 protected:
  SqlShell shell_{[this](const std::string& sql) -> Result<SqlResult> {
                    asked_.push_back(sql);
                    if (sql.find("fail") != std::string::npos) {
                      return Status::InvalidArgument("INVALID_ARGUMENT: nope");
                    }
                    SqlResult r;
                    r.columns = {"x"};
                    r.rows.push_back(MakeRow({Int(1)}));
                    r.revision = 3;
                    return r;
                  },
                  OutputMode::kCsv, out_, err_};
  std::ostringstream out_, err_;
  std::vector<std::string> asked_;
};

TEST_F(ShellTest, CollectsMultiLineStatementsUntilTheSemicolon) {
  EXPECT_TRUE(shell_.Feed("SELECT 'a;b'"));
  EXPECT_TRUE(shell_.pending());
  EXPECT_TRUE(shell_.Feed("  -- a comment;"));
  EXPECT_TRUE(shell_.Feed("  FROM kv;"));
  EXPECT_FALSE(shell_.pending());
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_EQ(asked_[0], "SELECT 'a;b'\n  -- a comment;\n  FROM kv;\n");
  EXPECT_EQ(out_.str(), "x\r\n1\r\n");
}

TEST_F(ShellTest, DotCommandsSwitchModesAndTimer) {
  shell_.Feed(".mode json");
  shell_.Feed("SELECT 1;");
  shell_.Feed(".timer on");
  shell_.Feed(".mode table");
  shell_.Feed("SELECT 1;");
  const std::string out = out_.str();
  EXPECT_TRUE(
      out.starts_with(R"({"columns": ["x"], "rows": [[1]], "revision": 3, "truncated": false})"
                      "\n+---+\n| x |\n"))
      << out;
  EXPECT_NE(out.find("(1 row, revision 3)\nRun Time: "), std::string::npos) << out;
  EXPECT_EQ(shell_.failures(), 0);
}

TEST_F(ShellTest, TablesSchemaHelpAndQuit) {
  shell_.Feed(".tables");
  shell_.Feed(".schema leases");
  shell_.Feed(".help");
  EXPECT_NE(out_.str().find("kv      leases\nCREATE TABLE leases(id INTEGER"), std::string::npos);
  EXPECT_NE(out_.str().find(".timer on|off"), std::string::npos);
  EXPECT_FALSE(shell_.Feed(".quit"));
  EXPECT_FALSE(shell_.Feed(".exit"));
}

TEST_F(ShellTest, ErrorsAreReportedAndCountedAndTheShellGoesOn) {
  shell_.Feed("SELECT fail;");
  shell_.Feed(".mode xml");
  shell_.Feed(".schema nope");
  shell_.Feed(".frobnicate");
  shell_.Feed("SELECT 1;");
  EXPECT_EQ(shell_.failures(), 4);
  EXPECT_EQ(err_.str(),
            "Error: INVALID_ARGUMENT: nope\n"
            "Error: .mode: output mode must be table, json or csv, got 'xml'\n"
            "Error: no such table: nope (the tables are kv and leases)\n"
            "Error: unknown command .frobnicate; try .help\n");
  EXPECT_EQ(out_.str(), "x\r\n1\r\n");
}

TEST_F(ShellTest, FlushRunsAStatementWithoutItsSemicolonAtEndOfInput) {
  shell_.Feed("SELECT 1");
  EXPECT_TRUE(asked_.empty());
  shell_.Flush();
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_EQ(asked_[0], "SELECT 1\n");
  shell_.Flush();  // nothing pending: nothing runs
  EXPECT_EQ(asked_.size(), 1u);
}

TEST_F(ShellTest, AnOverlongStatementIsDroppedWithAClearError) {
  const std::string chunk(1024 * 1024, ' ');
  shell_.Feed("SELECT");
  shell_.Feed(chunk);
  shell_.Feed(chunk);
  EXPECT_EQ(shell_.failures(), 1);
  EXPECT_NE(err_.str().find("longer than"), std::string::npos);
  EXPECT_FALSE(shell_.pending());
  EXPECT_TRUE(asked_.empty());
}

}  // namespace
}  // namespace aspen::cli
