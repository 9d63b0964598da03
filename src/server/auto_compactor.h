// etcd's auto-compaction (--auto-compaction-mode/--auto-compaction-retention):
// a thread that, while this member leads, proposes Compact through raft.
//   revision: every interval, compact to (current revision - retention);
//   periodic: sample the revision every interval and compact to the newest
//             revision seen at least `retention` ago.
// A proposal that fails (not leader any more, already compacted) is retried
// at the next check; the state machine refuses stale revisions itself.
//
// Thread safety: Start/Stop from one thread; the rest is internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "node/node.h"
#include "server/config.h"

namespace aspen::server {

class AutoCompactor {
 public:
  AutoCompactor(node::Node* node, AutoCompaction settings) : node_(node), settings_(settings) {}
  ~AutoCompactor() { Stop(); }
  AutoCompactor(const AutoCompactor&) = delete;
  AutoCompactor& operator=(const AutoCompactor&) = delete;

  void Start();
  void Stop();

  // One check at steady time now_ms (the thread calls it every interval);
  // returns the revision it proposed to compact to, 0 when none.
  std::int64_t Check(std::int64_t now_ms);

 private:
  node::Node* node_;
  AutoCompaction settings_;
  std::deque<std::pair<std::int64_t, std::int64_t>> samples_;  // (ms, revision), oldest first
  std::int64_t last_proposed_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace aspen::server
