// The differential suite: every query of tests/sql/scripts/*.test runs on
// each data set through Engine (the virtual tables, with pushdown) and through
// plain SQLite over ordinary tables holding the same rows; results must be
// identical (values and storage classes), in order for "ordered" queries.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sql/dataset.h"
#include "sql/script.h"

namespace aspen::sql::testing {
namespace {

struct Loaded {
  Dataset data;
  std::unique_ptr<storage::Snapshot> snapshot;
  SqliteDb reference;
};

std::vector<Loaded>& Datasets() {
  static std::vector<Loaded>* sets = [] {
    auto* v = new std::vector<Loaded>();
    std::vector<Dataset> ds;
    ds.push_back(MixedDataset());
    ds.push_back(TupleDataset());
    for (std::uint32_t seed : {1u, 2u, 3u}) ds.push_back(RandomDataset(seed, 300));
    for (Dataset& d : ds) {
      Loaded l;
      l.snapshot = d.harness->store().GetSnapshot();
      l.reference = MaterializeReference(*l.snapshot);
      l.data = std::move(d);
      v->push_back(std::move(l));
    }
    return v;
  }();
  return *sets;
}

std::string Render(const std::vector<Row>& rows) {
  std::string out;
  for (const Row& r : rows) {
    for (const Value& v : r) out += v.ToString() + "|";
    out += "\n";
  }
  return out;
}

std::vector<Row> Sorted(std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return Render({a}) < Render({b}); });
  return rows;
}

std::vector<std::string> ScriptFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(ASPEN_SQL_SCRIPTS_DIR)) {
    if (e.path().extension() == ".test") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Differential : public ::testing::TestWithParam<std::string> {};

TEST_P(Differential, VirtualTablesMatchPlainSqlite) {
  std::ifstream in(std::string(ASPEN_SQL_SCRIPTS_DIR) + "/" + GetParam());
  std::stringstream text;
  text << in.rdbuf();
  std::string parse_error;
  const std::vector<ScriptQuery> queries = ParseScript(text.str(), &parse_error);
  ASSERT_TRUE(parse_error.empty()) << GetParam() << ": " << parse_error;
  ASSERT_FALSE(queries.empty()) << GetParam() << " has no queries";
  auto engine = Engine::Open();
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  QueryOptions options;
  options.now_ms = kNowMs;
  options.max_rows = 1'000'000;
  for (const ScriptQuery& q : queries) {
    bool any_rows = false;
    for (Loaded& l : Datasets()) {
      SCOPED_TRACE(GetParam() + ":" + std::to_string(q.line) + " on " + l.data.name + "\n" + q.sql);
      std::string ref_error;
      std::vector<Row> expected = RunReference(l.reference.get(), q.sql, q.params, &ref_error);
      Result<QueryResult> got = (*engine)->Query(*l.snapshot, q.sql, q.params, options);
      if (q.expect_error) {
        EXPECT_FALSE(ref_error.empty()) << "reference SQLite accepted it";
        EXPECT_FALSE(got.ok()) << "engine accepted it";
        any_rows = true;
        continue;
      }
      ASSERT_TRUE(ref_error.empty()) << "reference: " << ref_error;
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_FALSE(got->truncated);
      std::vector<Row> actual = got->rows;
      if (!q.ordered) {
        expected = Sorted(std::move(expected));
        actual = Sorted(std::move(actual));
      }
      EXPECT_EQ(Render(actual), Render(expected));
      any_rows = any_rows || !expected.empty();
    }
    EXPECT_TRUE(any_rows || q.empty_ok)
        << GetParam() << ":" << q.line << " returns no rows on any data set (mark it empty-ok)";
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, Differential, ::testing::ValuesIn(ScriptFiles()),
                         [](const auto& param_info) {
                           std::string n = param_info.param.substr(0, param_info.param.size() - 5);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace aspen::sql::testing
