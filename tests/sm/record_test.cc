#include "sm/record.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "sm/index.h"
#include "sm/tuple_codec.h"

namespace aspen::sm {
namespace {

KvMeta SampleMeta() {
  KvMeta m;
  m.create_revision = 5;
  m.mod_revision = 9;
  m.version = 3;
  m.expires_at_ms = 123456789;
  m.lease = -7;
  return m;
}

TEST(KvRecord, RoundTripsEveryField) {
  const std::string value("v\0al", 4);
  std::string bytes = EncodeKvRecord(SampleMeta(), value);
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), kKvRecordTagV1);
  KvMeta m;
  std::string_view v;
  ASSERT_TRUE(DecodeKvRecord(bytes, &m, &v).ok());
  EXPECT_EQ(m, SampleMeta());
  EXPECT_EQ(v, value);
}

TEST(KvRecord, EncodingIsStable) {
  // Pins the persisted format: changing it breaks every existing store.
  KvMeta m;
  m.create_revision = 2;
  m.mod_revision = 300;
  m.version = 1;
  std::string bytes = EncodeKvRecord(m, "ab");
  EXPECT_EQ(bytes, std::string("\x01\x02\xac\x02\x01\x00\x00\x02"
                               "ab",
                               10));
}

TEST(KvRecord, EveryTruncationIsCorruption) {
  std::string bytes = EncodeKvRecord(SampleMeta(), "value");
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    KvMeta m;
    std::string_view v;
    Status s = DecodeKvRecord(std::string_view(bytes).substr(0, n), &m, &v);
    EXPECT_EQ(s.code(), Code::kCorruption) << n;
  }
}

TEST(KvRecord, UnknownTagAndTrailingBytesAreCorruption) {
  std::string bytes = EncodeKvRecord(SampleMeta(), "value");
  KvMeta m;
  std::string_view v;
  std::string bad_tag = bytes;
  bad_tag[0] = 0x02;
  EXPECT_EQ(DecodeKvRecord(bad_tag, &m, &v).code(), Code::kCorruption);
  EXPECT_EQ(DecodeKvRecord(bytes + "x", &m, &v).code(), Code::kCorruption);
}

TEST(KvRecord, OverlongVarintIsCorruption) {
  std::string bytes(1, '\x01');
  bytes.append(11, '\xff');
  KvMeta m;
  std::string_view v;
  EXPECT_EQ(DecodeKvRecord(bytes, &m, &v).code(), Code::kCorruption);
}

RC_GTEST_PROP(KvRecord, ArbitraryBytesNeverCrashTheDecoder, (const std::string& bytes)) {
  KvMeta m;
  std::string_view v;
  Status s = DecodeKvRecord(bytes, &m, &v);
  if (s.ok()) RC_ASSERT(EncodeKvRecord(m, v) == bytes);
}

TEST(LeaseRecord, RoundTripsAndRejectsGarbage) {
  std::int64_t ttl = 0;
  ASSERT_TRUE(DecodeLeaseRecord(EncodeLeaseRecord(60), &ttl).ok());
  EXPECT_EQ(ttl, 60);
  EXPECT_EQ(DecodeLeaseRecord("", &ttl).code(), Code::kCorruption);
  EXPECT_EQ(DecodeLeaseRecord(EncodeLeaseRecord(60) + "x", &ttl).code(), Code::kCorruption);
  std::int64_t id = 0;
  ASSERT_TRUE(DecodeLeaseKey(EncodeLeaseKey(-5), &id).ok());
  EXPECT_EQ(id, -5);
  EXPECT_EQ(DecodeLeaseKey("short", &id).code(), Code::kCorruption);
}

TEST(IndexKey, MatchesTheFoundationDbTupleEncoding) {
  // ("idx", "lease_id", 5, b"k\x00") in the FDB tuple layer.
  static constexpr char kExpected[] = "\x02idx\x00\x02lease_id\x00\x15\x05\x01k\x00\xff\x00";
  const std::string expected(kExpected, sizeof(kExpected) - 1);
  EXPECT_EQ(IndexKey(IndexName::kLeaseId, 5, std::string("k\0", 2)), expected);
  EXPECT_EQ(PackIndexPrefix("x", -1), std::string("\x02idx\x00\x02x\x00\x13\xfe", 10));
}

RC_GTEST_PROP(IndexKey, OrderFollowsValueThenKey,
              (std::int64_t a, std::int64_t b, const std::string& ka, const std::string& kb)) {
  const std::string x = IndexKey(IndexName::kModRevision, a, ka);
  const std::string y = IndexKey(IndexName::kModRevision, b, kb);
  const bool want_less = a < b || (a == b && ka < kb);
  RC_ASSERT((x < y) == want_less);
  IndexEntry e;
  RC_ASSERT(DecodeIndexKey(IndexName::kModRevision, x, &e).ok());
  RC_ASSERT(e.value == a);
  RC_ASSERT(e.key == ka);
}

RC_GTEST_PROP(IndexKey, ValueRangeHoldsExactlyTheValuesInside,
              (std::int64_t lo, std::int64_t v, const std::string& key)) {
  const std::int64_t hi = lo + *rc::gen::inRange<std::int64_t>(0, 1000);
  RC_PRE(hi >= lo);
  const auto [begin, end] = IndexValueRange(IndexName::kExpiresAt, lo, hi);
  const std::string row = IndexKey(IndexName::kExpiresAt, v, key);
  RC_ASSERT((row >= begin && row < end) == (v >= lo && v <= hi));
}

RC_GTEST_PROP(IndexKey, ArbitraryBytesNeverCrashTheDecoder, (const std::string& bytes)) {
  IndexEntry e;
  Status s = DecodeIndexKey(IndexName::kLeaseId, bytes, &e);
  if (s.ok()) RC_ASSERT(IndexKey(IndexName::kLeaseId, e.value, e.key) == bytes);
}

}  // namespace
}  // namespace aspen::sm
