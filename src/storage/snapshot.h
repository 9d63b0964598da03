// State snapshots: a consistent copy of every state column family (all but
// the Raft log's), as one self-checking byte stream. The same format serves
// backups (Maintenance.Snapshot, `aspen snapshot save/restore/status`) and
// Raft's InstallSnapshot to a lagging follower.
//
// Format (grammar; be32/be64 are big-endian; DO NOT CHANGE a tag, a frame
// type or a field order: files outlive versions; a new layout gets a new
// format version):
//
//   file    := body sha256(body):32           ; etcdctl checks len(file) % 512 == 32
//   body    := frame(header) frame(chunk)* frame(end) zero-padding  ; len(body) % 512 == 0
//   frame   := type:u8 len:be32 payload:len crc32c(type len payload):be32
//   type    := 0x01 header | 0x02 chunk | 0x03 end
//   header  := magic:"ASPNSNAP" version:u8 (=1) cluster_id:be64 member_id:be64
//              applied_index:be64 applied_term:be64 revision:be64
//              conf_len:be32 conf_state:conf_len     ; nothing follows
//   chunk   := name_len:u8 cf_name:name_len count:be32 row*count   ; nothing follows
//   row     := key_len:be32 key value_len:be32 value
//   end     := chunks:be64 rows:be64 row_bytes:be64   ; nothing follows
//
// Column families are named, not numbered, so a snapshot stays readable if
// the Cf enum is renumbered; every state CF (IsStateCf) is written, so a CF
// added later is included without touching this code. Rows of one CF come in
// strictly increasing key order, across chunks too. A chunk closes once its
// rows reach limits::kSnapshotChunkBytes; a reader refuses a frame over
// limits::kMaxSnapshotFrameBytes before allocating it.
//
// Checks: each frame's CRC-32C, the SHA-256 over the whole body (the same
// trailer etcd appends to its bolt snapshot, so `etcdctl snapshot save`
// accepts our stream), the end frame's counts, key order, the padding, and
// that nothing follows. A failed check is Corruption naming the offset and
// the fault ("snapshot: frame at offset 1048 (chunk): crc mismatch").
//
// Thread safety: the functions are stateless; a Sink/Source is used by one
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/column_families.h"
#include "storage/store.h"

namespace aspen::storage {

inline constexpr std::uint8_t kSnapshotFormatVersion = 1;  // DO NOT CHANGE (add a new one)
inline constexpr std::string_view kSnapshotMagic = "ASPNSNAP";
inline constexpr std::size_t kSnapshotAlign = 512;
inline constexpr std::size_t kSnapshotTrailerBytes = 32;

// True for every column family that holds state-machine data: all but the
// Raft log and the Raft state. New CFs are state CFs unless listed here.
bool IsStateCf(Cf cf);
std::vector<Cf> StateCfs();

struct SnapshotHeader {
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;  // the member that wrote it
  std::uint64_t applied_index = 0;
  std::uint64_t applied_term = 0;
  std::int64_t revision = 0;
  std::string conf_state;  // Raft's encoded ConfState, opaque here
  bool operator==(const SnapshotHeader&) const = default;
};

struct SnapshotSummary {
  SnapshotHeader header;
  std::uint64_t chunks = 0;
  std::uint64_t rows = 0;
  std::uint64_t row_bytes = 0;  // keys + values
  std::map<std::string, std::uint64_t> rows_per_cf;
  std::uint64_t file_bytes = 0;  // the whole file, padding and trailer included
  std::array<std::uint8_t, 32> sha256{};
};

// Where a snapshot is written.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Append(std::string_view bytes) = 0;
};

// Where a snapshot is read from: random access is not needed, only a size
// (to find the trailer) and a rewind (verify first, ingest second).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  // Exactly n bytes into *out, or an error (IOError; OutOfRange past the end).
  virtual Status Read(std::size_t n, std::string* out) = 0;
  virtual Status Rewind() = 0;
};

class StringSink final : public ByteSink {
 public:
  Status Append(std::string_view bytes) override {
    data_.append(bytes);
    return Status::Ok();
  }
  std::string& data() { return data_; }

 private:
  std::string data_;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  std::uint64_t size() const override { return data_.size(); }
  Status Read(std::size_t n, std::string* out) override;
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

// Writes `path`.part and, on Finish, fsyncs it and renames it to `path`; a
// sink destroyed without Finish removes the .part file.
class FileSink final : public ByteSink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(const std::string& path);
  ~FileSink() override;
  Status Append(std::string_view bytes) override;
  Status Finish();

 private:
  FileSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  bool finished_ = false;
};

class FileSource final : public ByteSource {
 public:
  // NotFound / IOError naming the path.
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  ~FileSource() override;
  std::uint64_t size() const override { return size_; }
  Status Read(std::size_t n, std::string* out) override;
  Status Rewind() override;

 private:
  FileSource(std::string path, std::FILE* f, std::uint64_t size)
      : path_(std::move(path)), f_(f), size_(size) {}
  std::string path_;
  std::FILE* f_;
  std::uint64_t size_;
};

// Streams every state CF of `snapshot` to `sink` (format above). `header`
// must describe the same snapshot (the caller reads it from `snapshot`).
// ResourceExhausted if a single row exceeds the frame bound; storage errors
// as is.
Result<SnapshotSummary> WriteStateSnapshot(const Snapshot& snapshot, const SnapshotHeader& header,
                                           ByteSink* sink);

// Reads the whole stream and checks everything; writes nothing.
Result<SnapshotSummary> VerifyStateSnapshot(ByteSource* source);

struct IngestOptions {
  // false: the destination's state CFs must be empty (FailedPrecondition
  // otherwise). true: they are cleared first (a follower installing a
  // snapshot).
  bool replace_existing = false;
};

// Verifies the whole stream first (nothing is written when any check fails),
// then writes its rows into `store` in WriteBatches of at most
// limits::kSnapshotIngestBatchBytes. A marker row in raft_state
// (kIngestMarkerKey) is written (synced) before the first batch and removed by
// the last one (synced), so a crash in between is visible to
// IngestIncomplete(). The raft CFs are not touched otherwise.
// Adds to `batch` the deletion of every row of the state column families of
// `store` (what an ingest replaces). FailedPrecondition "the destination is
// not empty" instead when one holds rows and !replace_existing.
Status AddStateDrop(Store* store, bool replace_existing, WriteBatch* batch);

Result<SnapshotSummary> IngestStateSnapshot(ByteSource* source, Store* store,
                                            const IngestOptions& options = {});

// Rewinds `source` and calls `on_row` for every row, in stream order, while
// checking the stream as VerifyStateSnapshot does. A check that fails after
// some rows were passed on is returned as is: callers that write rows as they
// come verify first (the source may still change in between).
using SnapshotRowFn = std::function<Status(Cf cf, std::string_view key, std::string_view value)>;
Result<SnapshotSummary> ReadStateSnapshotRows(ByteSource* source, const SnapshotRowFn& on_row);

inline constexpr std::string_view kIngestMarkerKey = "snapshot_ingest";  // DO NOT CHANGE
// True when an ingest into `store` started and did not finish: its state CFs
// are a mix and must be replaced again.
Result<bool> IngestIncomplete(Store* store);

}  // namespace aspen::storage
