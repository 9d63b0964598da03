// Every bound in Aspen, in one place (DESIGN.md: Limits). Defaults; the server
// makes them configurable. Errors that cross a limit name it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aspen::limits {

inline constexpr std::size_t kMaxRequestBytes = 1536 * 1024;  // 1.5 MiB
inline constexpr std::size_t kMaxKeyBytes = 8 * 1024;
inline constexpr std::size_t kMaxValueBytes = 1024 * 1024;
inline constexpr std::size_t kMaxTxnOps = 128;
inline constexpr std::size_t kMaxSqlRows = 10'000;
inline constexpr std::uint64_t kMaxSqlTimeMs = 30'000;
inline constexpr std::size_t kScanBatchRows = 8'192;
inline constexpr std::size_t kMaxExpiryBatchKeys = 1'000;
// State snapshots (storage/snapshot.h): a chunk is closed once its rows reach
// kSnapshotChunkBytes; one row may take it past that by at most one key and
// value, so a reader refuses any frame over kMaxSnapshotFrameBytes.
inline constexpr std::size_t kSnapshotChunkBytes = 1024 * 1024;
inline constexpr std::size_t kMaxSnapshotFrameBytes = kSnapshotChunkBytes + 4 * kMaxRequestBytes;
// Ingesting a snapshot writes WriteBatches of at most this many row bytes.
inline constexpr std::size_t kSnapshotIngestBatchBytes = 4 * 1024 * 1024;
// The Snapshot RPC sends the file in messages of this many bytes.
inline constexpr std::size_t kSnapshotSendBytes = 64 * 1024;

static_assert(kMaxKeyBytes + kMaxValueBytes < kMaxRequestBytes,
              "a single put of a maximal key and value must fit in one request");
static_assert(kMaxExpiryBatchKeys <= kScanBatchRows);
static_assert(kSnapshotChunkBytes + kMaxKeyBytes + kMaxValueBytes < kMaxSnapshotFrameBytes,
              "a full chunk plus one maximal row must fit in a snapshot frame");
static_assert(kSnapshotSendBytes < kMaxRequestBytes);

}  // namespace aspen::limits
