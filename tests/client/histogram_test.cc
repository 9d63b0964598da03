// The bench histogram against a brute-force computation on random data.
#include "client/bench/histogram.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace aspen::client::bench {
namespace {

// The exact order statistic Percentile() approximates: rank ceil(p/100 * n).
std::uint64_t ExactPercentile(std::vector<std::uint64_t> values, double p) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

TEST(HistogramTest, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_EQ(h.Percentile(0), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(HistogramTest, BucketsTileTheWholeRangeWithoutGaps) {
  EXPECT_EQ(Histogram::BucketLow(0), 0u);
  for (std::size_t b = 1; b < Histogram::kBucketCount; ++b) {
    ASSERT_EQ(Histogram::BucketLow(b), Histogram::BucketHigh(b - 1) + 1) << b;
  }
  EXPECT_EQ(Histogram::BucketHigh(Histogram::kBucketCount - 1),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(Histogram::BucketOf(std::numeric_limits<std::uint64_t>::max()),
            Histogram::kBucketCount - 1);
}

RC_GTEST_PROP(HistogramProperty, BucketOfValueContainsIt, (std::uint64_t value)) {
  const std::size_t b = Histogram::BucketOf(value);
  RC_ASSERT(b < Histogram::kBucketCount);
  RC_ASSERT(Histogram::BucketLow(b) <= value);
  RC_ASSERT(value <= Histogram::BucketHigh(b));
  // Width bound: at most 1/128 of the lower edge (exact below 256).
  const std::uint64_t width = Histogram::BucketHigh(b) - Histogram::BucketLow(b);
  RC_ASSERT(width * Histogram::kSubCount <= std::max<std::uint64_t>(Histogram::BucketLow(b), 1));
}

RC_GTEST_PROP(HistogramProperty, PercentilesMatchBruteForceWithinOneBucket, ()) {
  // Latency-like data: mostly around a base, with a long tail, in nanoseconds.
  const auto base = *rc::gen::inRange<std::uint64_t>(1, 5'000'000);
  const auto values = *rc::gen::container<std::vector<std::uint64_t>>(
      *rc::gen::inRange<std::size_t>(1, 3000),
      rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 1'000'000),
                   [base](std::uint64_t r) { return base + r * r / 1000; }));
  Histogram h;
  for (std::uint64_t v : values) h.Record(v);
  RC_ASSERT(h.count() == values.size());
  RC_ASSERT(h.min() == *std::min_element(values.begin(), values.end()));
  RC_ASSERT(h.max() == *std::max_element(values.begin(), values.end()));
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    const std::uint64_t exact = ExactPercentile(values, p);
    const std::uint64_t got = h.Percentile(p);
    RC_ASSERT(got >= exact);
    RC_ASSERT(got - exact <= exact / Histogram::kSubCount);
  }
}

RC_GTEST_PROP(HistogramProperty, MergeEqualsRecordingEverythingInOne, ()) {
  const auto a =
      *rc::gen::container<std::vector<std::uint64_t>>(rc::gen::arbitrary<std::uint64_t>());
  const auto b =
      *rc::gen::container<std::vector<std::uint64_t>>(rc::gen::arbitrary<std::uint64_t>());
  Histogram ha, hb, all;
  for (std::uint64_t v : a) ha.Record(v), all.Record(v);
  for (std::uint64_t v : b) hb.Record(v), all.Record(v);
  ha.Merge(hb);
  RC_ASSERT(ha.count() == all.count());
  RC_ASSERT(ha.min() == all.min());
  RC_ASSERT(ha.max() == all.max());
  for (double p : {25.0, 50.0, 99.0}) RC_ASSERT(ha.Percentile(p) == all.Percentile(p));
}

}  // namespace
}  // namespace aspen::client::bench
