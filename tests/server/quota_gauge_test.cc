// QuotaGauge: the NOSPACE check reuses a reading of the state's size while it
// is young and far from the quota, and measures again whenever a write could
// be refused.
#include "server/quota_gauge.h"

#include <gtest/gtest.h>

namespace aspen::server {
namespace {

struct FakeState {
  std::uint64_t bytes = 0;
  bool fail = false;
  int reads = 0;
  QuotaGauge::Measure measure() {
    return [this]() -> Result<std::uint64_t> {
      ++reads;
      if (fail) return Status::IOError("state size unavailable");
      return bytes;
    };
  }
};

TEST(QuotaGauge, WritesFarBelowTheQuotaReuseOneReadingUntilItAges) {
  FakeState state;
  state.bytes = 1000;
  QuotaGauge g;
  const auto m = state.measure();
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(g.Allows(10, 1'000'000, 5 + i, m));
  EXPECT_EQ(state.reads, 1);
  EXPECT_TRUE(g.Allows(10, 1'000'000, 5 + QuotaGauge::kMaxAgeMs, m));
  EXPECT_EQ(state.reads, 2);
  EXPECT_EQ(g.measurements(), 2u);
}

TEST(QuotaGauge, AWriteTheEstimateWouldRefuseIsJudgedOnAFreshReading) {
  FakeState state;
  state.bytes = 900;
  QuotaGauge g;
  const auto m = state.measure();
  EXPECT_TRUE(g.Allows(10, 1000, 0, m));  // 900 + 10
  EXPECT_EQ(state.reads, 1);
  // Estimate 900 + 4 * 10 + 60 = 1000: fits without a new reading.
  EXPECT_TRUE(g.Allows(60, 1000, 1, m));
  EXPECT_EQ(state.reads, 1);
  // Estimate 900 + 4 * 70 + 10 > 1000: measured again; the state did not
  // grow as much as assumed (a delete ran), so the write fits.
  state.bytes = 950;
  EXPECT_TRUE(g.Allows(10, 1000, 2, m));
  EXPECT_EQ(state.reads, 2);
  // The state grew more than assumed: the estimate (950 + 4 * 10 + 50)
  // would refuse, so the state is measured, and the write is refused on
  // that fresh reading (995 + 50), every time.
  state.bytes = 995;
  EXPECT_FALSE(g.Allows(50, 1000, 3, m));
  EXPECT_EQ(state.reads, 3);
  EXPECT_FALSE(g.Allows(50, 1000, 4, m));
  EXPECT_EQ(state.reads, 4);
  // Space freed: the next write is let through at once.
  state.bytes = 100;
  EXPECT_TRUE(g.Allows(10, 1000, 5, m));
  EXPECT_EQ(state.reads, 5);
}

TEST(QuotaGauge, RefusesExactlyWhenTheMeasuredStatePlusTheWriteExceedsTheQuota) {
  FakeState state;
  QuotaGauge g;
  const auto m = state.measure();
  state.bytes = 990;
  EXPECT_TRUE(g.Allows(10, 1000, 0, m));  // 1000 <= 1000
  QuotaGauge h;
  EXPECT_FALSE(h.Allows(11, 1000, 0, m));
}

TEST(QuotaGauge, AFailedMeasurementLetsTheWriteThroughAndIsNotKept) {
  FakeState state;
  state.fail = true;
  QuotaGauge g;
  const auto m = state.measure();
  EXPECT_TRUE(g.Allows(10, 100, 0, m));
  EXPECT_TRUE(g.Allows(10, 100, 1, m));
  EXPECT_EQ(state.reads, 2);
  state.fail = false;
  state.bytes = 200;
  EXPECT_FALSE(g.Allows(10, 100, 2, m));
}

TEST(QuotaGauge, AClockThatStepsBackMeasuresAgain) {
  FakeState state;
  QuotaGauge g;
  const auto m = state.measure();
  EXPECT_TRUE(g.Allows(1, 1000, 1000, m));
  EXPECT_TRUE(g.Allows(1, 1000, 500, m));
  EXPECT_EQ(state.reads, 2);
}

}  // namespace
}  // namespace aspen::server
