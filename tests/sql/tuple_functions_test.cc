// The tuple_* SQL functions: encoding, JSON form, element access, ranges and
// their error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sql/dataset.h"
#include "tuple/tuple.h"

namespace aspen::sql::testing {
namespace {

using ::testing::HasSubstr;

class TupleFunctions : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Open();
    ASSERT_TRUE(e.ok());
    engine_ = std::move(*e);
    options_.now_ms = kNowMs;
  }
  Result<QueryResult> Run(const std::string& sql) {
    return engine_->Query(*store_.GetSnapshot(), sql, {}, options_);
  }
  Value One(const std::string& sql) {
    auto r = Run(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() && !r->rows.empty() ? r->rows[0][0] : Value::Null();
  }

  storage::MemStore store_;
  std::unique_ptr<Engine> engine_;
  QueryOptions options_;
};

TEST_F(TupleFunctions, PackMapsEachSqlTypeToATupleElement) {
  tuple::Tuple want;
  want.AddNull().Add(std::int64_t{42}).Add(-1.5).Add("text").AddBytes(std::string("\x00\xff", 2));
  EXPECT_EQ(One("SELECT tuple_pack(NULL, 42, -1.5, 'text', x'00ff')"), Value::Blob(want.Pack()));
  EXPECT_EQ(One("SELECT tuple_pack()"), Value::Blob(""));
}

TEST_F(TupleFunctions, UnpackWritesTheTypedJsonOfTheCli) {
  EXPECT_EQ(One("SELECT tuple_unpack(tuple_pack('users', 12345, x'00ff', NULL, 0.5))"),
            Value::Text(R"([{"string":"users"},{"int":"12345"},{"bytes":"00ff"},{"null":null},)"
                        R"({"double":"3fe0000000000000"}])"));
  EXPECT_EQ(One("SELECT tuple_unpack(tuple_pack('é'))"), Value::Text(R"([{"string":"\u00e9"}])"));
  EXPECT_EQ(One("SELECT tuple_unpack(NULL)"), Value::Null());
}

TEST_F(TupleFunctions, GetReturnsSqlValuesAndNullOutOfRange) {
  EXPECT_EQ(One("SELECT tuple_get(tuple_pack('a', 7, x'01'), 1)"), Value::Int(7));
  EXPECT_EQ(One("SELECT tuple_get(tuple_pack('a', 7, x'01'), -1)"), Value::Blob("\x01"));
  EXPECT_EQ(One("SELECT tuple_get(tuple_pack('a', 7, x'01'), 0)"), Value::Text("a"));
  EXPECT_EQ(One("SELECT tuple_get(tuple_pack('a'), 3)"), Value::Null());
  const std::string big = tuple::Tuple().Add(tuple::BigInt::FromUint64(UINT64_MAX)).Pack();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : big) hex += std::string{kHex[c >> 4], kHex[c & 15]};
  EXPECT_EQ(One("SELECT tuple_get(x'" + hex + "', 0)"), Value::Text("18446744073709551615"));
}

TEST_F(TupleFunctions, RangeBoundsEveryExtensionOfTheTuple) {
  const auto [begin, end] = tuple::Tuple().Add("users").Range();
  EXPECT_EQ(One("SELECT tuple_range_start('users')"), Value::Blob(begin));
  EXPECT_EQ(One("SELECT tuple_range_end('users')"), Value::Blob(end));
}

TEST_F(TupleFunctions, MalformedInputIsAnErrorNamingTheFunction) {
  auto r = Run("SELECT tuple_unpack(x'03')");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("tuple_unpack: malformed tuple"));
  r = Run("SELECT tuple_pack(CAST(x'ff' AS TEXT))");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("tuple_pack: argument 1 is TEXT but not valid UTF-8"));
  r = Run("SELECT tuple_get(tuple_pack(1), 'x')");
  EXPECT_THAT(r.status().message(), HasSubstr("tuple_get: the index must be an INTEGER"));
  r = Run("SELECT tuple_unpack(5)");
  EXPECT_THAT(r.status().message(), HasSubstr("tuple_unpack: expects a BLOB"));
}

}  // namespace
}  // namespace aspen::sql::testing
