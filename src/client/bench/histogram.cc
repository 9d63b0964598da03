#include "client/bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/assert.h"

namespace aspen::client::bench {

// Layout: index = shift * kSubCount + (value >> shift), where shift is 0 for
// values below 2 * kSubCount and otherwise bit_width(value) - kSubBits - 1, so
// (value >> shift) is in [kSubCount, 2 * kSubCount). Shift s covers indexes
// [(s + 1) * kSubCount, (s + 2) * kSubCount): consecutive and gap-free.
std::size_t Histogram::BucketOf(std::uint64_t value) {
  const int width = std::bit_width(value);
  const int shift = std::max(0, width - kSubBits - 1);
  const std::size_t index = static_cast<std::size_t>(shift) * kSubCount + (value >> shift);
  ASPEN_DASSERT(index < kBucketCount);
  return index;
}

std::uint64_t Histogram::BucketLow(std::size_t bucket) {
  ASPEN_ASSERT(bucket < kBucketCount);
  if (bucket < 2 * kSubCount) return bucket;
  const std::size_t shift = bucket / kSubCount - 1;
  const std::uint64_t sub = bucket - shift * kSubCount;
  return sub << shift;
}

std::uint64_t Histogram::BucketHigh(std::size_t bucket) {
  ASPEN_ASSERT(bucket < kBucketCount);
  if (bucket < 2 * kSubCount) return bucket;
  const std::size_t shift = bucket / kSubCount - 1;
  return BucketLow(bucket) + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::Record(std::uint64_t value) {
  ++counts_[BucketOf(value)];
  min_ = count_ == 0 ? value : std::min(min_, value);
  max_ = std::max(max_, value);
  ++count_;
  sum_ += static_cast<double>(value);
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

std::uint64_t Histogram::Percentile(double percentile) const {
  ASPEN_ASSERT(percentile >= 0.0 && percentile <= 100.0);
  if (count_ == 0) return 0;
  const double exact_rank = percentile / 100.0 * static_cast<double>(count_);
  auto rank = static_cast<std::uint64_t>(std::ceil(exact_rank));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketHigh(i), min_, max_);
  }
  ASPEN_ASSERT_MSG(false, "bucket counts do not add up to count_");
  return max_;
}

}  // namespace aspen::client::bench
