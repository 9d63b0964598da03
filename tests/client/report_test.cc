// Bench report rendering.
#include "client/bench/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace aspen::client::bench {
namespace {

BenchResult SampleResult() {
  BenchResult r;
  for (std::uint64_t us = 1; us <= 1000; ++us) r.latency_ns.Record(us * 1000);
  r.ops = 1000;
  r.errors = 2;
  r.errors_by_code["UNAVAILABLE"] = 2;
  r.first_error["UNAVAILABLE"] = "connection reset \xff\xfe";  // not UTF-8
  r.elapsed_s = 2.0;
  r.txn_succeeded = 600;
  r.txn_failed = 400;
  return r;
}

TEST(ReportTest, JsonHasTheDocumentedKeysAndValues) {
  BenchConfig config;
  config.endpoints = {"127.0.0.1:2379"};
  config.workload = Workload::kTxnCas;
  config.clients = 8;
  const nlohmann::json j = nlohmann::json::parse(ReportJson(config, SampleResult()));
  EXPECT_EQ(j["workload"], "txn-cas");
  EXPECT_EQ(j["clients"], 8);
  EXPECT_EQ(j["ops"], 1000);
  EXPECT_EQ(j["errors"], 2);
  EXPECT_DOUBLE_EQ(j["ops_per_s"].get<double>(), 500.0);
  EXPECT_DOUBLE_EQ(j["latency_us"]["min"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["latency_us"]["max"].get<double>(), 1000.0);
  const double p50 = j["latency_us"]["p50"].get<double>();
  EXPECT_GE(p50, 500.0);
  EXPECT_LE(p50, 500.0 * (1 + 1.0 / 128));
  EXPECT_EQ(j["errors_by_code"]["UNAVAILABLE"], 2);
  EXPECT_EQ(j["txn"]["succeeded"], 600);
  EXPECT_EQ(j["txn"]["failed"], 400);
}

TEST(ReportTest, InvalidUtf8FromOutsideIsReplacedNotThrown) {
  BenchConfig config;
  config.endpoints = {"h\xff:1"};
  std::string json;
  ASSERT_NO_THROW(json = ReportJson(config, SampleResult()));
  const nlohmann::json j = nlohmann::json::parse(json);
  EXPECT_NE(j["first_error"]["UNAVAILABLE"].get<std::string>().find("connection reset"),
            std::string::npos);
}

TEST(ReportTest, TableNamesErrorsAndTxnOutcomes) {
  BenchConfig config;
  config.endpoints = {"127.0.0.1:2379"};
  config.workload = Workload::kTxnCas;
  const std::string table = ReportTable(config, SampleResult());
  EXPECT_NE(table.find("500.0 ops/s"), std::string::npos) << table;
  EXPECT_NE(table.find("UNAVAILABLE 2"), std::string::npos) << table;
  EXPECT_NE(table.find("600 succeeded, 400 compare failed"), std::string::npos) << table;
}

TEST(ReportTest, ProgressLineShowsRate) {
  EXPECT_EQ(ProgressLine(2.0, 100, 1), "[   2.0 s] 100 ops, 50 ops/s, 1 errors");
}

}  // namespace
}  // namespace aspen::client::bench
