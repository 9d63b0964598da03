// kv_at(R): SQL over the kv table at a past revision.
#include <gtest/gtest.h>

#include "sm/sm_test_util.h"
#include "sql/engine.h"

namespace aspen::sql {
namespace {

using sm::testing::DelCmd;
using sm::testing::Harness;
using sm::testing::PutCmd;
namespace v1 = sm::v1;

class KvAtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.Apply(PutCmd("a", "1"));  // 2
    h.Apply(PutCmd("b", "2"));  // 3
    h.Apply(PutCmd("a", "3"));  // 4
    h.Apply(DelCmd("b"));       // 5
    h.Apply(PutCmd("c", "4"));  // 6
    auto e = Engine::Open();
    ASSERT_TRUE(e.ok());
    engine = std::move(*e);
    options.now_ms = h.now_ms;
  }
  Result<QueryResult> Run(const std::string& sql) {
    auto snap = h.store().GetSnapshot();
    return engine->Query(*snap, sql, {}, options);
  }
  std::string Flat(const QueryResult& r) {
    std::string out;
    for (const Row& row : r.rows) {
      for (const Value& v : row)
        out += (v.type == ValueType::kInt ? std::to_string(v.i) : v.s) + ",";
      out += ";";
    }
    return out;
  }
  Harness h;
  std::unique_ptr<Engine> engine;
  QueryOptions options;
};

TEST_F(KvAtTest, ReadsEveryRevisionAsItWas) {
  auto r3 = Run("SELECT key, value, mod_revision, version FROM kv_at(3) ORDER BY key");
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(Flat(*r3), "a,1,2,1,;b,2,3,1,;");
  auto r5 = Run("SELECT key, value, version FROM kv_at(5)");
  ASSERT_TRUE(r5.ok());
  EXPECT_EQ(Flat(*r5), "a,3,2,;");
  auto now = Run("SELECT count(*) FROM kv_at(6)");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(Flat(*now), "2,;");
}

TEST_F(KvAtTest, JoinsWithTheCurrentTable) {
  auto r =
      Run("SELECT k.key, old.value, k.value FROM kv AS k JOIN kv_at(2) AS old ON old.key = k.key");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Flat(*r), "a,1,3,;");
}

TEST_F(KvAtTest, CompactedFutureAndMissingRevisionsAreErrors) {
  v1::Command c;
  c.mutable_compact()->set_revision(4);
  ASSERT_FALSE(h.Apply(c).has_error());
  auto old = Run("SELECT * FROM kv_at(3)");
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("required revision has been compacted"), std::string::npos);
  auto future = Run("SELECT * FROM kv_at(60)");
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.status().message().find("future revision"), std::string::npos);
  auto none = Run("SELECT * FROM kv_at");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("kv_at: needs a revision"), std::string::npos);
  EXPECT_TRUE(Run("SELECT * FROM kv_at(4)").ok());
}

}  // namespace
}  // namespace aspen::sql
