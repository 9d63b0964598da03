// Byte formats of storage/log_store.h and the chain hash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "storage/chain_hash.h"
#include "storage/log_store.h"

namespace aspen::storage {
namespace {

using ::testing::HasSubstr;

LogEntry SampleEntry() {
  LogEntry e;
  e.index = 42;
  e.term = 7;
  e.type = kEntryConfChangeV2;
  e.data = std::string("pay\x00load\xff", 9);
  e.chain_hash = ComputeChainHash(kZeroChainHash, 7, 42, e.type, e.data);
  return e;
}

TEST(ChainHash, MatchesSha256OfTheDocumentedLayout) {
  // Expected values computed independently (Python hashlib) over
  // prev || be64(term) || be64(index) || u8(type) || data.
  ChainHash h1 = ComputeChainHash(kZeroChainHash, 1, 1, 0, "hello");
  EXPECT_EQ(ChainHashHex(h1), "dddd770fdfe65a7ce46c71a6d15ffc2d4e3ccfaf73da5202c7c2d970e22b3378");
  ChainHash h2 = ComputeChainHash(h1, 2, 2, 1, "");
  EXPECT_EQ(ChainHashHex(h2), "880f33ad275eca623fbdb435135563c5587e6481e0725e7350c3033bbd7a1982");
}

TEST(ChainHash, EveryFieldChangesTheHash) {
  const ChainHash base = ComputeChainHash(kZeroChainHash, 1, 1, 0, "x");
  ChainHash other_prev{};
  other_prev[31] = 1;
  EXPECT_NE(ComputeChainHash(other_prev, 1, 1, 0, "x"), base);
  EXPECT_NE(ComputeChainHash(kZeroChainHash, 2, 1, 0, "x"), base);
  EXPECT_NE(ComputeChainHash(kZeroChainHash, 1, 2, 0, "x"), base);
  EXPECT_NE(ComputeChainHash(kZeroChainHash, 1, 1, 1, "x"), base);
  EXPECT_NE(ComputeChainHash(kZeroChainHash, 1, 1, 0, "y"), base);
}

TEST(LogCodec, LogKeyIsBigEndianAndSortsNumerically) {
  EXPECT_EQ(EncodeLogKey(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
  EXPECT_LT(EncodeLogKey(255), EncodeLogKey(256));
  EXPECT_EQ(*DecodeLogKey(EncodeLogKey(123456789)), 123456789u);
  EXPECT_EQ(DecodeLogKey("short").status().code(), Code::kCorruption);
}

TEST(LogCodec, EntryHasTheDocumentedLayout) {
  LogEntry e = SampleEntry();
  std::string bytes = EncodeLogEntry(e);
  ASSERT_EQ(bytes.size(), 1u + 8 + 1 + 32 + 4 + e.data.size());
  EXPECT_EQ(bytes[0], '\x01');                                          // tag
  EXPECT_EQ(bytes.substr(1, 8), std::string("\0\0\0\0\0\0\0\x07", 8));  // term
  EXPECT_EQ(bytes[9], '\x02');                                          // type
  EXPECT_EQ(bytes.substr(42, 4), std::string("\0\0\0\x09", 4));         // data_len
  EXPECT_EQ(bytes.substr(46), e.data);
  auto decoded = DecodeLogEntry(42, bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, e);
}

TEST(LogCodec, EveryTruncationOfAnEntryIsCorruption) {
  const std::string bytes = EncodeLogEntry(SampleEntry());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeLogEntry(42, bytes.substr(0, n));
    EXPECT_EQ(r.status().code(), Code::kCorruption) << n;
    EXPECT_THAT(r.status().message(), HasSubstr("entry 42")) << n;
  }
}

TEST(LogCodec, TrailingBytesBadTagAndBadTypeAreCorruption) {
  const std::string bytes = EncodeLogEntry(SampleEntry());
  EXPECT_EQ(DecodeLogEntry(1, bytes + "x").status().code(), Code::kCorruption);
  std::string tag = bytes;
  tag[0] = '\x02';
  EXPECT_THAT(DecodeLogEntry(1, tag).status().message(), HasSubstr("unknown format tag 2"));
  std::string type = bytes;
  type[9] = '\x03';
  EXPECT_THAT(DecodeLogEntry(1, type).status().message(), HasSubstr("unknown entry type 3"));
  std::string huge_len = bytes;
  huge_len[42] = '\xff';  // data_len far beyond the record
  EXPECT_EQ(DecodeLogEntry(1, huge_len).status().code(), Code::kCorruption);
}

TEST(LogCodec, StateRecordsRoundTripAndRejectBadLengths) {
  HardState hs{3, 2, 1};
  std::string hs_bytes = EncodeHardState(hs);
  EXPECT_EQ(hs_bytes.size(), 25u);
  EXPECT_EQ(*DecodeHardState(hs_bytes), hs);
  TruncatedState ts{9, 4, ComputeChainHash(kZeroChainHash, 4, 9, 0, "")};
  std::string ts_bytes = EncodeTruncatedState(ts);
  EXPECT_EQ(ts_bytes.size(), 49u);
  EXPECT_EQ(*DecodeTruncatedState(ts_bytes), ts);
  SnapshotMeta meta{10, 5, std::string("c\0s", 3), ts.chain_hash};
  std::string meta_bytes = EncodeSnapshotMeta(meta);
  EXPECT_EQ(*DecodeSnapshotMeta(meta_bytes), meta);
  for (std::size_t n = 0; n < hs_bytes.size(); ++n) {
    EXPECT_EQ(DecodeHardState(hs_bytes.substr(0, n)).status().code(), Code::kCorruption) << n;
  }
  for (std::size_t n = 0; n < ts_bytes.size(); ++n) {
    EXPECT_EQ(DecodeTruncatedState(ts_bytes.substr(0, n)).status().code(), Code::kCorruption) << n;
  }
  for (std::size_t n = 0; n < meta_bytes.size(); ++n) {
    EXPECT_EQ(DecodeSnapshotMeta(meta_bytes.substr(0, n)).status().code(), Code::kCorruption) << n;
  }
  EXPECT_EQ(DecodeHardState(hs_bytes + "x").status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeTruncatedState(ts_bytes + "x").status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeSnapshotMeta(meta_bytes + "x").status().code(), Code::kCorruption);
}

RC_GTEST_PROP(LogCodec, EntriesRoundTrip,
              (std::uint64_t index, std::uint64_t term, std::string data)) {
  LogEntry e;
  e.index = index;
  e.term = term;
  e.type = *rc::gen::inRange<std::uint8_t>(0, 3);
  e.data = data;
  e.chain_hash = ComputeChainHash(kZeroChainHash, term, index, e.type, data);
  auto decoded = DecodeLogEntry(index, EncodeLogEntry(e));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == e);
}

RC_GTEST_PROP(LogCodec, ArbitraryBytesDecodeToCorruptionOrReencodeExactly, (std::string bytes)) {
  // Garbage never crashes the decoder: it is either rejected as Corruption
  // or is a well-formed record that re-encodes to the same bytes.
  auto e = DecodeLogEntry(5, bytes);
  if (e.ok()) {
    RC_ASSERT(EncodeLogEntry(*e) == bytes);
  } else {
    RC_ASSERT(e.status().code() == Code::kCorruption);
  }
  auto hs = DecodeHardState(bytes);
  const bool hs_fine =
      hs.ok() ? EncodeHardState(*hs) == bytes : hs.status().code() == Code::kCorruption;
  RC_ASSERT(hs_fine);
  auto meta = DecodeSnapshotMeta(bytes);
  const bool meta_fine =
      meta.ok() ? EncodeSnapshotMeta(*meta) == bytes : meta.status().code() == Code::kCorruption;
  RC_ASSERT(meta_fine);
}

RC_GTEST_PROP(LogCodec, MutatedEntriesNeverCrashTheDecoder,
              (std::string data, std::size_t pos, std::uint8_t byte)) {
  LogEntry e;
  e.index = 1;
  e.term = 1;
  e.data = data;
  std::string bytes = EncodeLogEntry(e);
  bytes[pos % bytes.size()] = static_cast<char>(byte);
  auto decoded = DecodeLogEntry(1, bytes);
  RC_ASSERT(decoded.ok() || decoded.status().code() == Code::kCorruption);
}

}  // namespace
}  // namespace aspen::storage
