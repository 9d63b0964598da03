// ReadOnly: the leader's queue of ReadIndex requests waiting for a heartbeat
// quorum to confirm it is still the leader (Raft thesis §6.4; etcd-io/raft
// read_only.go). Requests are batched: one heartbeat round, tagged with the
// newest request's context, confirms every request queued before it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "raft/types.h"

namespace aspen::raft {

// A read the application may serve once it has applied up to `index`.
struct ReadState {
  std::uint64_t index = 0;
  std::string request_ctx;

  bool operator==(const ReadState&) const = default;
};

class ReadOnly {
 public:
  struct Pending {
    pb::Message request;      // the original MSG_READ_INDEX
    std::uint64_t index = 0;  // the leader's commit index when it arrived
    std::set<NodeId> acks;
  };

  // Queues a request (ctx = request.entries(0).data()) read at `index`. A
  // duplicate context is ignored (the first one wins).
  void Add(std::uint64_t index, const pb::Message& request);
  // Records a heartbeat acknowledgement from `from` for ctx; answers the acks
  // so far, or nullptr when ctx is unknown.
  const std::set<NodeId>* RecvAck(NodeId from, const std::string& ctx);
  // ctx is confirmed by a quorum: dequeues it and every older request.
  std::vector<Pending> Advance(const std::string& ctx);
  // Context of the newest queued request ("" when none).
  std::string LastPendingCtx() const;
  std::size_t size() const { return queue_.size(); }
  bool Contains(const std::string& ctx) const { return pending_.count(ctx) != 0; }
  void Clear();

 private:
  // Invariant: queue_ holds exactly the keys of pending_, oldest first.
  std::map<std::string, Pending> pending_;
  std::deque<std::string> queue_;
};

}  // namespace aspen::raft
