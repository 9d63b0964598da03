// State snapshots (storage/snapshot.h): round trips on both engines, chunk
// bounds, the etcd-compatible trailer, and corruption of every kind caught
// before anything is written.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/limits.h"
#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/snapshot.h"
#include "test_util.h"

namespace aspen::storage {
namespace {

using testing::EngineNames;
using testing::Engines;
using testing::TempDir;

using CfRows = std::map<std::string, std::string>;

CfRows ReadCf(Store* store, Cf cf) {
  CfRows out;
  auto snap = store->GetSnapshot();
  auto it = snap->NewIterator(cf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok());
  return out;
}

bool StateIsEmpty(Store* store) {
  for (Cf cf : StateCfs()) {
    if (!ReadCf(store, cf).empty()) return false;
  }
  return true;
}

// Rows in every CF, the raft ones included; binary keys.
void Fill(Store* store, int rows_per_cf, std::size_t value_bytes) {
  WriteBatch b;
  for (std::size_t c = 0; c < kNumCfs; ++c) {
    for (int i = 0; i < rows_per_cf; ++i) {
      std::string key = "k";
      PutBigEndian32(&key, static_cast<std::uint32_t>(i));
      key.push_back(static_cast<char>(i % 3 == 0 ? 0x00 : 0xff));
      b.Put(static_cast<Cf>(c), key, std::string(value_bytes, static_cast<char>('a' + i % 26)));
      if (b.approximate_bytes() > (8u << 20)) {
        ASSERT_TRUE(store->Write(b, false).ok());
        b.Clear();
      }
    }
  }
  ASSERT_TRUE(store->Write(b, true).ok());
}

SnapshotHeader Header() {
  SnapshotHeader h;
  h.cluster_id = 0xc1c1;
  h.member_id = 0x5a5a;
  h.applied_index = 42;
  h.applied_term = 7;
  h.revision = 99;
  h.conf_state = std::string("\x08\x01\x08\x02", 4);
  return h;
}

std::string Take(Store* store, SnapshotSummary* summary = nullptr) {
  StringSink sink;
  auto written = WriteStateSnapshot(*store->GetSnapshot(), Header(), &sink);
  EXPECT_TRUE(written.ok()) << written.status().ToString();
  if (summary != nullptr && written.ok()) *summary = *written;
  return std::move(sink.data());
}

template <typename Engine>
class SnapshotTest : public ::testing::Test {};
TYPED_TEST_SUITE(SnapshotTest, Engines, EngineNames);

TYPED_TEST(SnapshotTest, RoundTripCopiesEveryStateCfAndNoRaftCf) {
  TypeParam src;
  Fill(src.store(), 50, 100);
  SnapshotSummary written;
  const std::string bytes = Take(src.store(), &written);
  EXPECT_EQ(written.rows, 50u * StateCfs().size());
  EXPECT_EQ(written.rows_per_cf.at("kv"), 50u);
  EXPECT_EQ(written.rows_per_cf.count("raft_log"), 0u);

  TypeParam dst;
  StringSource source(bytes);
  auto ingested = IngestStateSnapshot(&source, dst.store());
  ASSERT_TRUE(ingested.ok()) << ingested.status().ToString();
  EXPECT_EQ(ingested->header, Header());
  EXPECT_EQ(ingested->rows, written.rows);
  EXPECT_EQ(ingested->sha256, written.sha256);
  for (Cf cf : StateCfs()) EXPECT_EQ(ReadCf(dst.store(), cf), ReadCf(src.store(), cf));
  EXPECT_TRUE(ReadCf(dst.store(), Cf::kRaftLog).empty());
  auto incomplete = IngestIncomplete(dst.store());
  ASSERT_TRUE(incomplete.ok());
  EXPECT_FALSE(*incomplete);
}

TYPED_TEST(SnapshotTest, EmptyStoreRoundTrips) {
  TypeParam src;
  const std::string bytes = Take(src.store());
  TypeParam dst;
  StringSource source(bytes);
  auto ingested = IngestStateSnapshot(&source, dst.store());
  ASSERT_TRUE(ingested.ok()) << ingested.status().ToString();
  EXPECT_EQ(ingested->rows, 0u);
  EXPECT_EQ(ingested->chunks, 0u);
}

TYPED_TEST(SnapshotTest, NonEmptyDestinationIsRefusedUnlessReplacing) {
  TypeParam src;
  Fill(src.store(), 10, 10);
  const std::string bytes = Take(src.store());
  TypeParam dst;
  WriteBatch b;
  b.Put(Cf::kKv, "zzz-stale", "old");
  b.Put(Cf::kRaftLog, "log", "kept");
  ASSERT_TRUE(dst.store()->Write(b, true).ok());
  StringSource source(bytes);
  auto refused = IngestStateSnapshot(&source, dst.store());
  ASSERT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("column family kv holds keys"), std::string::npos);

  auto replaced =
      IngestStateSnapshot(&source, dst.store(), IngestOptions{.replace_existing = true});
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(ReadCf(dst.store(), Cf::kKv), ReadCf(src.store(), Cf::kKv));
  EXPECT_EQ(ReadCf(dst.store(), Cf::kRaftLog).size(), 1u);
}

TEST(SnapshotFormat, ChunksStayWithinTheBoundAndFileEndsInEtcdsTrailer) {
  MemStore store;
  // ~6 MiB of kv: several chunks.
  Fill(&store, 3000, 2000);
  SnapshotSummary summary;
  const std::string bytes = Take(&store, &summary);
  EXPECT_GT(summary.chunks, 5u * StateCfs().size() - 1);
  EXPECT_EQ(bytes.size(), summary.file_bytes);
  // etcdctl snapshot save: len % 512 == sha256.Size, and the trailer is the
  // SHA-256 of everything before it.
  EXPECT_EQ(bytes.size() % kSnapshotAlign, kSnapshotTrailerBytes);
  unsigned char sha[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 32, sha);
  EXPECT_EQ(bytes.substr(bytes.size() - 32), std::string(reinterpret_cast<char*>(sha), 32));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(summary.sha256.data()), 32),
            std::string(reinterpret_cast<char*>(sha), 32));
  // Walk the frames: none is over the bound.
  ByteReader r(bytes);
  std::size_t frames = 0;
  while (true) {
    std::uint8_t type = 0;
    std::uint32_t len = 0;
    std::string_view payload;
    std::uint32_t crc = 0;
    ASSERT_TRUE(r.ReadU8(&type) && r.ReadBigEndian32(&len));
    EXPECT_LE(len, limits::kSnapshotChunkBytes + 2 * 4 + 64 + 2000);
    ASSERT_TRUE(r.ReadView(len, &payload) && r.ReadBigEndian32(&crc));
    ++frames;
    if (type == 0x03) break;
  }
  EXPECT_EQ(frames, summary.chunks + 2);
}

TEST(SnapshotFormat, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32cExtend(Crc32c("1234"), "56789"), 0xE3069283u);
}

// Every truncation of a small snapshot is Corruption, and nothing is written.
TEST(SnapshotCorruption, EveryTruncationIsDetectedAndNothingIsApplied) {
  MemStore src;
  Fill(&src, 20, 30);
  const std::string bytes = Take(&src);
  for (std::size_t len = 0; len < bytes.size(); len += 7) {
    MemStore dst;
    StringSource source(bytes.substr(0, len));
    auto r = IngestStateSnapshot(&source, &dst);
    ASSERT_FALSE(r.ok()) << "truncated to " << len;
    EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
    EXPECT_TRUE(StateIsEmpty(&dst));
    EXPECT_FALSE(*IngestIncomplete(&dst));
  }
}

// Every single flipped byte is caught (frame CRC, structure or the trailer).
TEST(SnapshotCorruption, EveryFlippedByteIsDetectedAndNothingIsApplied) {
  MemStore src;
  Fill(&src, 8, 20);
  const std::string bytes = Take(&src);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    MemStore dst;
    StringSource source(bad);
    auto r = IngestStateSnapshot(&source, &dst);
    ASSERT_FALSE(r.ok()) << "flip at " << i;
    EXPECT_TRUE(r.status().code() == Code::kCorruption ||
                r.status().code() == Code::kFailedPrecondition)
        << r.status().ToString();
    EXPECT_TRUE(StateIsEmpty(&dst)) << "flip at " << i;
  }
}

TEST(SnapshotCorruption, MessagesNameTheFault) {
  MemStore src;
  Fill(&src, 8, 20);
  const std::string bytes = Take(&src);
  {
    std::string bad = bytes;
    bad[40] ^= 1;  // inside the header frame's payload
    StringSource s(bad);
    auto r = VerifyStateSnapshot(&s);
    EXPECT_NE(r.status().message().find("header frame: crc32c mismatch"), std::string::npos)
        << r.status().ToString();
  }
  {
    std::string bad = bytes;
    bad[bad.size() - 1] ^= 1;  // the trailer
    StringSource s(bad);
    auto r = VerifyStateSnapshot(&s);
    EXPECT_NE(r.status().message().find("sha256 of the file does not match"), std::string::npos)
        << r.status().ToString();
  }
  {
    StringSource s(bytes.substr(0, bytes.size() - 512));
    auto r = VerifyStateSnapshot(&s);
    EXPECT_EQ(r.status().code(), Code::kCorruption);
    EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().ToString();
  }
  {
    // A huge frame length is refused by the bound before any allocation.
    std::string bad = bytes;
    bad[1] = '\x7f';
    StringSource s(bad);
    auto r = VerifyStateSnapshot(&s);
    EXPECT_NE(r.status().message().find("limits::kMaxSnapshotFrameBytes"), std::string::npos)
        << r.status().ToString();
  }
  {
    StringSource s(std::string(1024 + 32, 'x'));
    auto r = VerifyStateSnapshot(&s);
    EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
  }
}

// Recomputes the header frame's CRC and the trailer after an edit.
std::string Resign(std::string bytes) {
  std::uint32_t len = 0;
  ByteReader(std::string_view(bytes).substr(1)).ReadBigEndian32(&len);
  std::string crc;
  PutBigEndian32(&crc, Crc32c(std::string_view(bytes).substr(0, 5 + len)));
  bytes.replace(5 + len, 4, crc);
  unsigned char sha[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 32, sha);
  bytes.replace(bytes.size() - 32, 32, reinterpret_cast<char*>(sha), 32);
  return bytes;
}

TEST(SnapshotCorruption, UnknownFormatVersionIsRefusedByName) {
  MemStore src;
  Fill(&src, 2, 2);
  std::string bytes = Take(&src);
  bytes[5 + kSnapshotMagic.size()] = 9;  // the version byte
  StringSource s(Resign(bytes));
  auto r = VerifyStateSnapshot(&s);
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("format version 9 is not supported"), std::string::npos)
      << r.status().ToString();
}

// A source whose bytes change after the verification pass: the ingest fails
// and the marker shows the destination is partial.
class ChangingSource final : public ByteSource {
 public:
  ChangingSource(std::string first, std::string second)
      : first_(std::move(first)), second_(std::move(second)), cur_(first_) {}
  std::uint64_t size() const override { return first_.size(); }
  Status Read(std::size_t n, std::string* out) override { return cur_.Read(n, out); }
  Status Rewind() override {
    cur_ = StringSource(rewinds_++ == 0 ? first_ : second_);
    return Status::Ok();
  }

 private:
  std::string first_;
  std::string second_;
  StringSource cur_;
  int rewinds_ = 0;
};

TEST(SnapshotCorruption, SourceChangedAfterVerificationLeavesTheIngestMarker) {
  MemStore src;
  Fill(&src, 4000, 1000);  // more than one ingest batch
  const std::string good = Take(&src);
  std::string bad = good;
  bad[bad.size() - 100] ^= 1;  // near the end: the first batches get written
  ChangingSource source(good, bad);
  MemStore dst;
  auto r = IngestStateSnapshot(&source, &dst);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("partial snapshot"), std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(*IngestIncomplete(&dst));
}

TEST(SnapshotFile, SinkWritesAtomicallyAndSourceReadsBack) {
  TempDir dir;
  MemStore src;
  Fill(&src, 30, 50);
  const std::string path = dir.Sub("backup.snap");
  {
    auto sink = FileSink::Create(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE(WriteStateSnapshot(*src.GetSnapshot(), Header(), sink->get()).ok());
    EXPECT_FALSE(std::filesystem::exists(path));
    ASSERT_TRUE((*sink)->Finish().ok());
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
  auto source = FileSource::Open(path);
  ASSERT_TRUE(source.ok());
  MemStore dst;
  auto r = IngestStateSnapshot(source->get(), &dst);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadCf(&dst, Cf::kKv), ReadCf(&src, Cf::kKv));
  {
    auto abandoned = FileSink::Create(dir.Sub("abandoned.snap"));
    ASSERT_TRUE(abandoned.ok());
    ASSERT_TRUE((*abandoned)->Append("partial").ok());
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("abandoned.snap.part")));
  EXPECT_EQ(FileSource::Open(dir.Sub("missing")).status().code(), Code::kNotFound);
  EXPECT_EQ(FileSource::Open(dir.path()).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace aspen::storage
