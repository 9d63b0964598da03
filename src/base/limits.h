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

// Batches of client replies the Ready loop hands to its completion runner
// (node/completion_runner.h) before it answers them itself.
inline constexpr std::size_t kMaxQueuedCompletionBatches = 4'096;

// Lease keep-alives and time-to-lives waiting in the Lessor (node/lessor.h:
// an expired lease's revocation, a new leader's lease takeover) at a time;
// more are refused with "too many requests".
inline constexpr std::size_t kMaxLeaseWaiters = 4'096;

// Lease calls a follower has forwarded to the leader and not yet had answered
// (server/peer_client.h, asynchronous: they hold no thread); more are refused
// with "too many requests".
inline constexpr std::size_t kMaxForwardedLeaseCalls = 4'096;

// ----- State machine apply (docs/STATE_MACHINE.md) -----
// The apply path's cache of current kv records (sm/kv_cache.h) holds two
// generations of at most this many entries / bytes each.
inline constexpr std::size_t kKvCacheEntries = 65'536;
inline constexpr std::size_t kKvCacheBytes = 16 * 1024 * 1024;

// ----- MVCC history and watch (docs/WATCH.md) -----
// History events one physical compaction step processes (one per node tick).
inline constexpr std::size_t kCompactionBatchEvents = 4'096;
// Watch streams per server, and watchers per stream.
inline constexpr std::size_t kMaxWatchStreams = 1'024;
inline constexpr std::size_t kMaxWatchersPerStream = 10'000;
// Watchers per server (all streams).
inline constexpr std::size_t kMaxWatchers = 100'000;
// Events buffered for one watcher and not yet sent; past either bound the
// watcher becomes unsynced and is caught up from the history later.
inline constexpr std::size_t kMaxWatcherBufferEvents = 1'024;
inline constexpr std::size_t kMaxWatcherBufferBytes = 1 << 20;
// History events read per catch-up step (a revision is never split).
inline constexpr std::size_t kWatchCatchUpEvents = 1'024;
// Bytes of events in one WatchResponse (larger revisions are fragmented when
// the watcher allows it, etcd's fragment flag; sent whole otherwise).
inline constexpr std::size_t kMaxWatchResponseBytes = 1 << 20;

static_assert(kMaxKeyBytes + kMaxValueBytes < kMaxRequestBytes,
              "a single put of a maximal key and value must fit in one request");
static_assert(kMaxExpiryBatchKeys <= kScanBatchRows);
static_assert(kSnapshotChunkBytes + kMaxKeyBytes + kMaxValueBytes < kMaxSnapshotFrameBytes,
              "a full chunk plus one maximal row must fit in a snapshot frame");
static_assert(kSnapshotSendBytes < kMaxRequestBytes);

}  // namespace aspen::limits
