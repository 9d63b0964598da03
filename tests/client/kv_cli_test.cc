// `aspen put|get|del` end to end: the real binary against a real etcd, with
// the real etcdctl as a cross-check.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/run_aspen.h"
#include "proc/etcd_fixture.h"

namespace aspen::testing {
namespace {

class KvCliTest : public ::testing::Test {
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

  // `aspen <command> --endpoints <etcd> args...`
  static AspenRun Aspen(const std::string& command, std::vector<std::string> args) {
    args.insert(args.begin(), {command, "--endpoints", etcd_->endpoint()});
    return RunAspen(args, std::chrono::seconds(30));
  }

  static EtcdProcess* etcd_;
};

EtcdProcess* KvCliTest::etcd_ = nullptr;

TEST_F(KvCliTest, PutThenGetPrintsKeyAndValueLikeEtcdctl) {
  AspenRun put = Aspen("put", {"greeting", "hello world"});
  ASSERT_EQ(put.exit_code, 0) << put.all();
  EXPECT_EQ(put.out, "OK\n");
  AspenRun get = Aspen("get", {"greeting"});
  ASSERT_EQ(get.exit_code, 0) << get.all();
  EXPECT_EQ(get.out, "greeting\nhello world\n");
}

TEST_F(KvCliTest, JsonOutputCarriesBase64BytesAndRevisions) {
  AspenRun put = Aspen("put", {"jk", "jv", "-o", "json"});
  ASSERT_EQ(put.exit_code, 0) << put.all();
  const nlohmann::json p = nlohmann::json::parse(put.out, nullptr, false);
  ASSERT_TRUE(p.is_object()) << put.out;
  const std::int64_t revision = p["header"]["revision"].get<std::int64_t>();
  EXPECT_GT(revision, 0);
  AspenRun get = Aspen("get", {"jk", "-o", "json"});
  ASSERT_EQ(get.exit_code, 0) << get.all();
  const nlohmann::json g = nlohmann::json::parse(get.out, nullptr, false);
  ASSERT_TRUE(g.is_object()) << get.out;
  ASSERT_EQ(g["kvs"].size(), 1u);
  EXPECT_EQ(g["kvs"][0]["key"], "ams=");    // base64("jk")
  EXPECT_EQ(g["kvs"][0]["value"], "anY=");  // base64("jv")
  EXPECT_EQ(g["kvs"][0]["mod_revision"].get<std::int64_t>(), revision);
  EXPECT_EQ(g["count"], 1);
}

TEST_F(KvCliTest, PrefixGetListsInKeyOrderAndPrefixDelCounts) {
  for (const char* k : {"p/b", "p/a", "p/c"}) ASSERT_EQ(Aspen("put", {k, "v"}).exit_code, 0);
  AspenRun keys = Aspen("get", {"p/", "--prefix", "--keys-only"});
  ASSERT_EQ(keys.exit_code, 0) << keys.all();
  EXPECT_EQ(keys.out, "p/a\np/b\np/c\n");
  AspenRun limited = Aspen("get", {"p/", "--prefix", "--limit", "1", "--consistency", "s"});
  EXPECT_EQ(limited.out, "p/a\nv\n");
  AspenRun count = Aspen("get", {"p/", "--prefix", "--count-only"});
  EXPECT_EQ(count.out, "3\n");
  AspenRun del = Aspen("del", {"p/", "--prefix"});
  ASSERT_EQ(del.exit_code, 0) << del.all();
  EXPECT_EQ(del.out, "3\n");
  EXPECT_EQ(Aspen("get", {"p/", "--prefix"}).out, "");
}

TEST_F(KvCliTest, EtcdctlReadsWhatAspenWrote) {
  ASSERT_EQ(Aspen("put", {"cross", "checked"}).exit_code, 0);
  Result<std::string> dir = MakeTempDir("aspen-etcdctl");
  ASSERT_TRUE(dir.ok());
  Result<std::unique_ptr<ChildProcess>> etcdctl = ChildProcess::Spawn(
      {"/usr/bin/etcdctl", "--endpoints=" + etcd_->endpoint(), "get", "cross"}, *dir + "/out");
  ASSERT_TRUE(etcdctl.ok()) << etcdctl.status().ToString();
  EXPECT_EQ((*etcdctl)->Wait(std::chrono::seconds(30)), std::optional<int>(0));
  std::ifstream in(*dir + "/out");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "cross\nchecked\n");
  std::filesystem::remove_all(*dir);
}

TEST_F(KvCliTest, ServerErrorExitsTwoWithTheGrpcCode) {
  AspenRun put = Aspen("put", {"k", "v", "--lease", "7eadbeef"});
  EXPECT_EQ(put.exit_code, 2);
  EXPECT_NE(put.err.find("NOT_FOUND: etcdserver: requested lease not found"), std::string::npos)
      << put.err;
}

TEST_F(KvCliTest, BadFlagsExitOneAndNameTheFault) {
  AspenRun lease = Aspen("put", {"k", "v", "--lease", "xyz"});
  EXPECT_EQ(lease.exit_code, 1);
  EXPECT_NE(lease.err.find("--lease"), std::string::npos) << lease.err;
  AspenRun endpoint = RunAspen({"get", "k", "--endpoints", "unix:///x"});
  EXPECT_EQ(endpoint.exit_code, 1);
  EXPECT_NE(endpoint.err.find("--endpoints"), std::string::npos) << endpoint.err;
}

}  // namespace
}  // namespace aspen::testing
