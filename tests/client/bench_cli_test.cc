// `aspen bench` end to end: the real binary against a real etcd on loopback.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/run_aspen.h"
#include "proc/etcd_fixture.h"

namespace aspen::testing {
namespace {

// `aspen bench args...`, stdout and stderr together.
struct BenchRun {
  int exit_code;
  std::string output;
};

BenchRun RunBench(std::vector<std::string> args) {
  args.insert(args.begin(), "bench");
  const AspenRun run = RunAspen(args);
  return {run.exit_code, run.all()};
}

nlohmann::json LastJsonLine(const std::string& output) {
  std::istringstream lines(output);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  return nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
}

class BenchCliTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
    etcd_ = std::move(etcd).value().release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(etcd_, nullptr); }
  static EtcdProcess* etcd_;
};

EtcdProcess* BenchCliTest::etcd_ = nullptr;

TEST_P(BenchCliTest, ShortRunSucceedsWithDocumentedJson) {
  const BenchRun run =
      RunBench({"--endpoints", etcd_->endpoint(), "--workload", GetParam(), "--clients", "4",
                "--conns", "2", "--duration", "1", "--keys", "1000", "--prefill", "-o", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = LastJsonLine(run.output);
  ASSERT_TRUE(j.is_object()) << run.output;
  for (const char* key : {"workload", "endpoints", "clients", "conns", "key_size", "value_size",
                          "keys", "rate", "consistency", "elapsed_s", "ops", "errors", "ops_per_s",
                          "latency_us", "errors_by_code", "first_error"}) {
    EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  }
  EXPECT_EQ(j["workload"], GetParam());
  EXPECT_EQ(j["clients"], 4);
  EXPECT_GT(j["ops"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["errors"].get<std::uint64_t>(), 0u) << j.dump();
  EXPECT_TRUE(j["errors_by_code"].empty());
  EXPECT_GT(j["ops_per_s"].get<double>(), 0.0);
  const nlohmann::json& lat = j["latency_us"];
  for (const char* key : {"min", "mean", "p50", "p90", "p99", "p99_9", "max"}) {
    ASSERT_TRUE(lat.contains(key)) << key;
  }
  EXPECT_GT(lat["min"].get<double>(), 0.0);
  EXPECT_LE(lat["min"].get<double>(), lat["p50"].get<double>());
  EXPECT_LE(lat["p50"].get<double>(), lat["p90"].get<double>());
  EXPECT_LE(lat["p90"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["p99_9"].get<double>());
  EXPECT_LE(lat["p99_9"].get<double>(), lat["max"].get<double>());
  if (GetParam() == "txn-cas") {
    const std::uint64_t done =
        j["txn"]["succeeded"].get<std::uint64_t>() + j["txn"]["failed"].get<std::uint64_t>();
    EXPECT_EQ(done, j["ops"].get<std::uint64_t>());
    EXPECT_GT(j["txn"]["succeeded"].get<std::uint64_t>(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryWorkload, BenchCliTest,
                         ::testing::Values("put", "get", "range", "txn-cas", "mixed", "lease-put"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST_F(BenchCliTest, TotalRunsExactlyThatManyOps) {
  const BenchRun run =
      RunBench({"--endpoints", etcd_->endpoint(), "--workload", "get", "--consistency", "s",
                "--clients", "8", "--conns", "3", "--total", "777", "-o", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = LastJsonLine(run.output);
  EXPECT_EQ(j["ops"].get<std::uint64_t>(), 777u);
  EXPECT_EQ(j["consistency"], "serializable");
}

TEST_F(BenchCliTest, OpenLoopRateBoundsThroughput) {
  // 200 ops/s for 1 s: the schedule starts exactly 200 ops (each of the 20
  // clients one every 100 ms), never the thousands a closed loop would run.
  const BenchRun run =
      RunBench({"--endpoints", etcd_->endpoint(), "--workload", "put", "--clients", "20", "--conns",
                "2", "--rate", "200", "--duration", "1", "-o", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = LastJsonLine(run.output);
  EXPECT_GE(j["ops"].get<std::uint64_t>(), 150u);
  EXPECT_LE(j["ops"].get<std::uint64_t>(), 200u);
  EXPECT_EQ(j["rate"].get<double>(), 200.0);
}

TEST_F(BenchCliTest, TableOutputShowsThroughputAndPercentiles) {
  const BenchRun run = RunBench({"--endpoints", etcd_->endpoint(), "--total", "100"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("ops/s"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("p99.9"), std::string::npos) << run.output;
}

TEST(BenchCliErrorsTest, BadFlagsExitOneAndNameTheFlag) {
  const BenchRun conns =
      RunBench({"--endpoints", "127.0.0.1:1", "--clients", "2", "--conns", "3", "--total", "1"});
  EXPECT_EQ(conns.exit_code, 1);
  EXPECT_NE(conns.output.find("--conns"), std::string::npos) << conns.output;
  const BenchRun endpoint = RunBench({"--endpoints", "https://x:1", "--total", "1"});
  EXPECT_EQ(endpoint.exit_code, 1);
  EXPECT_NE(endpoint.output.find("--endpoints"), std::string::npos) << endpoint.output;
  const BenchRun workload = RunBench({"--workload", "scan"});
  EXPECT_NE(workload.exit_code, 0);
  EXPECT_NE(workload.output.find("workload"), std::string::npos) << workload.output;
}

TEST(BenchCliErrorsTest, UnreachableEndpointExitsTwo) {
  Result<int> port = PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  const BenchRun run =
      RunBench({"--endpoints", "127.0.0.1:" + std::to_string(*port), "--total", "1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("not established"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace aspen::testing
