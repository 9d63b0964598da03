// The real etcdctl's watch, get --rev and compaction against `aspen serve`
// and against a real etcd running the same script: outputs must match once
// ids and ports are masked. Watches replay history (--rev) and are stopped
// by a deadline, so both transcripts end the same way.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/serve_process.h"

namespace aspen::testing {
namespace {

std::string Normalize(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("{\"level\"")) continue;  // clientv3 retry logs
    if (line.starts_with("\"ClusterID\"") || line.starts_with("\"MemberID\"") ||
        line.starts_with("\"RaftTerm\"")) {
      continue;
    }
    out += line + "\n";
  }
  out = std::regex_replace(out, std::regex("\\b[0-9a-f]{10,16}\\b"), "<ID>");
  out = std::regex_replace(out, std::regex("127\\.0\\.0\\.1:[0-9]+"), "127.0.0.1:PORT");
  return out;
}

struct Step {
  std::vector<std::string> args;
  std::string input;
  bool runs_until_killed = false;  // a watch that only a deadline ends
};

std::vector<Step> Script() {
  return {
      {{"put", "a", "1"}, ""},                 // 2
      {{"put", "a", "2"}, ""},                 // 3
      {{"put", "ab", "3"}, ""},                // 4
      {{"del", "a"}, ""},                      // 5
      {{"put", "b", "x"}, ""},                 // 6
      {{"txn"}, "\nput a 5\nput ac 6\n\n\n"},  // 7
      {{"put", "ab", "7", "--prev-kv"}, ""},   // 8
      {{"get", "a", "--rev", "2"}, ""},
      {{"get", "a", "--rev", "3", "-w", "fields"}, ""},
      {{"get", "a", "--rev", "5"}, ""},
      {{"get", "a", "--prefix", "--rev", "6", "--sort-by=MODIFY", "--order=DESCEND"}, ""},
      {{"get", "a", "--prefix", "--rev", "7", "--limit=1"}, ""},
      {{"get", "a", "--prefix", "--rev", "7", "--count-only", "-w", "fields"}, ""},
      {{"get", "", "--from-key", "--rev", "4", "--keys-only"}, ""},
      {{"get", "a", "--rev", "99"}, ""},
      {{"watch", "a", "--prefix", "--rev", "2", "--prev-kv"}, "", true},
      {{"watch", "a", "--rev", "1"}, "", true},
      {{"watch", "", "--from-key", "--rev", "6", "-w", "json"}, "", true},
      {{"compaction", "5"}, ""},
      {{"get", "a", "--rev", "4"}, ""},
      {{"get", "a", "--prefix", "--rev", "5"}, ""},
      {{"watch", "a", "--prefix", "--rev", "4"}, ""},
      {{"watch", "a", "--prefix", "--rev", "5"}, "", true},
      {{"compaction", "5"}, ""},
      {{"compaction", "3"}, ""},
      {{"compaction", "99"}, ""},
      {{"compaction", "--physical", "7"}, ""},
      {{"get", "a", "--prefix", "--rev", "7"}, ""},
      {{"watch", "a", "--prefix", "--rev", "7", "--prev-kv"}, "", true},
  };
}

std::vector<std::string> RunScript(const std::string& endpoint) {
  std::vector<std::string> transcript;
  for (const Step& step : Script()) {
    std::vector<std::string> argv = {"/usr/bin/etcdctl", "--endpoints=" + endpoint};
    argv.insert(argv.end(), step.args.begin(), step.args.end());
    ProgramRun r = RunProgram(
        argv, step.input,
        step.runs_until_killed ? std::chrono::milliseconds(1500) : std::chrono::milliseconds(10000),
        {"ETCDCTL_API=3"});
    std::string label;
    for (const std::string& a : step.args) label += " " + a;
    transcript.push_back("$ etcdctl" + label + "\nexit " + std::to_string(r.exit_code) +
                         "\nstdout:\n" + Normalize(r.out) + "stderr:\n" + Normalize(r.err));
  }
  return transcript;
}

TEST(WatchCompatTest, WatchGetRevAndCompactionMatchEtcd) {
  Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  Result<std::string> dir = MakeTempDir("aspen-watch-compat");
  ASSERT_TRUE(dir.ok());
  Result<std::unique_ptr<AspenMember>> aspen =
      AspenMember::Start("default", *dir + "/data", PickMemberPorts(), {});
  ASSERT_TRUE(aspen.ok()) << aspen.status().ToString();

  const std::vector<std::string> want = RunScript((*etcd)->endpoint());
  const std::vector<std::string> got = RunScript((*aspen)->endpoint());
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]);
  // The script exercises what it claims to (on etcd itself).
  auto step = [&](const std::string& label) {
    for (const std::string& t : want) {
      if (t.starts_with("$ etcdctl " + label + "\n")) return t;
    }
    return std::string();
  };
  EXPECT_NE(step("watch a --prefix --rev 2 --prev-kv").find("DELETE\na\n2\n"), std::string::npos);
  EXPECT_NE(step("compaction 5").find("compacted revision 5"), std::string::npos);
  EXPECT_NE(step("get a --rev 4").find("required revision has been compacted"), std::string::npos);
  EXPECT_NE(step("watch a --prefix --rev 4").find("compacted"), std::string::npos);
  EXPECT_TRUE((*aspen)->process().Running()) << (*aspen)->Log();
}

TEST(WatchCompatTest, RevisionAutoCompactionCompactsOnTheLeader) {
  Result<std::string> dir = MakeTempDir("aspen-autocompact");
  ASSERT_TRUE(dir.ok());
  Result<std::unique_ptr<AspenMember>> aspen =
      AspenMember::Start("default", *dir + "/data", PickMemberPorts(),
                         {"--auto-compaction-mode=revision", "--auto-compaction-retention=3",
                          "--auto-compaction-interval=100"});
  ASSERT_TRUE(aspen.ok()) << aspen.status().ToString();
  const std::string ep = (*aspen)->endpoint();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Etcdctl(ep, {"put", "k", std::to_string(i)}).exit_code, 0);
  // Revision 11 now: the compactor keeps the last 3 revisions, so 8 is the
  // oldest readable one.
  ProgramRun old;
  for (int i = 0; i < 100; ++i) {
    old = Etcdctl(ep, {"get", "k", "--rev", "7"});
    if (old.exit_code != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(old.err.find("required revision has been compacted"), std::string::npos) << old.err;
  ProgramRun kept = Etcdctl(ep, {"get", "k", "--rev", "8"});
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(kept.out, "k\n6\n");
}

TEST(WatchCompatTest, BadAutoCompactionFlagsAreRefusedByName) {
  ProgramRun r = RunProgram({ASPEN_BINARY, "serve", "--auto-compaction-mode=weekly"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--auto-compaction-mode"), std::string::npos) << r.err;
  r = RunProgram(
      {ASPEN_BINARY, "serve", "--auto-compaction-mode=revision", "--auto-compaction-retention=1h"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--auto-compaction-retention"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aspen::testing
