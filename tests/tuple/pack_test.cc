// Encodings pinned byte for byte. Vectors marked "design/tuple.md" are the test
// cases published in FoundationDB's spec; the rest are derived by hand from it.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>

#include "tuple/test_util.h"
#include "tuple/tuple.h"

namespace aspen::tuple {
namespace {

using testing::Hex;
using testing::Unhex;
using testing::Utf8;

// Packs, checks the hex, and checks that unpacking gives the tuple back.
void ExpectPacksTo(const Tuple& t, std::string_view hex) {
  EXPECT_EQ(Hex(t.Pack()), std::string(Hex(Unhex(hex))));
  auto back = Tuple::Unpack(t.Pack());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, t);
}

BigInt Dec(const std::string& s) {
  auto r = BigInt::FromDecimal(s);
  EXPECT_TRUE(r.ok()) << s;
  return *r;
}

TEST(Pack, EmptyTupleIsZeroBytes) {
  ExpectPacksTo(Tuple(), "");
}

TEST(Pack, SpecTestCasesFromDesignDoc) {
  ExpectPacksTo(Tuple().AddBytes(std::string("foo\0bar", 7)), "01 666f6f 00ff 626172 00");
  ExpectPacksTo(Tuple().Add("F" + Utf8(0xd4) + "O" + std::string(1, '\0') + "bar"),
                "02 46 c394 4f 00ff 626172 00");
  ExpectPacksTo(Tuple().Add(Tuple().AddBytes(std::string("foo\0bar", 7)).AddNull().Add(Tuple())),
                "05 01666f6f00ff62617200 00ff 0500 00");
  ExpectPacksTo(Tuple().Add(-5551212), "11 ab4b93");
  ExpectPacksTo(Tuple().Add(-42.0f), "20 3dd7ffff");
}

TEST(Pack, NullAtTopLevelIsOneByteAndInsideNestedIsEscaped) {
  ExpectPacksTo(Tuple().AddNull(), "00");
  ExpectPacksTo(Tuple().AddNull().AddNull(), "00 00");
  ExpectPacksTo(Tuple().Add(Tuple().AddNull()), "05 00ff 00");
  ExpectPacksTo(Tuple().Add(Tuple()), "05 00");
  ExpectPacksTo(Tuple().Add(Tuple().Add(Tuple().AddNull())), "05 05 00ff 00 00");
}

TEST(Pack, BytesAndStringsEscapeEveryZero) {
  ExpectPacksTo(Tuple().AddBytes(""), "01 00");
  ExpectPacksTo(Tuple().AddBytes(std::string(2, '\0')), "01 00ff 00ff 00");
  ExpectPacksTo(Tuple().AddBytes("\xff"), "01 ff 00");
  ExpectPacksTo(Tuple().Add(""), "02 00");
  ExpectPacksTo(Tuple().Add(Utf8(0x2028) + Utf8(0x85) + Utf8(0x1f4a9)),
                "02 e280a8 c285 f09f92a9 00");
}

TEST(Pack, SmallIntegersAtEveryByteBoundary) {
  ExpectPacksTo(Tuple().Add(0), "14");
  ExpectPacksTo(Tuple().Add(1), "15 01");
  ExpectPacksTo(Tuple().Add(-1), "13 fe");
  ExpectPacksTo(Tuple().Add(255), "15 ff");
  ExpectPacksTo(Tuple().Add(-255), "13 00");
  ExpectPacksTo(Tuple().Add(256), "16 0100");
  ExpectPacksTo(Tuple().Add(-256), "12 feff");
  ExpectPacksTo(Tuple().Add(65535), "16 ffff");
  ExpectPacksTo(Tuple().Add(65536), "17 010000");
  ExpectPacksTo(Tuple().Add(-65536), "11 feffff");
  ExpectPacksTo(Tuple().Add(12345), "16 3039");
  ExpectPacksTo(Tuple().Add(INT64_MAX), "1c 7fffffffffffffff");
  ExpectPacksTo(Tuple().Add(INT64_MIN), "0c 7fffffffffffffff");
  ExpectPacksTo(Tuple().Add(INT64_MIN + 1), "0c 8000000000000000");
}

TEST(Pack, PlusMinusTwoToThe64MinusOneUseTheEightByteCodes) {
  ExpectPacksTo(Tuple().AddUint(UINT64_MAX), "1c ffffffffffffffff");
  ExpectPacksTo(Tuple().Add(Dec("-18446744073709551615")), "0c 0000000000000000");
}

TEST(Pack, BigIntegersUseLengthPrefixedCodes) {
  ExpectPacksTo(Tuple().Add(Dec("18446744073709551616")), "1d 09 01 0000000000000000");
  ExpectPacksTo(Tuple().Add(Dec("18446744073709551617")), "1d 09 01 0000000000000001");
  ExpectPacksTo(Tuple().Add(Dec("-18446744073709551616")), "0b f6 fe ffffffffffffffff");
  ExpectPacksTo(Tuple().Add(Dec("-18446744073709551617")), "0b f6 fe fffffffffffffffe");
}

// 2^k as a magnitude: one byte 1 << (k % 8), then k / 8 zero bytes.
std::string PowerOfTwoMagnitude(int k) {
  return std::string(1, static_cast<char>(1 << (k % 8))) + std::string(k / 8, '\0');
}

TEST(Pack, PowersOfTwoPlusMinusOneUpTo2040) {
  for (int k = 1; k <= 2040; ++k) {
    // 2^k - 1: k one bits. 2^k + 1 and 2^k as magnitudes built directly.
    std::string minus_one(static_cast<std::size_t>((k + 7) / 8), '\xff');
    if (k % 8) minus_one[0] = static_cast<char>((1 << (k % 8)) - 1);
    std::string plus_one = PowerOfTwoMagnitude(k);
    plus_one.back() = static_cast<char>(plus_one.back() | 1);
    for (const std::string& mag : {minus_one, PowerOfTwoMagnitude(k), plus_one}) {
      if (mag.size() > 255) continue;  // 2^2040 and 2^2040 + 1 are out of range
      for (bool negative : {false, true}) {
        const std::size_t n = mag.size();
        std::string expected;
        if (n <= 8) {
          expected.push_back(static_cast<char>(negative ? 0x14 - n : 0x14 + n));
        } else {
          expected.push_back(negative ? '\x0b' : '\x1d');
          expected.push_back(static_cast<char>(negative ? n ^ 0xff : n));
        }
        for (char c : mag) expected.push_back(negative ? static_cast<char>(~c) : c);
        auto v = BigInt::FromMagnitude(negative, mag);
        ASSERT_TRUE(v.ok());
        const Tuple t = Tuple().Add(*v);
        ASSERT_EQ(Hex(t.Pack()), Hex(expected)) << "k=" << k << " neg=" << negative;
        auto back = Tuple::Unpack(expected);
        ASSERT_TRUE(back.ok()) << back.error().message();
        ASSERT_EQ(*back, t);
      }
    }
  }
}

TEST(Pack, LargestBigIntegers) {
  const std::string max_mag(255, '\xff');
  ExpectPacksTo(Tuple().Add(*BigInt::FromMagnitude(false, max_mag)), "1d ff" + Hex(max_mag));
  ExpectPacksTo(Tuple().Add(*BigInt::FromMagnitude(true, max_mag)),
                "0b 00" + Hex(std::string(255, '\0')));
}

TEST(Pack, FloatsFlipTheSignBitOrEveryBit) {
  auto f = [](std::uint32_t bits) { return Tuple().Append(Element::FloatBits(bits)); };
  auto d = [](std::uint64_t bits) { return Tuple().Append(Element::DoubleBits(bits)); };
  ExpectPacksTo(f(0x00000000), "20 80000000");  // +0.0
  ExpectPacksTo(f(0x80000000), "20 7fffffff");  // -0.0
  ExpectPacksTo(f(0x3f800000), "20 bf800000");  // 1.0
  ExpectPacksTo(f(0x7f800000), "20 ff800000");  // +inf
  ExpectPacksTo(f(0xff800000), "20 007fffff");  // -inf
  ExpectPacksTo(f(0x7fc00000), "20 ffc00000");  // quiet NaN
  ExpectPacksTo(f(0xffc00001), "20 003ffffe");  // negative NaN with payload
  ExpectPacksTo(f(0x7f800001), "20 ff800001");  // signalling NaN payload kept
  ExpectPacksTo(d(0x0000000000000000), "21 8000000000000000");
  ExpectPacksTo(d(0x8000000000000000), "21 7fffffffffffffff");
  ExpectPacksTo(d(0x3ff0000000000000), "21 bff0000000000000");  // 1.0
  ExpectPacksTo(d(0xbff0000000000000), "21 400fffffffffffff");  // -1.0
  ExpectPacksTo(d(0x7ff8000000000000), "21 fff8000000000000");
  ExpectPacksTo(d(0xfff0000000000001), "21 000ffffffffffffe");
  ExpectPacksTo(Tuple().Add(1.5), "21 bff8000000000000");
}

TEST(Pack, FloatIsNeverWidenedToDouble) {
  const float nan_payload = std::bit_cast<float>(std::uint32_t{0x7fa12345});
  const Tuple t = Tuple().Add(nan_payload);
  ASSERT_EQ(t[0].type(), Type::kFloat);
  EXPECT_EQ(t[0].float_bits(), 0x7fa12345u);
  auto back = Tuple::Unpack(t.Pack());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].float_bits(), 0x7fa12345u);
}

TEST(Pack, BooleansUuidsAndVersionstamps) {
  ExpectPacksTo(Tuple().Add(false).Add(true), "26 27");
  Uuid u;
  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<std::uint8_t>(i * 17);
  ExpectPacksTo(Tuple().Add(u), "30 00112233445566778899aabbccddeeff");
  Versionstamp::Bytes vb{};
  for (int i = 0; i < 12; ++i) vb[i] = static_cast<std::uint8_t>(i + 1);
  auto vs = Versionstamp::FromBytes(vb);
  ASSERT_TRUE(vs.ok());
  ExpectPacksTo(Tuple().Add(*vs), "33 0102030405060708090a0b0c");
}

TEST(Pack, IncompleteVersionstampCannotBeBuilt) {
  Versionstamp::Bytes vb;
  vb.fill(0xff);
  vb[10] = 0;
  vb[11] = 1;
  auto vs = Versionstamp::FromBytes(vb);
  ASSERT_FALSE(vs.ok());
  EXPECT_EQ(vs.error().code(), ErrorCode::kIncompleteVersionstamp);
  vb[9] = 0xfe;  // one byte short of incomplete: fine
  EXPECT_TRUE(Versionstamp::FromBytes(vb).ok());
}

TEST(Pack, MixedTupleConcatenatesElements) {
  ExpectPacksTo(Tuple().Add("users").Add(12345).Add("profile"),
                "02 7573657273 00 16 3039 02 70726f66696c65 00");
  std::string out = "pfx";
  Tuple().Add(1).PackTo(&out);
  EXPECT_EQ(out, "pfx\x15\x01");
}

TEST(Element, CheckedStringRejectsInvalidUtf8) {
  for (const std::string& bad :
       {std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("a\xff"),
        std::string("\xf4\x90\x80\x80"), std::string("\xe2\x80")}) {
    auto e = Element::CheckedString(bad);
    ASSERT_FALSE(e.ok()) << Hex(bad);
    EXPECT_EQ(e.error().code(), ErrorCode::kInvalidUtf8);
  }
  EXPECT_TRUE(Element::CheckedString(Utf8(0x10ffff) + Utf8(0xd7ff) + Utf8(0xe000)).ok());
}

TEST(TupleDeathTest, NestingBeyondTheBoundAborts) {
  Tuple t;
  for (int i = 0; i < kMaxNestingDepth; ++i) t = Tuple().Add(std::move(t));
  EXPECT_EQ(t.depth(), kMaxNestingDepth);
  EXPECT_DEATH(Tuple().Add(t), "depth");
}

TEST(TupleDeathTest, InvalidUtf8StringAborts) {
  EXPECT_DEATH(Tuple().Add(std::string_view("\xff")), "IsValidUtf8");
}

}  // namespace
}  // namespace aspen::tuple
