// Engine: bounds (rows, time), read-only enforcement, parameters, batching,
// revision, snapshot isolation, storage errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sm/record.h"
#include "sql/dataset.h"

namespace aspen::sql::testing {
namespace {

using sm::testing::PutCmd;
using ::testing::HasSubstr;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = MixedDataset();
    snapshot_ = data_.harness->store().GetSnapshot();
    auto e = Engine::Open();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    options_.now_ms = kNowMs;
  }

  Result<QueryResult> Run(const std::string& sql, const Params& params = {}) {
    return engine_->Query(*snapshot_, sql, params, options_);
  }

  Dataset data_;
  std::unique_ptr<storage::Snapshot> snapshot_;
  std::unique_ptr<Engine> engine_;
  QueryOptions options_;
};

TEST_F(EngineTest, ResultStatesTheSnapshotRevision) {
  auto r = Run("SELECT max(mod_revision) FROM kv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->revision, data_.harness->sm().revision());
  EXPECT_EQ(r->columns, std::vector<std::string>{"max(mod_revision)"});
}

TEST_F(EngineTest, RowLimitTruncatesAndSaysSo) {
  options_.max_rows = 5;
  auto r = Run("SELECT key FROM kv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows.size(), 5u);
  EXPECT_TRUE(r->truncated);
}

TEST_F(EngineTest, ExactlyMaxRowsIsNotTruncated) {
  options_.max_rows = 3;
  auto r = Run("SELECT key FROM kv ORDER BY key LIMIT 3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 3u);
  EXPECT_FALSE(r->truncated);
}

TEST_F(EngineTest, DefaultRowLimitIsTheGlobalLimit) {
  EXPECT_EQ(QueryOptions().max_rows, limits::kMaxSqlRows);
  EXPECT_EQ(QueryOptions().max_time_ms, limits::kMaxSqlTimeMs);
  EXPECT_EQ(QueryOptions().batch_rows, limits::kScanBatchRows);
  auto r = Run("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows.size(), limits::kMaxSqlRows);
  EXPECT_TRUE(r->truncated);
}

TEST_F(EngineTest, SlowQueryFailsWithTheTimeLimit) {
  options_.max_time_ms = 50;
  auto r =
      Run("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
          "SELECT count(*) FROM n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "query timed out after 50 ms");
}

TEST_F(EngineTest, SlowJoinOverKvFailsWithTheTimeLimit) {
  options_.max_time_ms = 20;
  auto r = Run("SELECT count(*) FROM kv a, kv b, kv c, kv d, kv e WHERE a.value = e.value");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  // The engine stays usable.
  options_.max_time_ms = 10'000;
  EXPECT_TRUE(Run("SELECT count(*) FROM kv").ok());
}

TEST_F(EngineTest, WriteStatementsAreRefused) {
  for (const char* sql :
       {"INSERT INTO kv(key, value) VALUES('x', 'y')", "DELETE FROM kv", "UPDATE kv SET value = 1",
        "CREATE TABLE t(x)", "CREATE TEMP TABLE t(x)", "DROP TABLE kv", "ATTACH ':memory:' AS o",
        "PRAGMA case_sensitive_like=OFF", "BEGIN", "CREATE VIEW v AS SELECT 1",
        "CREATE VIRTUAL TABLE t USING kv", "ANALYZE", "VACUUM"}) {
    auto r = Run(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << sql;
    EXPECT_THAT(r.status().message(), HasSubstr("read-only"))
        << sql << ": " << r.status().message();
  }
  auto r = Run("INSERT INTO kv(key, value) VALUES('x', 'y')");
  EXPECT_EQ(r.status().message(), "the SQL interface is read-only: INSERT is not allowed");
}

TEST_F(EngineTest, OnlyOneStatementPerQuery) {
  auto r = Run("SELECT 1; SELECT 2");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("only one SQL statement"));
  EXPECT_TRUE(Run("SELECT 1; -- a trailing comment").ok());
  EXPECT_FALSE(Run("   ").ok());
}

TEST_F(EngineTest, SyntaxErrorsNameTheProblem) {
  auto r = Run("SELEKT 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("SQL error: near \"SELEKT\""));
  r = Run("SELECT nope FROM kv");
  EXPECT_THAT(r.status().message(), HasSubstr("no such column: nope"));
}

TEST_F(EngineTest, TypedPositionalAndNamedParametersRoundTrip) {
  Params p;
  p.positional = {Value::Int(-7), Value::Double(2.5), Value::Text("héllo"),
                  Value::Blob(std::string("\x00\xff", 2)), Value::Null()};
  auto r = Run("SELECT ?, ?, ?, ?, ?", p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0], p.positional);
  Params n;
  n.named = {{"a", Value::Int(1)}, {":b", Value::Text("x")}, {"$c", Value::Int(3)}};
  r = Run("SELECT :a, :b, $c, @a", n);
  ASSERT_FALSE(r.ok());  // @a is a different parameter from :a and has no value
  EXPECT_EQ(r.status().message(), "parameter @a has no value");
  r = Run("SELECT :a, :b, $c", n);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0], (Row{Value::Int(1), Value::Text("x"), Value::Int(3)}));
}

TEST_F(EngineTest, BadParametersAreClearErrors) {
  auto r = Run("SELECT ?1, ?2", Params{{Value::Int(1)}, {}});
  EXPECT_EQ(r.status().message(), "parameter ?2 has no value");
  r = Run("SELECT ?", Params{{Value::Int(1), Value::Int(2)}, {}});
  EXPECT_EQ(r.status().message(),
            "2 positional parameters given but the statement has 1 parameters");
  Params unknown;
  unknown.named["nope"] = Value::Int(1);
  r = Run("SELECT 1", unknown);
  EXPECT_EQ(r.status().message(), "the statement has no parameter named nope");
  r = Run("SELECT ?", Params{{Value::Text(std::string("\xff", 1))}, {}});
  EXPECT_EQ(r.status().message(), "parameter ?1: text is not valid UTF-8; pass bytes as a blob");
  r = Run("SELECT :a", Params{{Value::Int(1)}, {}});
  EXPECT_THAT(r.status().message(), HasSubstr("parameter :a is named"));
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST_F(EngineTest, RowsStreamInBatchesOfAtMostBatchRows) {
  options_.batch_rows = 4;
  std::vector<std::size_t> sizes;
  auto s = engine_->Execute(*snapshot_, "SELECT key FROM kv ORDER BY key LIMIT 10", {}, options_,
                            [&](const std::vector<std::string>& cols, std::span<const Row> rows) {
                              EXPECT_EQ(cols, std::vector<std::string>{"key"});
                              sizes.push_back(rows.size());
                              return Status::Ok();
                            });
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 2}));
  EXPECT_EQ(s->rows, 10u);
}

TEST_F(EngineTest, SinkErrorStopsTheQuery) {
  options_.batch_rows = 2;
  int calls = 0;
  auto s = engine_->Execute(*snapshot_, "SELECT key FROM kv", {}, options_,
                            [&](const std::vector<std::string>&, std::span<const Row>) {
                              ++calls;
                              return Status::Unavailable("client went away");
                            });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "client went away");
  EXPECT_EQ(calls, 1);
}

TEST_F(EngineTest, BadOptionsAreRefused) {
  options_.max_rows = 0;
  EXPECT_EQ(Run("SELECT 1").status().message(), "max_rows must be at least 1");
  options_.max_rows = 1;
  options_.max_time_ms = 0;
  EXPECT_EQ(Run("SELECT 1").status().message(), "max_time_ms must be at least 1");
}

TEST_F(EngineTest, QueryReadsItsSnapshotNotLaterWrites) {
  auto before = Run("SELECT count(*) FROM kv");
  ASSERT_TRUE(before.ok());
  data_.harness->now_ms = kNowMs;
  data_.harness->Apply(PutCmd("brand-new", "v"));
  auto again = Run("SELECT count(*) FROM kv");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rows, before->rows);
  EXPECT_EQ(again->revision, before->revision);
  auto fresh = data_.harness->store().GetSnapshot();
  auto after = engine_->Query(*fresh, "SELECT count(*) FROM kv", {}, options_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->rows[0][0].i, before->rows[0][0].i + 1);
  EXPECT_EQ(after->revision, before->revision + 1);
}

TEST_F(EngineTest, ExpiredKeysAreHiddenAsOfNowMs) {
  options_.now_ms = 1;  // before every TTL
  auto early = Run("SELECT count(*) FROM kv WHERE expires_at_ms IS NOT NULL");
  options_.now_ms = kNowMs;
  auto late = Run("SELECT count(*) FROM kv WHERE expires_at_ms IS NOT NULL");
  ASSERT_TRUE(early.ok() && late.ok());
  EXPECT_GT(early->rows[0][0].i, late->rows[0][0].i);
  auto expired = Run("SELECT count(*) FROM kv WHERE expires_at_ms <= " + std::to_string(kNowMs));
  EXPECT_EQ(expired->rows[0][0].i, 0);
}

TEST_F(EngineTest, LeaseExpiryComesFromTheNodeWhenKnown) {
  EngineOptions eo;
  eo.lease_expiry = [](std::int64_t id) -> std::optional<std::int64_t> {
    if (id == 7) return kNowMs + 12'345;
    return std::nullopt;
  };
  auto e = Engine::Open(eo);
  ASSERT_TRUE(e.ok());
  auto r =
      (*e)->Query(*snapshot_, "SELECT id, ttl, granted_ttl, expires_at_ms FROM leases ORDER BY id",
                  {}, options_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 2u);  // lease 9 was revoked
  EXPECT_EQ(r->rows[0],
            (Row{Value::Int(7), Value::Int(13), Value::Int(60), Value::Int(kNowMs + 12'345)}));
  EXPECT_EQ(r->rows[1], (Row{Value::Int(8), Value::Int(120), Value::Int(120), Value::Null()}));
}

TEST_F(EngineTest, CorruptKvRowIsACorruptionError) {
  storage::WriteBatch b;
  b.Put(storage::Cf::kKv, "ab", "\x07garbage");
  ASSERT_TRUE(data_.harness->store().Write(b, false).ok());
  auto snap = data_.harness->store().GetSnapshot();
  auto r = engine_->Query(*snap, "SELECT key FROM kv", {}, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("kv row"));
}

TEST_F(EngineTest, ReusedStatementsRebindAndRestartCleanly) {
  const std::string sql = "SELECT key FROM kv WHERE key = ?";
  for (const char* key : {"a", "b", "zz", "a"}) {
    auto r = Run(sql, Params{{Value::Text(key)}, {}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0][0], Value::Text(key));
  }
  // A missing parameter on a cached statement is still an error, not NULL.
  EXPECT_EQ(Run(sql).status().message(), "parameter ?1 has no value");
  // A truncated run leaves no cursor behind for the next one.
  options_.max_rows = 1;
  auto first = Run("SELECT key FROM kv ORDER BY key");
  options_.max_rows = 1000;
  auto all = Run("SELECT key FROM kv ORDER BY key");
  ASSERT_TRUE(first.ok() && all.ok());
  EXPECT_TRUE(first->truncated);
  EXPECT_GT(all->rows.size(), 10u);
  EXPECT_EQ(all->rows[0], first->rows[0]);
  // More distinct statements than the cache holds.
  for (std::size_t i = 0; i < 2 * kStatementCacheSize; ++i) {
    auto r = Run("SELECT " + std::to_string(i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->rows[0][0], Value::Int(static_cast<std::int64_t>(i)));
  }
}

}  // namespace
}  // namespace aspen::sql::testing
