// Bench configuration bounds and key shapes.
#include "client/bench/workload.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "client/client.h"

namespace aspen::client::bench {
namespace {

BenchConfig Valid() {
  BenchConfig c;
  c.endpoints = {"127.0.0.1:2379"};
  c.duration_s = 1;
  return c;
}

TEST(WorkloadTest, NamesRoundTrip) {
  for (const char* name : {"put", "get", "range", "txn-cas", "mixed", "lease-put"}) {
    const std::optional<Workload> w = ParseWorkload(name);
    ASSERT_TRUE(w.has_value()) << name;
    EXPECT_EQ(WorkloadName(*w), name);
  }
  EXPECT_FALSE(ParseWorkload("scan").has_value());
}

TEST(WorkloadTest, DefaultsAreValid) {
  EXPECT_TRUE(Validate(Valid()).ok());
}

TEST(WorkloadTest, EachOutOfBoundsParameterIsNamed) {
  const std::vector<std::pair<std::string, std::function<void(BenchConfig&)>>> cases = {
      {"--endpoints", [](BenchConfig& c) { c.endpoints.clear(); }},
      {"--clients", [](BenchConfig& c) { c.clients = 0; }},
      {"--clients", [](BenchConfig& c) { c.clients = kMaxClients + 1; }},
      {"--conns", [](BenchConfig& c) { c.conns = 2; }},  // more conns than clients
      {"--threads", [](BenchConfig& c) { c.threads = 0; }},
      {"--keys", [](BenchConfig& c) { c.keys = 0; }},
      {"--key-size", [](BenchConfig& c) { c.key_size = 0; }},
      {"--key-size", [](BenchConfig& c) { c.key_size = 9000; }},
      {"--key-size", [](BenchConfig& c) { c.keys = 1'000'000'000; }},  // needs 9 digits
      {"--key-size",
       [](BenchConfig& c) { c.workload = Workload::kRange, c.key_size = 2, c.keys = 10; }},
      {"--value-size", [](BenchConfig& c) { c.value_size = 2 * 1024 * 1024; }},
      {"--total and --duration", [](BenchConfig& c) { c.total = 10; }},
      {"--total and --duration", [](BenchConfig& c) { c.duration_s = 0; }},
      {"--rate", [](BenchConfig& c) { c.rate = -1; }},
      {"--read-ratio", [](BenchConfig& c) { c.read_ratio = 1.5; }},
      {"--lease-ttl", [](BenchConfig& c) { c.lease_ttl_s = 0; }},
  };
  for (const auto& [flag, mutate] : cases) {
    BenchConfig c = Valid();
    mutate(c);
    const Status s = Validate(c);
    ASSERT_FALSE(s.ok()) << flag;
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find(flag), std::string::npos) << s.message();
  }
}

TEST(WorkloadTest, KeysAreFixedWidthDecimal) {
  EXPECT_EQ(MakeKey(0, 8), "00000000");
  EXPECT_EQ(MakeKey(12345, 8), "00012345");
  EXPECT_EQ(MakeKey(99, 2), "99");
}

TEST(WorkloadTest, RangePrefixCoversExactlyOneHundredKeys) {
  const std::string prefix = MakeRangePrefix(7, 6);  // keys 700..799
  EXPECT_EQ(prefix, "0007");
  const std::string end = PrefixEnd(prefix);
  EXPECT_LT(MakeKey(699, 6), prefix);
  EXPECT_GE(MakeKey(700, 6), prefix);
  EXPECT_LT(MakeKey(799, 6), end);
  EXPECT_GE(MakeKey(800, 6), end);
}

TEST(WorkloadTest, RangeGroupsCoverEveryKeyWithoutOverflow) {
  EXPECT_EQ(RangeGroups(1), 1u);
  EXPECT_EQ(RangeGroups(100), 1u);
  EXPECT_EQ(RangeGroups(101), 2u);
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(RangeGroups(max), max / 100 + 1);
  // The last group's prefix is still a valid key prefix.
  EXPECT_EQ(MakeRangePrefix(RangeGroups(max) - 1, 20), "184467440737095516");
}

TEST(WorkloadTest, ValuesHaveTheRequestedSizeAndArePrintable) {
  const std::string v = MakeValue(1000, 3);
  ASSERT_EQ(v.size(), 1000u);
  for (char ch : v) EXPECT_TRUE(ch >= 'a' && ch <= 'z');
  EXPECT_EQ(MakeValue(0, 3), "");
}

}  // namespace
}  // namespace aspen::client::bench
