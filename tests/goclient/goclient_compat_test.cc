// etcd's own Go client against Aspen and a real etcd, side by side.
//
// tests/goclient/compat.go (clientv3 and clientv3/concurrency of etcd 3.4)
// runs a fixed list of scenarios against one endpoint list and prints one
// JSON line per scenario with normalised results (relative revisions, no
// ids, errors as clientv3 names them). This test runs it against a fresh
// `aspen serve` and a fresh etcd and compares the scenarios step by step.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kBinary = GOCLIENT_BINARY;
constexpr const char* kMissing = GOCLIENT_MISSING;

// Scenarios whose answers do not depend on which member serves a call: only
// linearizable reads, and watches from explicit revisions. (A serializable
// read, or a watch from "now", on a member whose apply trails the leader's by
// a moment legitimately sees an older revision, in etcd as in Aspen.)
const std::vector<std::string> kClusterScenarios = {
    "txn_compares", "lease", "lease_revoke_elsewhere", "mutex", "election", "stm", "leasing_kv"};

struct GoRun {
  ProgramRun run;
  std::vector<json> scenarios;  // one per output line, in order
  std::string parse_error;
};

GoRun RunCompat(const std::string& endpoints, const std::vector<std::string>& only = {}) {
  std::vector<std::string> argv = {kBinary, "-endpoints", endpoints};
  if (!only.empty()) {
    std::string list;
    for (const std::string& s : only) list += (list.empty() ? "" : ",") + s;
    argv.push_back("-scenarios");
    argv.push_back(list);
  }
  GoRun r;
  r.run = RunProgram(argv, "", 150s);
  std::istringstream in(r.run.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("scenario") || !j.contains("steps")) {
      r.parse_error = "not a scenario line: " + line.substr(0, 300);
      break;
    }
    r.scenarios.push_back(std::move(j));
  }
  return r;
}

std::vector<std::string> ScenarioNames() {
  ProgramRun r = RunProgram({kBinary, "-list"}, "", 10s);
  std::vector<std::string> names;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

// Runs compat.go against etcd and aspen at the same time (two processes; the
// scenarios of each run are sequential).
std::pair<GoRun, GoRun> RunBoth(const std::string& etcd, const std::string& aspen,
                                const std::vector<std::string>& only = {}) {
  GoRun want, got;
  std::thread t([&] { want = RunCompat(etcd, only); });
  got = RunCompat(aspen, only);
  t.join();
  return {std::move(want), std::move(got)};
}

// Compares scenario by scenario, step by step; every difference becomes one
// test failure naming the scenario, the step and both results.
void ExpectSameScenarios(const GoRun& want, const GoRun& got, const std::string& what) {
  ASSERT_EQ(want.run.exit_code, 0) << "compat.go against etcd: " << want.run.err;
  ASSERT_TRUE(want.parse_error.empty()) << want.parse_error;
  ASSERT_TRUE(got.parse_error.empty()) << got.parse_error;
  EXPECT_EQ(got.run.exit_code, 0) << "compat.go against " << what << ": " << got.run.err;
  ASSERT_EQ(got.scenarios.size(), want.scenarios.size()) << what << "\n" << got.run.err;
  for (std::size_t i = 0; i < want.scenarios.size(); ++i) {
    const json& w = want.scenarios[i];
    const json& g = got.scenarios[i];
    const std::string name = w["scenario"].get<std::string>();
    ASSERT_EQ(g["scenario"], w["scenario"]);
    EXPECT_FALSE(w.contains("hung")) << name << " hung against etcd: " << w.dump();
    EXPECT_FALSE(g.contains("hung")) << name << " hung against " << what << ": " << g["hung"];
    EXPECT_FALSE(g.contains("start_error")) << name << ": " << g["start_error"];
    const json& ws = w["steps"];
    const json& gs = g["steps"];
    EXPECT_EQ(gs.size(), ws.size())
        << "scenario " << name << " has a different number of steps\n"
        << "  etcd:  " << w.dump() << "\n  " << what << ": " << g.dump();
    const std::size_t n = std::max(ws.size(), gs.size());
    for (std::size_t s = 0; s < n; ++s) {
      const std::string op =
          s < ws.size() ? ws[s]["op"].get<std::string>() : gs[s]["op"].get<std::string>();
      const std::string etcd_r = s < ws.size() ? ws[s].dump() : "(no such step)";
      const std::string aspen_r = s < gs.size() ? gs[s].dump() : "(no such step)";
      EXPECT_EQ(aspen_r, etcd_r) << "scenario " << name << ", step " << s << " (" << op
                                 << ")\n  etcd:  " << etcd_r << "\n  " << what << ": " << aspen_r;
    }
  }
}

// Removes a test's temp dir at scope exit (declared before the processes
// using it, so it goes after they are stopped).
struct RemoveDirAtExit {
  std::string path;
  ~RemoveDirAtExit() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

std::string StepResult(const GoRun& run, const std::string& scenario, const std::string& op) {
  for (const json& sc : run.scenarios) {
    if (sc["scenario"] != scenario) continue;
    for (const json& st : sc["steps"]) {
      if (st["op"] == op) return st["r"].dump();
    }
  }
  return "(step " + scenario + "/" + op + " not found)";
}

TEST(GoClientCompatTest, EveryScenarioMatchesEtcdOnASingleNode) {
  ASSERT_STREQ(kMissing, "") << "the clientv3 differential test cannot run: " << kMissing;
  ASSERT_TRUE(std::filesystem::exists(kBinary))
      << kBinary << " is missing: build the target goclient_compat_bin (go build of compat.go)";
  const std::vector<std::string> names = ScenarioNames();
  ASSERT_GE(names.size(), 10u) << kBinary << " -list printed too few scenarios";

  Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  Result<std::string> dir = MakeTempDir("aspen-goclient");
  ASSERT_TRUE(dir.ok());
  RemoveDirAtExit cleanup{*dir};
  Result<std::unique_ptr<AspenMember>> aspen =
      AspenMember::Start("default", *dir + "/data", PickMemberPorts(), {});
  ASSERT_TRUE(aspen.ok()) << aspen.status().ToString();

  auto [want, got] = RunBoth((*etcd)->endpoint(), (*aspen)->endpoint());
  ASSERT_EQ(want.scenarios.size(), names.size()) << want.run.err;
  ExpectSameScenarios(want, got, "aspen");

  // The scenarios exercise what they claim to (checked on etcd's answers).
  EXPECT_EQ(StepResult(want, "compaction", "get rev base+1 after compact"),
            R"({"err":"ErrCompacted"})");
  EXPECT_EQ(StepResult(want, "compaction", "compact future"), R"({"err":"ErrFutureRev"})");
  EXPECT_EQ(StepResult(want, "errors", "txn 129 ops"), R"({"err":"ErrTooManyOps"})");
  EXPECT_EQ(StepResult(want, "errors", "put 1.6 MB"), R"({"err":"ErrRequestTooLarge"})");
  EXPECT_EQ(StepResult(want, "errors", "txn duplicate put"), R"({"err":"ErrDuplicateKey"})");
  EXPECT_EQ(StepResult(want, "lease", "revoke again"), R"("ErrLeaseNotFound")");
  EXPECT_EQ(StepResult(want, "lease", "expiry"), R"("expired")");
  EXPECT_NE(StepResult(want, "watch_history", "prefix from compacted base+2").find("ErrCompacted"),
            std::string::npos);
  EXPECT_EQ(StepResult(want, "watch_live", "request progress"),
            R"({"events":0,"progress":true,"rev":4})");
  EXPECT_EQ(StepResult(want, "election", "observed"), R"(["v1","v2","w1"])");
  EXPECT_EQ(StepResult(want, "mutex", "m2 waits while m1 holds"), "true");
  EXPECT_TRUE((*aspen)->process().Running()) << (*aspen)->Log();
}

TEST(GoClientCompatTest, ClientsOfAThreeNodeAspenClusterSeeWhatEtcdClientsSee) {
  ASSERT_STREQ(kMissing, "") << "the clientv3 differential test cannot run: " << kMissing;
  ASSERT_TRUE(std::filesystem::exists(kBinary))
      << kBinary << " is missing: build the target goclient_compat_bin (go build of compat.go)";
  Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  Result<std::string> dir = MakeTempDir("aspen-goclient-cluster");
  ASSERT_TRUE(dir.ok());
  RemoveDirAtExit cleanup{*dir};
  Result<AspenCluster> cluster = AspenCluster::Start(*dir, 3);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  ASSERT_NE(WaitForLeader(cluster->endpoints, 20s), 0u) << cluster->members[0]->Log();

  auto [want, got] = RunBoth((*etcd)->endpoint(), cluster->JoinedEndpoints(), kClusterScenarios);
  ASSERT_EQ(want.scenarios.size(), kClusterScenarios.size()) << want.run.err;
  ExpectSameScenarios(want, got, "aspen x3");
  for (const auto& m : cluster->members) EXPECT_TRUE(m->process().Running()) << m->Log();
}

}  // namespace
}  // namespace aspen::testing
