#include "raft/tracker/inflights.h"

#include "raft/raft_assert.h"

namespace aspen::raft {

Inflights::Inflights(std::size_t capacity, std::uint64_t max_bytes)
    : capacity_(capacity), max_bytes_(max_bytes) {
  RAFT_ASSERT(capacity_ >= 1);
}

void Inflights::Add(std::uint64_t index, std::uint64_t bytes) {
  RAFT_ASSERT_MSG(!Full(), "cannot add into a full inflights window");
  if (buffer_.empty()) buffer_.resize(capacity_);
  if (count_ > 0) {
    const Slot& last = buffer_[(start_ + count_ - 1) % capacity_];
    RAFT_ASSERT(index > last.index);
  }
  buffer_[(start_ + count_) % capacity_] = Slot{index, bytes};
  ++count_;
  bytes_ += bytes;
}

void Inflights::FreeLE(std::uint64_t to) {
  while (count_ > 0 && buffer_[start_].index <= to) {
    RAFT_ASSERT(bytes_ >= buffer_[start_].bytes);
    bytes_ -= buffer_[start_].bytes;
    start_ = (start_ + 1) % capacity_;
    --count_;
  }
  if (count_ == 0) {
    start_ = 0;
    RAFT_ASSERT(bytes_ == 0);
  }
}

void Inflights::FreeFirstOne() {
  if (count_ == 0) return;
  FreeLE(buffer_[start_].index);
}

bool Inflights::Full() const {
  return count_ == capacity_ || (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

void Inflights::Reset() {
  start_ = 0;
  count_ = 0;
  bytes_ = 0;
}

}  // namespace aspen::raft
