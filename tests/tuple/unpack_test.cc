// Unpack of malformed, non-canonical and foreign (FoundationDB Python) input.
#include <gtest/gtest.h>

#include <string>

#include "tuple/test_util.h"
#include "tuple/tuple.h"

namespace aspen::tuple {
namespace {

using testing::Hex;
using testing::Unhex;

void ExpectError(std::string_view hex, ErrorCode code, std::string_view fragment = "") {
  auto r = Tuple::Unpack(Unhex(hex));
  ASSERT_FALSE(r.ok()) << "accepted " << hex;
  EXPECT_EQ(r.error().code(), code) << hex << ": " << r.error().message();
  EXPECT_NE(r.error().message().find(fragment), std::string::npos) << r.error().message();
}

TEST(Unpack, TruncatedElementsAreErrors) {
  ExpectError("01 6162", ErrorCode::kTruncated, "bytes has no terminating 0x00");
  ExpectError("02 61 00ff", ErrorCode::kTruncated, "string");
  ExpectError("05 14", ErrorCode::kTruncated, "nested tuple");
  ExpectError("05 00ff", ErrorCode::kTruncated, "nested tuple");
  ExpectError("15", ErrorCode::kTruncated, "integer needs 1 bytes");
  ExpectError("1c 01020304050607", ErrorCode::kTruncated);
  ExpectError("0c 01", ErrorCode::kTruncated);
  ExpectError("1d", ErrorCode::kTruncated, "length");
  ExpectError("1d 09 01", ErrorCode::kTruncated);
  ExpectError("0b f6 fe", ErrorCode::kTruncated);
  ExpectError("20 000000", ErrorCode::kTruncated, "float needs 4 bytes");
  ExpectError("21 00000000000000", ErrorCode::kTruncated, "double needs 8 bytes");
  ExpectError("30 00112233", ErrorCode::kTruncated, "UUID");
  ExpectError("33 0102030405060708090a0b", ErrorCode::kTruncated, "versionstamp");
}

TEST(Unpack, ErrorsNameTheElementOffset) {
  ExpectError("14 14 15", ErrorCode::kTruncated, "offset 2");
}

TEST(Unpack, UnknownTypeCodesAreErrors) {
  for (const char* code : {"03", "04", "06", "0a", "1e", "1f", "22", "23", "24", "25", "28", "31",
                           "32", "34", "40", "4f", "80", "fe", "ff"}) {
    ExpectError(code, ErrorCode::kUnknownTypeCode, std::string("0x") + code);
  }
  ExpectError("14 00 ff", ErrorCode::kUnknownTypeCode, "0xff");  // null, then 0xff
}

TEST(Unpack, NonCanonicalIntegersAreErrors) {
  ExpectError("15 00", ErrorCode::kNonCanonical);     // 0 in one byte
  ExpectError("16 00ff", ErrorCode::kNonCanonical);   // 255 in two bytes
  ExpectError("13 ff", ErrorCode::kNonCanonical);     // -0
  ExpectError("12 ff00", ErrorCode::kNonCanonical);   // -255 in two bytes
  ExpectError("1d 00", ErrorCode::kNonCanonical);     // zero-length big int
  ExpectError("1d 01 05", ErrorCode::kNonCanonical);  // 5 as a big int
  ExpectError("1d 08 fffffffffffffffe", ErrorCode::kNonCanonical);
  ExpectError("1d 09 00ffffffffffffffff", ErrorCode::kNonCanonical);  // leading zero
  ExpectError("0b fe fa", ErrorCode::kNonCanonical);                  // -5 as a big int
  ExpectError("0b f7 0000000000000001", ErrorCode::kNonCanonical);
  ExpectError("0b f6 ff0000000000000000", ErrorCode::kNonCanonical);
}

TEST(Unpack, PythonFormOfPlusMinusTwoToThe64MinusOneIsAccepted) {
  auto py_pos = Tuple::Unpack(Unhex("1d 08 ffffffffffffffff"));
  auto canon_pos = Tuple::Unpack(Unhex("1c ffffffffffffffff"));
  ASSERT_TRUE(py_pos.ok() && canon_pos.ok());
  EXPECT_EQ(*py_pos, *canon_pos);
  EXPECT_EQ((*py_pos)[0].integer().ToDecimal(), "18446744073709551615");
  EXPECT_EQ(Hex(py_pos->Pack()), "1cffffffffffffffff");

  auto py_neg = Tuple::Unpack(Unhex("0b f7 0000000000000000"));
  auto canon_neg = Tuple::Unpack(Unhex("0c 0000000000000000"));
  ASSERT_TRUE(py_neg.ok() && canon_neg.ok());
  EXPECT_EQ(*py_neg, *canon_neg);
  EXPECT_EQ((*py_neg)[0].integer().ToDecimal(), "-18446744073709551615");
  EXPECT_EQ(Hex(py_neg->Pack()), "0c0000000000000000");
}

TEST(Unpack, StringsMustBeValidUtf8ButBytesNeedNot) {
  ExpectError("02 ff 00", ErrorCode::kInvalidUtf8);
  ExpectError("02 eda080 00", ErrorCode::kInvalidUtf8);  // a surrogate
  ExpectError("02 c0af 00", ErrorCode::kInvalidUtf8);    // overlong '/'
  ExpectError("02 e282 00", ErrorCode::kInvalidUtf8);    // truncated sequence
  auto bytes = Tuple::Unpack(Unhex("01 ff eda080 00"));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ((*bytes)[0].bytes(), "\xff\xed\xa0\x80");
}

TEST(Unpack, IncompleteVersionstampIsAnError) {
  ExpectError("33 ffffffffffffffffffff 0001", ErrorCode::kIncompleteVersionstamp);
  EXPECT_TRUE(Tuple::Unpack(Unhex("33 fffffffffffffffffffe 0001")).ok());
}

TEST(Unpack, NestingIsBoundedAtMaxDepth) {
  auto nested = [](int levels) {
    return std::string(static_cast<std::size_t>(levels), '\x05') +
           std::string(static_cast<std::size_t>(levels), '\x00');
  };
  auto ok = Tuple::Unpack(nested(kMaxNestingDepth));
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_EQ(ok->depth(), kMaxNestingDepth);
  auto deep = Tuple::Unpack(nested(kMaxNestingDepth + 1));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code(), ErrorCode::kTooDeep);
  // A huge depth fails fast instead of recursing.
  auto huge = Tuple::Unpack(std::string(1'000'000, '\x05'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code(), ErrorCode::kTooDeep);
}

TEST(Unpack, EveryPrefixOfAValidKeyFailsCleanlyOrRoundTrips) {
  Versionstamp::Bytes vb{};
  const Tuple t = Tuple()
                      .Add(std::string_view("a\0b", 3))
                      .AddBytes(std::string("\0\xff", 2))
                      .Add(Tuple().AddNull().Add(-70000).Add(Tuple()))
                      .Add(*BigInt::FromDecimal("-123456789012345678901234567890"))
                      .Add(1.25f)
                      .Add(-2.5)
                      .Add(true)
                      .Add(Uuid{})
                      .Add(*Versionstamp::FromBytes(vb));
  const std::string key = t.Pack();
  for (std::size_t n = 0; n < key.size(); ++n) {
    auto r = Tuple::Unpack(std::string_view(key).substr(0, n));
    if (r.ok()) {
      EXPECT_EQ(r->Pack(), key.substr(0, n)) << n;
    }
  }
}

}  // namespace
}  // namespace aspen::tuple
