// Inflights: the bounded window of MsgApp messages sent to one follower and
// not yet acknowledged (etcd-io/raft tracker/inflights.go). In replicate state
// the leader stops sending when the window is full (count or bytes), which
// bounds both the follower's receive queue and the leader's memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aspen::raft {

class Inflights {
 public:
  // capacity: max messages in flight (>= 1). max_bytes: max payload bytes in
  // flight, 0 for no byte bound.
  Inflights(std::size_t capacity, std::uint64_t max_bytes);

  // Records a message whose last entry is `index`, carrying `bytes`.
  // Requires !Full() and index greater than every recorded index.
  void Add(std::uint64_t index, std::uint64_t bytes);
  // Frees every message whose last index is <= to (they were acknowledged).
  void FreeLE(std::uint64_t to);
  // Frees the oldest message (heartbeat responses use it to unstick a full window).
  void FreeFirstOne();
  bool Full() const;
  std::size_t Count() const { return count_; }
  std::uint64_t bytes() const { return bytes_; }
  std::size_t capacity() const { return capacity_; }
  void Reset();

 private:
  struct Slot {
    std::uint64_t index = 0;
    std::uint64_t bytes = 0;
  };

  std::size_t capacity_;
  std::uint64_t max_bytes_;
  // Ring buffer, allocated on first use. Invariant: count_ <= capacity_, and
  // the indexes of the count_ slots from start_ increase strictly.
  std::vector<Slot> buffer_;
  std::size_t start_ = 0;
  std::size_t count_ = 0;
  // Invariant: bytes_ == sum of the bytes of the count_ slots.
  std::uint64_t bytes_ = 0;
};

}  // namespace aspen::raft
