// A log-linear latency histogram in the style of HdrHistogram.
//
// Values (e.g. nanoseconds) below 256 are counted exactly. Above, each power of
// two [2^e, 2^(e+1)) is split into 128 equal sub-buckets, so a bucket is never
// wider than 1/128 of its lower bound: a reported percentile is at most 0.79%
// above the exact order statistic and never below it. Memory is fixed
// (kBucketCount counters, ~58 KiB) for the whole uint64 range; recording is O(1)
// and nothing is ever sorted.
//
// Thread safety: none. Give each thread its own histogram and Merge() them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace aspen::client::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;  // 128 sub-buckets per power of two
  static constexpr std::uint64_t kSubCount = 1u << kSubBits;
  static constexpr std::size_t kBucketCount = (64 - kSubBits - 1) * kSubCount + 2 * kSubCount;

  void Record(std::uint64_t value);
  void Merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

  // The smallest recorded-bucket bound v such that at least percentile% of the
  // values are <= v: the upper bound of the bucket holding the exact order
  // statistic of rank ceil(percentile/100 * count), clamped to [min, max].
  // percentile must be in [0, 100]; 0 returns min, 100 returns max. Returns 0
  // when empty.
  std::uint64_t Percentile(double percentile) const;

  // Bucket arithmetic, exposed for tests.
  static std::size_t BucketOf(std::uint64_t value);
  static std::uint64_t BucketLow(std::size_t bucket);
  static std::uint64_t BucketHigh(std::size_t bucket);

 private:
  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace aspen::client::bench
