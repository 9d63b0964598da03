// VerifyStateSnapshot and IngestStateSnapshot: read a snapshot stream (format
// in snapshot.h), check every byte of it, and write its rows into a store.
#include <functional>
#include <optional>

#include "base/limits.h"
#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/snapshot.h"
#include "storage/snapshot_internal.h"

namespace aspen::storage {

namespace {

namespace si = snapshot_internal;

std::string FrameName(std::uint8_t type) {
  switch (type) {
    case si::kFrameHeader: return "header";
    case si::kFrameChunk: return "chunk";
    case si::kFrameEnd: return "end";
  }
  return "type " + std::to_string(type);
}

Status Corrupt(std::uint64_t offset, const std::string& what) {
  return Status::Corruption("snapshot: at offset " + std::to_string(offset) + ": " + what);
}

// Reads frames from the body, hashing every byte; then the padding and the
// trailer.
class FrameReader {
 public:
  explicit FrameReader(ByteSource* source) : source_(source) {}

  Status Start() {
    const std::uint64_t size = source_->size();
    if (size < kSnapshotAlign + kSnapshotTrailerBytes ||
        (size - kSnapshotTrailerBytes) % kSnapshotAlign != 0) {
      return Status::Corruption("snapshot: size " + std::to_string(size) +
                                " is not a multiple of " + std::to_string(kSnapshotAlign) +
                                " plus a " + std::to_string(kSnapshotTrailerBytes) +
                                "-byte sha256 trailer (truncated or not an aspen snapshot)");
    }
    body_bytes_ = size - kSnapshotTrailerBytes;
    return Status::Ok();
  }

  // The next frame; its offset is frame_offset().
  Status Next(std::uint8_t* type, std::string* payload) {
    frame_offset_ = offset_;
    std::string prefix;
    ASPEN_RETURN_IF_ERROR(ReadBody(si::kFramePrefixBytes, &prefix, "frame prefix"));
    *type = static_cast<std::uint8_t>(prefix[0]);
    std::uint32_t len = 0;
    ByteReader(std::string_view(prefix).substr(1)).ReadBigEndian32(&len);
    if (len > limits::kMaxSnapshotFrameBytes) {
      return Corrupt(frame_offset_, FrameName(*type) + " frame of " + std::to_string(len) +
                                        " bytes is over limits::kMaxSnapshotFrameBytes (" +
                                        std::to_string(limits::kMaxSnapshotFrameBytes) + ")");
    }
    ASPEN_RETURN_IF_ERROR(ReadBody(len, payload, FrameName(*type) + " frame payload"));
    std::string crc;
    ASPEN_RETURN_IF_ERROR(ReadBody(si::kFrameCrcBytes, &crc, "frame checksum"));
    std::uint32_t stored = 0;
    ByteReader(crc).ReadBigEndian32(&stored);
    if (stored != Crc32cExtend(Crc32c(prefix), *payload)) {
      return Corrupt(frame_offset_, FrameName(*type) + " frame: crc32c mismatch");
    }
    return Status::Ok();
  }

  // After the end frame: zero padding up to the trailer, then the trailer.
  Status Finish(std::array<std::uint8_t, 32>* sha) {
    const std::uint64_t pad = body_bytes_ - offset_;
    if (pad >= kSnapshotAlign) {
      return Corrupt(offset_, std::to_string(pad) + " bytes follow the end frame");
    }
    std::string bytes;
    ASPEN_RETURN_IF_ERROR(ReadBody(pad, &bytes, "padding"));
    if (bytes.find_first_not_of('\0') != std::string::npos) {
      return Corrupt(offset_ - pad, "padding after the end frame is not zero");
    }
    *sha = sha_.Final();
    std::string trailer;
    ASPEN_RETURN_IF_ERROR(source_->Read(kSnapshotTrailerBytes, &trailer));
    if (std::string_view(reinterpret_cast<const char*>(sha->data()), sha->size()) != trailer) {
      return Corrupt(body_bytes_, "sha256 of the file does not match its trailer");
    }
    return Status::Ok();
  }

  std::uint64_t frame_offset() const { return frame_offset_; }

 private:
  Status ReadBody(std::uint64_t n, std::string* out, const std::string& what) {
    if (body_bytes_ - offset_ < n) {
      return Corrupt(offset_, "truncated: " + what + " of " + std::to_string(n) +
                                  " bytes runs past the end of the data");
    }
    Status s = source_->Read(static_cast<std::size_t>(n), out);
    if (s.code() == Code::kOutOfRange) return Corrupt(offset_, "truncated while reading " + what);
    ASPEN_RETURN_IF_ERROR(s);
    sha_.Update(*out);
    offset_ += n;
    return Status::Ok();
  }

  ByteSource* source_;
  si::Sha256 sha_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t frame_offset_ = 0;
};

Status DecodeHeader(std::string_view payload, std::uint64_t offset, SnapshotHeader* h) {
  ByteReader r(payload);
  std::string_view magic;
  std::uint8_t version = 0;
  if (!r.ReadView(kSnapshotMagic.size(), &magic) || magic != kSnapshotMagic) {
    return Corrupt(offset, "not an aspen snapshot (bad magic)");
  }
  if (!r.ReadU8(&version)) return Corrupt(offset, "header: truncated");
  if (version != kSnapshotFormatVersion) {
    return Status::FailedPrecondition("snapshot: format version " + std::to_string(version) +
                                      " is not supported (this aspen reads version " +
                                      std::to_string(kSnapshotFormatVersion) + ")");
  }
  std::uint64_t revision = 0;
  std::uint32_t conf_len = 0;
  std::string_view conf;
  if (!r.ReadBigEndian64(&h->cluster_id) || !r.ReadBigEndian64(&h->member_id) ||
      !r.ReadBigEndian64(&h->applied_index) || !r.ReadBigEndian64(&h->applied_term) ||
      !r.ReadBigEndian64(&revision) || !r.ReadBigEndian32(&conf_len) ||
      !r.ReadView(conf_len, &conf) || r.remaining() != 0) {
    return Corrupt(offset, "header: bad length");
  }
  h->revision = static_cast<std::int64_t>(revision);
  h->conf_state = std::string(conf);
  return Status::Ok();
}

std::optional<Cf> CfByName(std::string_view name) {
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    if (kCfNames[i] == name) return static_cast<Cf>(i);
  }
  return std::nullopt;
}

using RowFn = std::function<Status(Cf, std::string_view key, std::string_view value)>;

// Decodes one chunk, checking key order against *last_keys.
Status ParseChunk(std::string_view payload, std::uint64_t offset,
                  std::map<Cf, std::string>* last_keys, SnapshotSummary* summary,
                  const RowFn& on_row) {
  ByteReader r(payload);
  std::uint8_t name_len = 0;
  std::string_view name;
  std::uint32_t count = 0;
  if (!r.ReadU8(&name_len) || !r.ReadView(name_len, &name) || !r.ReadBigEndian32(&count)) {
    return Corrupt(offset, "chunk: truncated");
  }
  const std::optional<Cf> cf = CfByName(name);
  if (!cf) {
    return Status::FailedPrecondition("snapshot: column family \"" + std::string(name) +
                                      "\" is unknown to this aspen version");
  }
  if (!IsStateCf(*cf)) {
    return Corrupt(offset, "chunk of column family " + std::string(name) + ", not a state CF");
  }
  if (count == 0) return Corrupt(offset, "empty chunk");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t klen = 0;
    std::uint32_t vlen = 0;
    std::string_view key;
    std::string_view value;
    if (!r.ReadBigEndian32(&klen) || !r.ReadView(klen, &key) || !r.ReadBigEndian32(&vlen) ||
        !r.ReadView(vlen, &value)) {
      return Corrupt(offset, "chunk of " + std::string(name) + ": row " + std::to_string(i) +
                                 " of " + std::to_string(count) + " is truncated");
    }
    auto last = last_keys->find(*cf);
    if (last != last_keys->end() && key <= std::string_view(last->second)) {
      return Corrupt(offset, "chunk of " + std::string(name) + ": keys out of order");
    }
    (*last_keys)[*cf] = std::string(key);
    ++summary->rows;
    ++summary->rows_per_cf[std::string(name)];
    summary->row_bytes += key.size() + value.size();
    ASPEN_RETURN_IF_ERROR(on_row(*cf, key, value));
  }
  if (r.remaining() != 0) return Corrupt(offset, "chunk: trailing bytes");
  ++summary->chunks;
  return Status::Ok();
}

Result<SnapshotSummary> Parse(ByteSource* source, const RowFn& on_row) {
  SnapshotSummary summary;
  for (Cf cf : StateCfs()) summary.rows_per_cf[std::string(CfName(cf))] = 0;
  summary.file_bytes = source->size();
  FrameReader reader(source);
  ASPEN_RETURN_IF_ERROR(reader.Start());
  std::uint8_t type = 0;
  std::string payload;
  ASPEN_RETURN_IF_ERROR(reader.Next(&type, &payload));
  if (type != si::kFrameHeader) return Corrupt(0, "the first frame is not a header");
  ASPEN_RETURN_IF_ERROR(DecodeHeader(payload, 0, &summary.header));
  std::map<Cf, std::string> last_keys;
  while (true) {
    ASPEN_RETURN_IF_ERROR(reader.Next(&type, &payload));
    const std::uint64_t offset = reader.frame_offset();
    if (type == si::kFrameChunk) {
      ASPEN_RETURN_IF_ERROR(ParseChunk(payload, offset, &last_keys, &summary, on_row));
      continue;
    }
    if (type != si::kFrameEnd) return Corrupt(offset, "unexpected " + FrameName(type) + " frame");
    ByteReader r(payload);
    std::uint64_t chunks = 0;
    std::uint64_t rows = 0;
    std::uint64_t row_bytes = 0;
    if (!r.ReadBigEndian64(&chunks) || !r.ReadBigEndian64(&rows) ||
        !r.ReadBigEndian64(&row_bytes) || r.remaining() != 0) {
      return Corrupt(offset, "end frame: bad length");
    }
    if (chunks != summary.chunks || rows != summary.rows || row_bytes != summary.row_bytes) {
      return Corrupt(offset, "end frame counts (" + std::to_string(chunks) + " chunks, " +
                                 std::to_string(rows) + " rows) do not match the data (" +
                                 std::to_string(summary.chunks) + " chunks, " +
                                 std::to_string(summary.rows) + " rows)");
    }
    break;
  }
  ASPEN_RETURN_IF_ERROR(reader.Finish(&summary.sha256));
  return summary;
}

}  // namespace

Result<SnapshotSummary> VerifyStateSnapshot(ByteSource* source) {
  ASPEN_RETURN_IF_ERROR(source->Rewind());
  return Parse(source, [](Cf, std::string_view, std::string_view) { return Status::Ok(); });
}

Result<SnapshotSummary> ReadStateSnapshotRows(ByteSource* source, const SnapshotRowFn& on_row) {
  ASPEN_RETURN_IF_ERROR(source->Rewind());
  return Parse(source, on_row);
}

Result<bool> IngestIncomplete(Store* store) {
  std::string value;
  Status s = store->Get(Cf::kRaftState, kIngestMarkerKey, &value);
  if (s.code() == Code::kNotFound) return false;
  ASPEN_RETURN_IF_ERROR(s);
  return true;
}

Status AddStateDrop(Store* store, bool replace_existing, WriteBatch* batch) {
  auto snap = store->GetSnapshot();
  for (Cf cf : StateCfs()) {
    auto it = snap->NewIterator(cf);
    it->SeekToLast();
    ASPEN_RETURN_IF_ERROR(it->status());
    if (!it->Valid()) continue;
    if (!replace_existing) {
      return Status::FailedPrecondition(
          "snapshot ingest: the destination is not empty (column "
          "family " +
          std::string(CfName(cf)) + " holds keys)");
    }
    // Everything up to and including the last key.
    batch->DeleteRange(cf, "", it->key());
    batch->Delete(cf, it->key());
  }
  return Status::Ok();
}

Result<SnapshotSummary> IngestStateSnapshot(ByteSource* source, Store* store,
                                            const IngestOptions& options) {
  ASPEN_ASSERT(store != nullptr);
  Result<SnapshotSummary> verified = VerifyStateSnapshot(source);
  if (!verified.ok()) return verified.status();

  WriteBatch batch;
  ASPEN_RETURN_IF_ERROR(AddStateDrop(store, options.replace_existing, &batch));
  batch.Put(Cf::kRaftState, kIngestMarkerKey, "");
  ASPEN_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  batch.Clear();

  ASPEN_RETURN_IF_ERROR(source->Rewind());
  Result<SnapshotSummary> ingested =
      Parse(source, [&](Cf cf, std::string_view key, std::string_view value) -> Status {
        batch.Put(cf, key, value);
        if (batch.approximate_bytes() >= limits::kSnapshotIngestBatchBytes) {
          ASPEN_RETURN_IF_ERROR(store->Write(batch, /*sync=*/false));
          batch.Clear();
        }
        return Status::Ok();
      });
  if (!ingested.ok()) {
    // The source changed between the two passes: what was written is a mix,
    // and the marker says so.
    return Status(ingested.status().code(),
                  ingested.status().message() +
                      " (the source changed after it was verified; the destination holds a "
                      "partial snapshot and must be replaced)");
  }
  ASPEN_ASSERT(ingested->sha256 == verified->sha256);
  batch.Delete(Cf::kRaftState, kIngestMarkerKey);
  ASPEN_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  return ingested;
}

}  // namespace aspen::storage
