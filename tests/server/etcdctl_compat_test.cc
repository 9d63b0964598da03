// The real etcdctl against `aspen serve` and against a real etcd running the
// same script: outputs must match once ids, ports, timings and remaining TTLs
// (which legitimately differ) are masked. Run against 1-node Aspen vs 1-node
// etcd, and against 3-node Aspen vs 3-node etcd through a follower (so Aspen
// forwards writes, reads and lease calls to its leader, as etcd does).
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/serve_process.h"

namespace aspen::testing {
namespace {

struct Step {
  std::vector<std::string> args;
  std::string input;
};

std::string Normalize(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("{\"level\"")) continue;  // clientv3 retry logs
    // Header fields of -w fields: ids, revision and term differ.
    if (line.starts_with("\"ClusterID\"") || line.starts_with("\"MemberID\"") ||
        line.starts_with("\"Revision\"") || line.starts_with("\"RaftTerm\"")) {
      continue;
    }
    out += line + "\n";
  }
  out = std::regex_replace(out, std::regex("\\b[0-9a-f]{10,16}\\b"), "<ID>");
  out = std::regex_replace(out, std::regex("127\\.0\\.0\\.1:[0-9]+"), "127.0.0.1:PORT");
  out = std::regex_replace(out, std::regex("remaining\\([0-9]+s\\)"), "remaining(Ns)");
  out = std::regex_replace(out, std::regex("took = .*"), "took = T");
  return out;
}

std::string TxnOps(int n) {
  std::string s = "\n";
  for (int i = 0; i < n; ++i) s += "put op" + std::to_string(i) + " v\n";
  return s + "\n\n";
}

std::vector<Step> Script() {
  return {
      {{"put", "a", "1"}, ""},
      {{"put", "b", "2"}, ""},
      {{"put", "c", "3"}, ""},
      {{"put", "ab", "4"}, ""},
      {{"put", "b2", "22"}, ""},
      {{"get", "a", "--prefix"}, ""},
      {{"get", "a", "--prefix", "--limit=1"}, ""},
      {{"get", "", "--from-key", "--keys-only"}, ""},
      {{"get", "a", "--prefix", "--count-only", "-w", "fields"}, ""},
      {{"get", "b", "--prefix", "--sort-by=VALUE", "--order=DESCEND"}, ""},
      {{"get", "a", "c"}, ""},
      {{"put", "b", "5", "--prev-kv"}, ""},
      {{"del", "ab"}, ""},
      {{"del", "b", "--prefix", "--prev-kv"}, ""},
      {{"get", "missing"}, ""},
      {{"txn"}, "value(\"a\") = \"1\"\n\nput a 10\nget a\n\nput a 20\n\n"},
      {{"txn"}, "mod(\"a\") > \"1000\"\n\nput a 30\n\nget a\n\n"},
      {{"lease", "grant", "60"}, ""},
      {{"put", "lk", "lv", "--lease={LEASE}"}, ""},
      {{"lease", "keep-alive", "--once", "{LEASE}"}, ""},
      {{"lease", "timetolive", "{LEASE}", "--keys"}, ""},
      {{"lease", "list"}, ""},
      {{"lease", "revoke", "{LEASE}"}, ""},
      {{"get", "lk"}, ""},
      {{"lease", "timetolive", "{LEASE}"}, ""},
      {{"lease", "revoke", "{LEASE}"}, ""},
      {{"put", "x", "y", "--lease=1234"}, ""},
      {{"member", "list"}, ""},
      {{"endpoint", "health"}, ""},
      {{"put", "big"}, std::string(1600 * 1024, 'v')},
      {{"txn"}, TxnOps(129)},
      {{"get", "a"}, ""},
  };
}

// The lines of `text` sorted: member list rows come in member-id order, and
// ids differ between the clusters.
std::string SortLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// Runs the script; returns one normalized transcript entry per step.
std::vector<std::string> RunScript(const std::string& endpoint) {
  std::vector<std::string> transcript;
  std::string lease;
  for (const Step& step : Script()) {
    std::vector<std::string> args;
    for (std::string a : step.args) {
      if (const auto pos = a.find("{LEASE}"); pos != std::string::npos) a.replace(pos, 7, lease);
      args.push_back(a);
    }
    ProgramRun r = Etcdctl(endpoint, args, step.input);
    if (step.args[0] == "lease" && step.args[1] == "grant") {
      std::smatch m;
      if (std::regex_search(r.out, m, std::regex("lease ([0-9a-f]+) granted"))) lease = m[1];
    }
    std::string label = args.empty() ? "" : args[0];
    for (std::size_t i = 1; i < args.size(); ++i) label += " " + args[i];
    std::string out = Normalize(r.out);
    if (args[0] == "member") out = SortLines(out);
    transcript.push_back("$ etcdctl " + Normalize(label) + "exit " + std::to_string(r.exit_code) +
                         "\nstdout:\n" + out + "stderr:\n" + Normalize(r.err));
  }
  return transcript;
}

TEST(EtcdctlCompatTest, SameScriptSameOutputAsEtcd) {
  Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  Result<std::string> dir = MakeTempDir("aspen-compat");
  ASSERT_TRUE(dir.ok());
  Result<std::unique_ptr<AspenMember>> aspen =
      AspenMember::Start("default", *dir + "/data", PickMemberPorts(), {});
  ASSERT_TRUE(aspen.ok()) << aspen.status().ToString();

  const std::vector<std::string> want = RunScript((*etcd)->endpoint());
  const std::vector<std::string> got = RunScript((*aspen)->endpoint());
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]);
  EXPECT_TRUE((*aspen)->process().Running()) << (*aspen)->Log();
}

TEST(EtcdctlCompatTest, ThreeNodeClusterThroughAFollowerSameOutputAsEtcd) {
  Result<std::unique_ptr<EtcdCluster>> etcd = EtcdCluster::Start(3);
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  const std::string etcd_follower = (*etcd)->FollowerEndpoint();
  ASSERT_FALSE(etcd_follower.empty()) << (*etcd)->LogTails();

  Result<std::string> dir = MakeTempDir("aspen-compat3");
  ASSERT_TRUE(dir.ok());
  std::vector<MemberPorts> ports;
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    ports.push_back(PickMemberPorts());
    initial += (i ? "," : "") + std::string("m") + std::to_string(i) + "=" + ports[i].peer_url();
  }
  std::vector<std::unique_ptr<AspenMember>> members;
  for (int i = 0; i < 3; ++i) {
    auto m = AspenMember::Start("m" + std::to_string(i), *dir + "/m" + std::to_string(i), ports[i],
                                {"--initial-cluster=" + initial}, /*wait_ready=*/false);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    members.push_back(std::move(m).value());
  }
  // A follower of an elected leader every member agrees on.
  std::string aspen_follower;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (aspen_follower.empty() && std::chrono::steady_clock::now() < deadline) {
    std::uint64_t leader = 0;
    bool agreed = true;
    std::string follower;
    for (auto& m : members) {
      ProgramRun r = Etcdctl(m->endpoint(), {"endpoint", "status", "-w", "fields"});
      std::smatch id, lead;
      const bool ok = r.exit_code == 0 &&
                      std::regex_search(r.out, id, std::regex("\"MemberID\" : ([0-9]+)")) &&
                      std::regex_search(r.out, lead, std::regex("\"Leader\" : ([0-9]+)"));
      const std::uint64_t l = ok ? std::stoull(lead[1]) : 0;
      agreed = agreed && l != 0 && (leader == 0 || l == leader);
      leader = l;
      if (ok && id[1] != lead[1]) follower = m->endpoint();
    }
    if (agreed) aspen_follower = follower;
    if (aspen_follower.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(aspen_follower.empty()) << members[0]->Log();

  const std::vector<std::string> want = RunScript(etcd_follower);
  const std::vector<std::string> got = RunScript(aspen_follower);
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]);
  // The clusters really have three members each.
  for (const std::string& entry : got) {
    if (!entry.starts_with("$ etcdctl member list")) continue;
    for (const char* name : {", m0, ", ", m1, ", ", m2, "}) {
      EXPECT_NE(entry.find(name), std::string::npos) << entry;
    }
  }
  for (auto& m : members) EXPECT_TRUE(m->process().Running()) << m->Log();
}

TEST(EtcdctlCompatTest, EndpointStatusReportsLeaderAndIndexes) {
  Result<std::string> dir = MakeTempDir("aspen-status");
  ASSERT_TRUE(dir.ok());
  auto aspen = AspenMember::Start("default", *dir + "/data", PickMemberPorts(), {});
  ASSERT_TRUE(aspen.ok()) << aspen.status().ToString();
  ASSERT_EQ(Etcdctl((*aspen)->endpoint(), {"put", "k", "v"}).exit_code, 0);
  ProgramRun r = Etcdctl((*aspen)->endpoint(), {"endpoint", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // "127.0.0.1:PORT, <id>, 3.4.0, <size>, true (leader), false (learner), term, index, applied, "
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m,
      std::regex("127\\.0\\.0\\.1:[0-9]+, [0-9a-f]+, 3\\.4\\.0, [0-9.]+ [kMG]?B, true, false, "
                 "([0-9]+), ([0-9]+), ([0-9]+),")))
      << r.out;
  EXPECT_GE(std::stoi(m[1]), 1);
  EXPECT_GE(std::stoi(m[2]), 2);  // the leader's no-op and the put
  EXPECT_EQ(m[2], m[3]);          // everything committed is applied
}

}  // namespace
}  // namespace aspen::testing
