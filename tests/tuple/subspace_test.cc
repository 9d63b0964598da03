#include "tuple/subspace.h"

#include <gtest/gtest.h>

#include "tuple/test_util.h"

namespace aspen::tuple {
namespace {

using testing::Hex;

TEST(Strinc, IncrementsTheLastByteAfterDroppingTrailingFf) {
  EXPECT_EQ(*Strinc("a"), "b");
  EXPECT_EQ(*Strinc(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(Hex(*Strinc(std::string("\x01\xfe", 2))), "01ff");
  EXPECT_EQ(Hex(*Strinc(std::string("\x00", 1))), "01");
}

TEST(Strinc, EmptyOrAllFfHasNoSuccessor) {
  EXPECT_EQ(Strinc("").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Strinc(std::string(3, '\xff')).error().code(), ErrorCode::kInvalidArgument);
}

TEST(TupleRange, CoversExactlyTheExtensions) {
  const Tuple t = Tuple().Add("a");
  auto [begin, end] = t.Range();
  EXPECT_EQ(Hex(begin), "02610000");
  EXPECT_EQ(Hex(end), "026100ff");
  EXPECT_LT(t.Pack(), begin);  // the tuple itself is outside
  const std::string child = Tuple().Add("a").AddNull().Pack();
  EXPECT_TRUE(begin <= child && child < end);
}

TEST(Subspace, PacksWithPrefixAndNests) {
  const Subspace root(Tuple().Add("app"));
  EXPECT_EQ(Hex(root.key()), "0261707000");
  const Subspace users = root.Sub(Tuple().Add("users"));
  EXPECT_EQ(users.key(), Tuple().Add("app").Add("users").Pack());
  const std::string key = users.Pack(Tuple().Add(42));
  EXPECT_EQ(key, Tuple().Add("app").Add("users").Add(42).Pack());
  auto back = users.Unpack(key);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Tuple().Add(42));
  EXPECT_TRUE(users.Contains(key));
  EXPECT_TRUE(root.Contains(key));
  EXPECT_FALSE(users.Contains(root.Pack(Tuple().Add("other"))));
}

TEST(Subspace, RawPrefixIsKeptVerbatim) {
  const Subspace raw(std::string("\xfe\x01", 2));
  EXPECT_EQ(Hex(raw.Pack(Tuple().Add(true))), "fe0127");
  const Subspace mixed(Tuple().Add(1), std::string("\xfe", 1));
  EXPECT_EQ(Hex(mixed.key()), "fe1501");
}

TEST(Subspace, UnpackChecksThePrefix) {
  const Subspace s(Tuple().Add("s"));
  auto outside = s.Unpack(Tuple().Add("t").Add(1).Pack());
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code(), ErrorCode::kNotInSubspace);
  auto bad_rest = s.Unpack(s.key() + "\x03");
  ASSERT_FALSE(bad_rest.ok());
  EXPECT_EQ(bad_rest.error().code(), ErrorCode::kUnknownTypeCode);
  auto bare = s.Unpack(s.key());
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->empty());
}

TEST(Subspace, RangeExcludesTheBarePrefixAndOtherSubspaces) {
  const Subspace s(Tuple().Add("s"));
  auto [begin, end] = s.Range();
  EXPECT_EQ(begin, s.key() + std::string(1, '\0'));
  EXPECT_EQ(end, s.key() + "\xff");
  const std::string inside = s.Pack(Tuple().Add(Tuple().AddNull()));
  EXPECT_TRUE(begin <= inside && inside < end);
  EXPECT_FALSE(begin <= s.key());
  const std::string sibling = Tuple().Add("t").Pack();
  EXPECT_FALSE(begin <= sibling && sibling < end);
  auto [b2, e2] = s.Range(Tuple().Add(7));
  EXPECT_EQ(b2, s.Pack(Tuple().Add(7)) + std::string(1, '\0'));
  EXPECT_EQ(e2, s.Pack(Tuple().Add(7)) + "\xff");
}

}  // namespace
}  // namespace aspen::tuple
