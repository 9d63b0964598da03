// WatchHub: etcd's watch machinery on one member (docs/WATCH.md), fed by this
// member's own apply. The node calls Notify(revision) on its loop thread after
// each applied batch (a cheap notification: a store of the revision and a
// condition-variable signal); everything else runs on the hub's own thread,
// which reads events from the MVCC history (sm/history.h) in store snapshots.
//
// etcd's two groups of watchers:
//   - synced watchers have received every event up to synced_revision(); one
//     history read per step feeds all of them;
//   - unsynced watchers (a start revision in the past, or a full buffer) are
//     caught up from the history one bounded read at a time, then join the
//     synced group. Apply never waits for a watcher.
// A watcher whose next revision falls below the compacted revision is
// canceled with compact_revision set (etcd's ErrCompacted).
//
// Each client stream (WatchStream) has one ordered queue of messages: created,
// events, canceled and progress answers, in the order they must be sent, so
// events reach the client in revision order, never duplicated nor skipped.
// Bounds: base/limits.h (streams, watchers per stream and in all, events and
// bytes queued per watcher).
//
// Thread safety: every method is thread-safe. Wake callbacks run on the hub's
// thread or on the caller's, with no hub lock held.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "storage/store.h"

namespace aspen::node {

struct WatchSpec {
  std::string key;
  std::string range_end;            // etcd's rules: "" one key, "\0" all keys >= key
  std::int64_t start_revision = 0;  // 0: from the next revision
  bool prev_kv = false;
  bool no_put = false;     // filter NOPUT
  bool no_delete = false;  // filter NODELETE
  bool progress_notify = false;
  bool fragment = false;
};

struct WatchEvent {
  bool deleted = false;
  sm::v1::KeyValue kv;  // a deletion: key and mod_revision only, as etcd
  std::optional<sm::v1::KeyValue> prev_kv;
};

// One response to send on a stream.
struct WatchMessage {
  std::int64_t watch_id = 0;  // -1: a progress answer for the whole stream
  std::int64_t revision = 0;  // the header's revision
  bool created = false;
  bool canceled = false;
  bool fragment = false;  // more of the same revision follows
  std::int64_t compact_revision = 0;
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};

struct WatchHubOptions {
  // Not owned; must outlive the hub.
  storage::Store* store = nullptr;
  // A progress notification goes to idle progress_notify watchers this often
  // (etcd: 10 minutes).
  std::int64_t progress_interval_ms = 10 * 60 * 1000;
  std::size_t max_streams = 0;              // 0: limits::kMaxWatchStreams
  std::size_t max_watchers_per_stream = 0;  // 0: limits::kMaxWatchersPerStream
  std::size_t max_watchers = 0;             // 0: limits::kMaxWatchers
  std::size_t max_buffer_events = 0;        // 0: limits::kMaxWatcherBufferEvents
  std::size_t max_buffer_bytes = 0;         // 0: limits::kMaxWatcherBufferBytes
};

struct WatchHubStats {
  std::size_t streams = 0;
  std::size_t synced = 0;
  std::size_t unsynced = 0;
  std::int64_t synced_revision = 0;
  std::uint64_t events_sent = 0;  // events taken off stream queues
  std::uint64_t demoted = 0;      // synced watchers moved to unsynced (full buffer)
  std::uint64_t compact_canceled = 0;
  std::uint64_t steps = 0;  // rounds run (Start's thread or RunOnce)
};

class WatchHub;

// One client stream. Destroying it removes its watchers.
class WatchStream {
 public:
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // Adds a watcher; watch_id 0 with pick_id lets the hub choose (etcd picks
  // the lowest unused id counting up from 0). The "created" message (or a
  // created+canceled one naming the fault: duplicate id, a bound reached, a
  // key over limits::kMaxKeyBytes) is queued; returns the id.
  std::int64_t Create(const WatchSpec& spec, std::int64_t watch_id, bool pick_id);
  // Removes a watcher and queues its "canceled" message; false if unknown.
  bool Cancel(std::int64_t watch_id);
  // Queues a progress answer (watch_id -1) whose revision every watcher of
  // the stream has been brought up to.
  void RequestProgress();
  // The next message to send, in order; false when the queue is empty.
  bool Next(WatchMessage* out);

 private:
  friend class WatchHub;
  WatchStream(WatchHub* hub, std::uint64_t id) : hub_(hub), id_(id) {}
  WatchHub* hub_;
  std::uint64_t id_;
};

class WatchHub {
 public:
  explicit WatchHub(const WatchHubOptions& options);
  ~WatchHub();  // stops the thread
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Starts the hub's thread.
  void Start();
  void Stop();

  // The node's hook: `revision` has been applied (or history compacted).
  void Notify(std::int64_t revision);

  // A new stream; `wake` is called whenever its queue may have grown (it
  // must not block; it may call Next). ResourceExhausted past max_streams.
  Result<std::unique_ptr<WatchStream>> OpenStream(std::function<void()> wake);

  // Calls done(OK) once the history is physically compacted up to
  // `revision` (Compact with physical=true), or done(Unavailable) at Stop.
  void WhenCompacted(std::int64_t revision, std::function<void(Status)> done);

  // Runs one step of the hub's work on the caller's thread (tests drive the
  // hub this way without Start). Returns true if it did something.
  bool RunOnce();

  WatchHubStats Stats() const;

 private:
  friend class WatchStream;
  struct Watcher;
  struct Stream;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aspen::node
