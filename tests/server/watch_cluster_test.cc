// The watch property on real processes: `aspen watch --rev 1` against a
// 3-member cluster sees every write exactly once and in order, also when its
// member is killed (SIGKILL) mid-stream and it resumes on another member
// from the revision after the last event it printed.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Event {
  std::string type, key, value;
};

std::vector<Event> ParseWatchOutput(const std::string& text) {
  std::vector<Event> out;
  std::istringstream in(text);
  std::string type, key, value;
  while (std::getline(in, type) && std::getline(in, key) && std::getline(in, value)) {
    out.push_back({type, key, value});
  }
  return out;
}

// Retries a write until some member accepts it (leader changes).
template <typename F>
void Retry(F&& write) {
  for (int i = 0; i < 100; ++i) {
    if (write()) return;
    std::this_thread::sleep_for(100ms);
  }
  FAIL() << "write never accepted";
}

TEST(WatchClusterTest, WatcherResumesOnAnotherMemberWithoutGapsOrDuplicates) {
  Result<std::string> dir = MakeTempDir("aspen-watch-cluster");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> cluster = AspenCluster::Start(*dir, 3);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  std::vector<std::unique_ptr<AspenMember>>& members = cluster->members;
  const std::vector<std::string>& endpoints = cluster->endpoints;
  for (int i = 0; i < 200 && !HasLeader(endpoints[0]); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(HasLeader(endpoints[0])) << members[0]->Log();

  const std::string log = *dir + "/watch.out";
  auto watch = ChildProcess::Spawn(
      {ASPEN_BINARY, "watch", "k", "--prefix", "--rev", "1", "--endpoints",
       endpoints[0] + "," + endpoints[1] + "," + endpoints[2], "--retry-ms", "30000"},
      log, *dir + "/watch.err");
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();

  auto writer = ClientFor({endpoints[1], endpoints[2], endpoints[0]});
  std::vector<Event> want;
  std::map<std::string, std::string> live;
  auto write = [&](int i) {
    const std::string key = "k" + std::to_string(i % 7);
    if (i % 5 == 4 && live.contains(key)) {
      Retry([&] { return writer->Delete(key).ok(); });
      live.erase(key);
      want.push_back({"DELETE", key, ""});
    } else {
      const std::string value = "v" + std::to_string(i);
      Retry([&] { return writer->Put(key, value).ok(); });
      live[key] = value;
      want.push_back({"PUT", key, value});
    }
  };
  for (int i = 0; i < 40; ++i) write(i);
  // Kill the member the watcher is on, mid-stream.
  for (int i = 0; i < 50 && ParseWatchOutput(ReadFile(log)).size() < 10; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  members[0]->Kill();
  for (int i = 40; i < 80; ++i) write(i);

  std::vector<Event> got;
  for (int i = 0; i < 300; ++i) {
    got = ParseWatchOutput(ReadFile(log));
    if (got.size() >= want.size()) break;
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(300ms);  // anything extra (a duplicate) shows up too
  got = ParseWatchOutput(ReadFile(log));
  (*watch)->Stop(SIGTERM, 1000ms);
  ASSERT_EQ(got.size(), want.size()) << ReadFile(*dir + "/watch.err");
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].type, want[i].type) << i;
    EXPECT_EQ(got[i].key, want[i].key) << i;
    EXPECT_EQ(got[i].value, want[i].value) << i;
  }
}

}  // namespace
}  // namespace aspen::testing
