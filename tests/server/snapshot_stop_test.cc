// Stopping a member while `aspen snapshot save` streams its backup: the
// Maintenance.Snapshot writer thread is cancelled and joined before the node
// and the store go away (no crash, no sanitizer report, a clean exit), the
// client gets an error rather than a truncated success, and the stream's
// temporary file is removed.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "client/client.h"
#include "server/serve_process.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

bool HasStreamFile(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().filename().string().starts_with("snapshot-stream-")) return true;
  }
  return false;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SnapshotStopTest, StoppingTheMemberMidSnapshotEndsTheStreamWithAnErrorAndExitsCleanly) {
  Result<std::string> dir = MakeTempDir("aspen-snapstop");
  ASSERT_TRUE(dir.ok());
  const std::string data_dir = *dir + "/n1";
  auto m = AspenMember::Start("n1", data_dir, PickMemberPorts(), {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string ep = (*m)->endpoint();

  // ~48 MB of state: writing the backup takes long enough to stop the
  // member while its writer thread is still reading the store.
  client::ClientOptions o;
  o.endpoints = {ep};
  o.call_timeout = 10s;
  auto c = client::Client::Create(o).value();
  for (int i = 0; i < 48; ++i) {
    const std::string value(1000 * 1000, static_cast<char>('a' + i % 26));
    auto put = c->Put("big" + std::to_string(i), value);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  const std::string out_file = *dir + "/backup.db";
  // `aspen snapshot save` (etcdctl would retry the UNAVAILABLE stream until
  // its command timeout, hiding the server's answer).
  auto save = ChildProcess::Spawn({ASPEN_BINARY, "snapshot", "save", out_file, "--endpoints", ep},
                                  *dir + "/save.out", *dir + "/save.err");
  ASSERT_TRUE(save.ok()) << save.status().ToString();

  // The writer creates its temporary file first: stop the member then.
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!HasStreamFile(data_dir) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(HasStreamFile(data_dir)) << "the snapshot stream never started";
  const auto sigterm_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill((*m)->process().pid(), SIGTERM), 0);
  std::optional<int> member_exit = (*m)->process().Wait(30s);
  const auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - sigterm_at)
                           .count();
  std::optional<int> save_exit = (*save)->Wait(30s);
  const std::string log = (*m)->Log();
  const std::string save_err = ReadAll(*dir + "/save.err") + ReadAll(*dir + "/save.out");

  ASSERT_TRUE(member_exit.has_value()) << "the member did not exit after SIGTERM\n" << log;
  EXPECT_EQ(*member_exit, 0) << log;
  EXPECT_EQ(log.find("AddressSanitizer"), std::string::npos) << log;
  EXPECT_EQ(log.find("runtime error"), std::string::npos) << log;
  EXPECT_LT(stop_ms, 10000) << "stopping waited for the snapshot writer";
  std::printf("member stopped %lld ms after SIGTERM\n", static_cast<long long>(stop_ms));

  ASSERT_TRUE(save_exit.has_value());
  EXPECT_NE(*save_exit, 0) << "a backup cut short was reported saved:\n" << save_err;
  EXPECT_NE(save_err.find("server stopping"), std::string::npos) << save_err;
  EXPECT_FALSE(std::filesystem::exists(out_file)) << save_err;
  EXPECT_FALSE(std::filesystem::exists(out_file + ".part")) << save_err;
  EXPECT_FALSE(HasStreamFile(data_dir)) << "the stream's temporary file was left behind";

  // The member restarts on its data dir with every key.
  m = AspenMember::Start("n1", data_dir, PickMemberPorts(), {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  o.endpoints = {(*m)->endpoint()};
  auto c2 = client::Client::Create(o).value();
  auto got = c2->Get("big47");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->kvs_size(), 1);
  EXPECT_EQ(got->kvs(0).value().size(), 1000u * 1000u);
}

}  // namespace
}  // namespace aspen::testing
