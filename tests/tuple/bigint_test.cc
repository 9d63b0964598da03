#include "tuple/bigint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "tuple/test_util.h"

namespace aspen::tuple {
namespace {

using testing::Hex;

// 2^k in decimal by repeated doubling of a digit string: independent of BigInt.
std::string PowerOfTwoDecimal(int k) {
  std::string digits = "1";  // little-endian digits
  for (int i = 0; i < k; ++i) {
    int carry = 0;
    for (char& d : digits) {
      const int v = (d - '0') * 2 + carry;
      d = static_cast<char>('0' + v % 10);
      carry = v / 10;
    }
    if (carry) digits.push_back(static_cast<char>('0' + carry));
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

TEST(BigInt, ZeroHasEmptyMagnitudeAndIsNotNegative) {
  BigInt z;
  EXPECT_TRUE(z.is_zero());
  EXPECT_FALSE(z.negative());
  EXPECT_EQ(z.ToDecimal(), "0");
  auto from_neg = BigInt::FromMagnitude(true, std::string(3, '\0'));
  ASSERT_TRUE(from_neg.ok());
  EXPECT_EQ(*from_neg, z);
}

TEST(BigInt, Int64ExtremesRoundTrip) {
  for (std::int64_t v :
       {INT64_MIN, INT64_MIN + 1, std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}, INT64_MAX}) {
    const BigInt b = BigInt::FromInt64(v);
    EXPECT_EQ(b.ToInt64(), v);
    EXPECT_EQ(b.ToDecimal(), std::to_string(v));
  }
  EXPECT_EQ(Hex(BigInt::FromInt64(INT64_MIN).magnitude()), "8000000000000000");
  EXPECT_EQ(BigInt::FromUint64(UINT64_MAX).ToUint64(), UINT64_MAX);
  EXPECT_FALSE(BigInt::FromUint64(UINT64_MAX).ToInt64().has_value());
  EXPECT_FALSE(BigInt::FromInt64(-1).ToUint64().has_value());
}

TEST(BigInt, DecimalOfPowersOfTwoMatchesIndependentDoubling) {
  for (int k = 0; k < 2040; k += 7) {
    const std::string dec = PowerOfTwoDecimal(k);
    auto b = BigInt::FromDecimal(dec);
    ASSERT_TRUE(b.ok()) << k;
    EXPECT_EQ(b->magnitude().size(), static_cast<std::size_t>(k / 8 + 1)) << k;
    EXPECT_EQ(static_cast<unsigned char>(b->magnitude()[0]), 1u << (k % 8)) << k;
    EXPECT_EQ(b->ToDecimal(), dec);
    auto neg = BigInt::FromDecimal("-" + dec);
    ASSERT_TRUE(neg.ok());
    EXPECT_EQ(neg->ToDecimal(), "-" + dec);
  }
}

TEST(BigInt, LargestMagnitudeIsAcceptedAndOneMoreIsOutOfRange) {
  const std::string two_2040 = PowerOfTwoDecimal(2040);
  std::string max = two_2040;  // 2^2040 - 1: the last digit of 2^2040 is 6
  ASSERT_EQ(max.back(), '6');
  max.back() = '5';
  auto ok = BigInt::FromDecimal(max);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->magnitude(), std::string(255, '\xff'));
  EXPECT_EQ(ok->ToDecimal(), max);
  auto too_big = BigInt::FromDecimal(two_2040);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(BigInt::FromDecimal("-" + two_2040).error().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(BigInt::FromDecimal(std::string(700, '9')).error().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(BigInt::FromMagnitude(false, std::string(256, '\x01')).error().code(),
            ErrorCode::kOutOfRange);
}

TEST(BigInt, NonCanonicalDecimalIsRejected) {
  for (const char* bad :
       {"", "-", "+5", "05", "-0", "-05", "1e3", " 1", "1 ", "0x10", "1.0", "--1", "١"}) {
    auto r = BigInt::FromDecimal(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(BigInt, OrderIsNumeric) {
  auto d = [](const char* s) { return *BigInt::FromDecimal(s); };
  EXPECT_LT(d("-18446744073709551616"), d("-18446744073709551615"));
  EXPECT_LT(d("-256"), d("-255"));
  EXPECT_LT(d("-1"), d("0"));
  EXPECT_LT(d("0"), d("1"));
  EXPECT_LT(d("255"), d("256"));
  EXPECT_LT(d("18446744073709551615"), d("18446744073709551616"));
  EXPECT_EQ(d("12345"), BigInt::FromInt64(12345));
}

}  // namespace
}  // namespace aspen::tuple
