// The memory bounds. A separate binary: sqlite3_hard_heap_limit64 is
// process-wide, so lowering it here must not affect the other SQL tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sql/engine.h"
#include "storage/mem_store.h"

namespace aspen::sql {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kHeapLimit = 8 << 20;

TEST(SqlMemory, QueryOverTheHeapLimitIsResourceExhausted) {
  EngineOptions eo;
  eo.heap_limit_bytes = kHeapLimit;
  auto engine = Engine::Open(eo);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ(sqlite3_hard_heap_limit64(-1), kHeapLimit);
  storage::MemStore store;
  auto snap = store.GetSnapshot();
  QueryOptions o;
  o.now_ms = 1;
  // Two million distinct 100-byte strings need far more than 8 MiB.
  auto r = (*engine)->Query(*snap,
                            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                            "i < 2000000) SELECT count(DISTINCT printf('%100d', i)) FROM n",
                            {}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("SQL heap limit is 8388608 bytes"));
  // A small query still runs on the same engine afterwards.
  auto ok = (*engine)->Query(*snap, "SELECT count(*) FROM kv", {}, o);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rows[0][0].i, 0);
}

TEST(SqlMemory, OversizedStringIsResourceExhausted) {
  auto engine = Engine::Open();
  ASSERT_TRUE(engine.ok());
  storage::MemStore store;
  auto snap = store.GetSnapshot();
  QueryOptions o;
  o.now_ms = 1;
  auto r = (*engine)->Query(*snap, "SELECT length(zeroblob(100000000))", {}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "a string or blob exceeded 16777216 bytes");
}

TEST(SqlMemory, LaterEnginesOnlyLowerTheHeapLimit) {
  EngineOptions higher;
  higher.heap_limit_bytes = kHeapLimit * 4;
  auto engine = Engine::Open(higher);
  ASSERT_TRUE(engine.ok());
  EXPECT_LE(sqlite3_hard_heap_limit64(-1), kHeapLimit * 4);
  EXPECT_GT(sqlite3_hard_heap_limit64(-1), 0);
}

}  // namespace
}  // namespace aspen::sql
