// GroupCommit: many threads, one fsync per group (leveldb's writer queue).
//
// Callers on any thread submit a WriteBatch that must be durable. The first
// waiting caller becomes the group leader: it merges the batches queued behind
// it (up to Options::max_group_bytes and max_group_writers), writes them with
// one Store::Write(sync=true), and wakes the group. Callers that arrive while
// that fsync is in flight queue up and form the next group. So under
// concurrency the syncs per write fall well below one, while a lone writer
// pays exactly one sync.
//
// Bounds: at most Options::max_queued_writers callers wait at once; the next
// caller gets ResourceExhausted naming the limit (back-pressure), never an
// unbounded queue.
//
// Thread safety: Write is thread-safe. The Store must not be written by
// anyone else while a GroupCommit uses it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include "base/status.h"
#include "storage/store.h"
#include "storage/write_batch.h"

namespace aspen::storage {

class GroupCommit {
 public:
  struct Options {
    std::size_t max_group_bytes = 4 * 1024 * 1024;
    std::size_t max_group_writers = 1024;
    std::size_t max_queued_writers = 4096;
  };

  struct Stats {
    std::uint64_t writes = 0;  // batches made durable
    std::uint64_t groups = 0;  // synced Store::Write calls
  };

  GroupCommit(Store* store, Options options);
  explicit GroupCommit(Store* store) : GroupCommit(store, Options{}) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Blocks until `batch` is durable as part of a synced group, and returns OK;
  // or returns the Store's error (every batch of a failed group gets it), or
  // ResourceExhausted when max_queued_writers callers already wait.
  Status Write(const WriteBatch& batch);

  Stats stats() const;

 private:
  struct Writer {
    const WriteBatch* batch;
    bool done = false;
    Status status;
    std::condition_variable cv;
  };

  // Takes writers from the front of the queue into one group; returns how many.
  std::size_t BuildGroup(WriteBatch* merged);

  Store* const store_;
  const Options options_;
  mutable std::mutex mu_;
  std::deque<Writer*> queue_;  // guarded by mu_; front is the current leader
  Stats stats_;                // guarded by mu_
};

}  // namespace aspen::storage
