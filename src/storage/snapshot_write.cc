// WriteStateSnapshot: streams the state column families of one store snapshot
// in checksummed chunks (format in snapshot.h).
#include "base/limits.h"
#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/snapshot.h"
#include "storage/snapshot_internal.h"

namespace aspen::storage {

bool IsStateCf(Cf cf) {
  return cf != Cf::kRaftLog && cf != Cf::kRaftState;
}

std::vector<Cf> StateCfs() {
  std::vector<Cf> out;
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    const Cf cf = static_cast<Cf>(i);
    if (IsStateCf(cf)) out.push_back(cf);
  }
  return out;
}

namespace {

using snapshot_internal::Sha256;

// Frames bytes, hashes them and counts them.
class FrameWriter {
 public:
  explicit FrameWriter(ByteSink* sink) : sink_(sink) {}

  Status Frame(std::uint8_t type, std::string_view payload) {
    ASPEN_ASSERT(payload.size() <= limits::kMaxSnapshotFrameBytes);
    std::string prefix;
    prefix.push_back(static_cast<char>(type));
    PutBigEndian32(&prefix, static_cast<std::uint32_t>(payload.size()));
    std::string crc;
    PutBigEndian32(&crc, Crc32cExtend(Crc32c(prefix), payload));
    ASPEN_RETURN_IF_ERROR(Emit(prefix));
    ASPEN_RETURN_IF_ERROR(Emit(payload));
    return Emit(crc);
  }

  // Zero padding to the alignment, then the SHA-256 of everything before.
  Status Finish(std::array<std::uint8_t, 32>* sha) {
    const std::size_t pad = (kSnapshotAlign - bytes_ % kSnapshotAlign) % kSnapshotAlign;
    ASPEN_RETURN_IF_ERROR(Emit(std::string(pad, '\0')));
    *sha = sha_.Final();
    bytes_ += sha->size();
    return sink_->Append(std::string_view(reinterpret_cast<const char*>(sha->data()), sha->size()));
  }

  std::uint64_t bytes() const { return bytes_; }

 private:
  Status Emit(std::string_view bytes) {
    sha_.Update(bytes);
    bytes_ += bytes.size();
    return sink_->Append(bytes);
  }

  ByteSink* sink_;
  Sha256 sha_;
  std::uint64_t bytes_ = 0;
};

std::string EncodeHeader(const SnapshotHeader& h) {
  std::string out(kSnapshotMagic);
  out.push_back(static_cast<char>(kSnapshotFormatVersion));
  PutBigEndian64(&out, h.cluster_id);
  PutBigEndian64(&out, h.member_id);
  PutBigEndian64(&out, h.applied_index);
  PutBigEndian64(&out, h.applied_term);
  PutBigEndian64(&out, static_cast<std::uint64_t>(h.revision));
  PutBigEndian32(&out, static_cast<std::uint32_t>(h.conf_state.size()));
  out.append(h.conf_state);
  return out;
}

// One CF's rows, cut into chunks.
Status WriteCf(const Snapshot& snapshot, Cf cf, FrameWriter* w, SnapshotSummary* summary) {
  const std::string_view name = CfName(cf);
  std::string rows;
  std::uint32_t count = 0;
  auto flush = [&]() -> Status {
    if (count == 0) return Status::Ok();
    std::string payload;
    payload.push_back(static_cast<char>(name.size()));
    payload.append(name);
    PutBigEndian32(&payload, count);
    payload.append(rows);
    rows.clear();
    count = 0;
    ++summary->chunks;
    return w->Frame(snapshot_internal::kFrameChunk, payload);
  };
  auto it = snapshot.NewIterator(cf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key();
    const std::string_view value = it->value();
    const std::size_t row = 8 + key.size() + value.size();
    if (row + 1 + name.size() + 4 > limits::kMaxSnapshotFrameBytes) {
      return Status::ResourceExhausted("snapshot: a row of " + std::string(name) + " takes " +
                                       std::to_string(row) +
                                       " bytes, over limits::kMaxSnapshotFrameBytes (" +
                                       std::to_string(limits::kMaxSnapshotFrameBytes) + ")");
    }
    if (rows.size() + row > limits::kMaxSnapshotFrameBytes - 1 - name.size() - 4) {
      ASPEN_RETURN_IF_ERROR(flush());
    }
    PutBigEndian32(&rows, static_cast<std::uint32_t>(key.size()));
    rows.append(key);
    PutBigEndian32(&rows, static_cast<std::uint32_t>(value.size()));
    rows.append(value);
    ++count;
    ++summary->rows;
    ++summary->rows_per_cf[std::string(name)];
    summary->row_bytes += key.size() + value.size();
    if (rows.size() >= limits::kSnapshotChunkBytes) ASPEN_RETURN_IF_ERROR(flush());
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  return flush();
}

}  // namespace

Result<SnapshotSummary> WriteStateSnapshot(const Snapshot& snapshot, const SnapshotHeader& header,
                                           ByteSink* sink) {
  ASPEN_ASSERT(sink != nullptr);
  if (header.conf_state.size() > limits::kSnapshotChunkBytes) {
    return Status::ResourceExhausted("snapshot: conf state of " +
                                     std::to_string(header.conf_state.size()) + " bytes");
  }
  SnapshotSummary summary;
  summary.header = header;
  FrameWriter w(sink);
  ASPEN_RETURN_IF_ERROR(w.Frame(snapshot_internal::kFrameHeader, EncodeHeader(header)));
  for (Cf cf : StateCfs()) {
    summary.rows_per_cf[std::string(CfName(cf))] += 0;
    ASPEN_RETURN_IF_ERROR(WriteCf(snapshot, cf, &w, &summary));
  }
  std::string end;
  PutBigEndian64(&end, summary.chunks);
  PutBigEndian64(&end, summary.rows);
  PutBigEndian64(&end, summary.row_bytes);
  ASPEN_RETURN_IF_ERROR(w.Frame(snapshot_internal::kFrameEnd, end));
  ASPEN_RETURN_IF_ERROR(w.Finish(&summary.sha256));
  summary.file_bytes = w.bytes();
  return summary;
}

}  // namespace aspen::storage
