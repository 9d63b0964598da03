// Pushdown: how many rows the kv table produced, read and decoded for
// queries whose plans push work into the table. (Results themselves are
// checked by the differential suite.)
#include <gtest/gtest.h>

#include "sql/dataset.h"
#include "tuple/tuple.h"

namespace aspen::sql::testing {
namespace {

class Pushdown : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = MixedDataset();
    snapshot_ = data_.harness->store().GetSnapshot();
    auto e = Engine::Open();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }

  QueryResult Run(const std::string& sql, const Params& params = {}) {
    QueryOptions o;
    o.now_ms = kNowMs;
    auto r = engine_->Query(*snapshot_, sql, params, o);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? std::move(*r) : QueryResult{};
  }

  std::int64_t Count(const std::string& where) {
    QueryResult r = Run("SELECT count(*) FROM kv WHERE " + where);
    return r.rows.empty() ? -1 : r.rows[0][0].i;
  }

  Dataset data_;
  std::unique_ptr<storage::Snapshot> snapshot_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(Pushdown, KeyEqualityProducesAndReadsOneRow) {
  QueryResult r = Run("SELECT key, value FROM kv WHERE key = 'ab'");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.counters.rows_produced, 1u);
  EXPECT_EQ(r.counters.kv_rows_read, 1u);
}

TEST_F(Pushdown, BoundKeyParameterIsPushedDownToo) {
  Params p;
  p.positional.push_back(Value::Text("user/0010"));
  QueryResult r = Run("SELECT key FROM kv WHERE key = ?", p);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.counters.kv_rows_read, 1u);
}

TEST_F(Pushdown, InListReadsOnlyItsKeys) {
  QueryResult r = Run("SELECT key FROM kv WHERE key IN ('a', 'b', 'missing', x'ff')");
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.counters.kv_rows_read, 3u);  // 'missing' is looked up but absent
}

TEST_F(Pushdown, LimitOnAKeyRangeProducesAtMostLimitRows) {
  QueryResult r = Run("SELECT key FROM kv WHERE key >= 'a' AND key < 'z' LIMIT 3");
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_LE(r.counters.rows_produced, 3u);
}

TEST_F(Pushdown, OrderByKeyDescLimitIsConsumedByTheTable) {
  QueryResult r = Run("SELECT key FROM kv ORDER BY key DESC LIMIT 2");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_LE(r.counters.rows_produced, 2u);
  // BLOB keys sort after every TEXT key; the largest is the tuple of bytes.
  EXPECT_EQ(r.rows[0][0].type, ValueType::kBlob);
}

TEST_F(Pushdown, LimitWithOffsetProducesAtMostLimitPlusOffsetRows) {
  QueryResult r = Run("SELECT key FROM kv ORDER BY key LIMIT 2 OFFSET 3");
  EXPECT_EQ(r.rows.size(), 2u);
  EXPECT_LE(r.counters.rows_produced, 5u);
}

TEST_F(Pushdown, LimitBesideAnUnpushedFilterIsNotPushed) {
  const std::int64_t total = Count("1");
  QueryResult r = Run("SELECT key FROM kv WHERE length(value) > 100 LIMIT 1");
  EXPECT_TRUE(r.rows.empty());
  EXPECT_EQ(r.counters.rows_produced, static_cast<std::uint64_t>(total));
}

TEST_F(Pushdown, CountStarDecodesNoValues) {
  QueryResult r = Run("SELECT count(*) FROM kv");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_GT(r.rows[0][0].i, 10);
  EXPECT_EQ(r.counters.values_decoded, 0u);
  EXPECT_EQ(r.counters.rows_produced, static_cast<std::uint64_t>(r.rows[0][0].i));
}

TEST_F(Pushdown, KeyOnlyQueriesDecodeNoValuesAndValueQueriesDecodeEach) {
  QueryResult keys = Run("SELECT key, version FROM kv WHERE key > 'a'");
  EXPECT_EQ(keys.counters.values_decoded, 0u);
  QueryResult values = Run("SELECT value FROM kv WHERE key > 'a'");
  EXPECT_EQ(values.counters.values_decoded, values.rows.size());
}

TEST_F(Pushdown, LikePrefixScansOnlyThePrefix) {
  const std::int64_t live = Count("substr(key, 1, 5) = 'user/'");
  QueryResult r = Run("SELECT key FROM kv WHERE key LIKE 'user/%'");
  EXPECT_EQ(static_cast<std::int64_t>(r.rows.size()), live);
  EXPECT_EQ(r.counters.kv_rows_read, 5u);  // the stored user/ keys, expired ones included
}

TEST_F(Pushdown, LikeWithAWildcardInsidePushesItsLiteralPrefixOnly) {
  QueryResult r = Run("SELECT key FROM kv WHERE key LIKE 'ab_c'");
  ASSERT_EQ(r.rows.size(), 2u);  // 'ab%c' and 'ab_c'
  // Keys starting with 'ab' are produced; SQLite re-checks the pattern.
  EXPECT_LT(r.counters.kv_rows_read, 10u);
  EXPECT_GE(r.counters.rows_produced, 2u);
}

TEST_F(Pushdown, LikeIsRecheckedSoItKeepsLimitOut) {
  QueryResult r = Run("EXPLAIN QUERY PLAN SELECT key FROM kv WHERE key LIKE 'user/%' LIMIT 2");
  ASSERT_FALSE(r.rows.empty());
  // SQLite adds key >= 'user/' AND key < 'user0' from the LIKE (its LIKE
  // optimization); the LIKE itself stays with SQLite, so no LIMIT (m) arg.
  EXPECT_EQ(r.rows.back().back().s, "SCAN kv VIRTUAL TABLE INDEX 0:K-0g0<0k");
  r = Run("EXPLAIN QUERY PLAN SELECT key FROM kv WHERE key LIKE 'ab\\%' ESCAPE '\\'");
  ASSERT_FALSE(r.rows.empty());
  // A 3-argument LIKE is not offered to the table; the derived range is.
  EXPECT_EQ(r.rows.back().back().s, "SCAN kv VIRTUAL TABLE INDEX 0:K-0g0<");
}

TEST_F(Pushdown, ModRevisionEqualityUsesTheIndex) {
  QueryResult max = Run("SELECT max(mod_revision) FROM kv");
  ASSERT_EQ(max.rows.size(), 1u);
  Params p;
  p.positional.push_back(max.rows[0][0]);
  QueryResult r = Run("SELECT key FROM kv WHERE mod_revision = ?", p);
  EXPECT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.counters.index_rows_read, 1u);
  EXPECT_EQ(r.counters.kv_rows_read, 1u);
}

TEST_F(Pushdown, LeaseEqualityReadsOnlyThatLeasesKeys) {
  const std::int64_t n = Count("lease_id + 0 = 7");  // "+ 0" keeps it out of the index
  QueryResult r = Run("SELECT key FROM kv WHERE lease_id = 7");
  EXPECT_EQ(static_cast<std::int64_t>(r.rows.size()), n);
  EXPECT_GT(n, 0);
  EXPECT_LE(r.counters.kv_rows_read, static_cast<std::uint64_t>(n) + 2);  // + expired ones
}

TEST_F(Pushdown, ExpiresAtRangeSkipsExpiredIndexRows) {
  QueryResult r = Run("SELECT key FROM kv WHERE expires_at_ms > 0");
  EXPECT_GT(r.rows.size(), 0u);
  EXPECT_EQ(r.counters.index_rows_read, r.rows.size());
}

TEST_F(Pushdown, TupleRangeOnKeyBytesIsAKeyRange) {
  Dataset tuples = TupleDataset();
  auto snap = tuples.harness->store().GetSnapshot();
  QueryOptions o;
  o.now_ms = kNowMs;
  auto r = engine_->Query(*snap,
                          "SELECT count(*) FROM kv WHERE key_bytes >= tuple_range_start('users', 5)"
                          " AND key_bytes < tuple_range_end('users', 5)",
                          {}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0][0].i, 2);
  EXPECT_EQ(r->counters.kv_rows_read, 2u);
}

TEST_F(Pushdown, ExplainQueryPlanShowsThePlan) {
  QueryResult r = Run("EXPLAIN QUERY PLAN SELECT key FROM kv WHERE key = 'a' ORDER BY key");
  ASSERT_FALSE(r.rows.empty());
  EXPECT_EQ(r.rows.back().back().s, "SCAN kv VIRTUAL TABLE INDEX 0:Ka0=");
  r = Run("EXPLAIN QUERY PLAN SELECT key FROM kv WHERE lease_id = 7 AND key > 'a'");
  ASSERT_FALSE(r.rows.empty());
  EXPECT_EQ(r.rows.back().back().s, "SCAN kv VIRTUAL TABLE INDEX 0:L-6=");  // the narrower plan
  r = Run("EXPLAIN QUERY PLAN SELECT key FROM kv WHERE mod_revision = 7");
  ASSERT_FALSE(r.rows.empty());
  EXPECT_EQ(r.rows.back().back().s, "SCAN kv VIRTUAL TABLE INDEX 0:M-4=");
}

TEST_F(Pushdown, JoinDrivesPointLookupsIntoTheInnerTable) {
  QueryResult r =
      Run("SELECT a.key, b.key FROM kv a JOIN kv b ON b.key = a.key || 'c' WHERE a.key LIKE 'a%'");
  EXPECT_FALSE(r.rows.empty());
  // The outer prefix scan plus one point read per outer row.
  EXPECT_LT(r.counters.kv_rows_read, 40u);
}

}  // namespace
}  // namespace aspen::sql::testing
