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
  EXPECT_EQ(keys.out, "p/a\n\np/b\n\np/c\n\n");  // as etcdctl: an empty value line
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

TEST_F(KvCliTest, GetOfAbsentKeyExitsTwoAndJsonIsStillPrinted) {
  AspenRun table = Aspen("get", {"no/such/key"});
  EXPECT_EQ(table.exit_code, 2) << table.all();
  EXPECT_EQ(table.out, "");
  AspenRun json = Aspen("get", {"no/such/", "--prefix", "-o", "json"});
  EXPECT_EQ(json.exit_code, 2) << json.all();
  const nlohmann::json j = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json.out;
  EXPECT_EQ(j["count"], 0);
  EXPECT_EQ(j["kvs"], nlohmann::json::array());
}

TEST_F(KvCliTest, NonUtf8KeysAndValuesAreBase64InJson) {
  ASSERT_EQ(Aspen("put", {"\xff\x01k", "\xfe"}).exit_code, 0);
  AspenRun get = Aspen("get", {"\xff\x01k", "-o", "json"});
  ASSERT_EQ(get.exit_code, 0) << get.all();
  const nlohmann::json j = nlohmann::json::parse(get.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << get.out;
  EXPECT_EQ(j["kvs"][0]["key"], "/wFr");  // base64 of ff 01 6b
  EXPECT_EQ(j["kvs"][0]["value"], "/g==");
  AspenRun table = Aspen("get", {"\xff\x01k"});
  EXPECT_EQ(table.out, "\xff\x01k\n\xfe\n");  // table form: the raw bytes
}

TEST_F(KvCliTest, UnreachableEndpointExitsThree) {
  Result<int> port = PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  AspenRun get = RunAspen(
      {"get", "k", "--endpoints", "127.0.0.1:" + std::to_string(*port), "--dial-timeout", "200ms"});
  EXPECT_EQ(get.exit_code, 3);
  EXPECT_NE(get.err.find("not reachable within 200 ms"), std::string::npos) << get.err;
}

// txn against a real etcd: the same output as etcdctl for both branches, and
// exit 0 / 2 where etcdctl exits 0 for both.
TEST_F(KvCliTest, TxnMatchesEtcdctlOnRealEtcdForBothBranches) {
  Result<std::string> dir = MakeTempDir("aspen-txn");
  ASSERT_TRUE(dir.ok());
  const std::string path = *dir + "/txn";
  std::ofstream(path) << "value(\"tx\") = \"a\"\n\nput tx b\nget tx\n\nget tx --keys-only\n\n";
  for (const char* initial : {"a", "z"}) {
    ASSERT_EQ(Aspen("put", {"tx", initial}).exit_code, 0);
    AspenRun ours = Aspen("txn", {"-f", path});
    ASSERT_EQ(Aspen("put", {"tx", initial}).exit_code, 0);
    Result<std::unique_ptr<ChildProcess>> etcdctl = ChildProcess::Spawn(
        {"/bin/sh", "-c", "/usr/bin/etcdctl --endpoints=" + etcd_->endpoint() + " txn < " + path},
        *dir + "/out");
    ASSERT_TRUE(etcdctl.ok()) << etcdctl.status().ToString();
    ASSERT_EQ((*etcdctl)->Wait(std::chrono::seconds(30)), std::optional<int>(0));
    std::ifstream in(*dir + "/out");
    std::stringstream theirs;
    theirs << in.rdbuf();
    std::filesystem::remove(*dir + "/out");
    EXPECT_EQ(ours.out, theirs.str()) << initial;
    EXPECT_EQ(ours.exit_code, std::string(initial) == "a" ? 0 : 2) << ours.all();
    if (std::string(initial) == "a") {
      EXPECT_EQ(ours.out, "SUCCESS\n\nOK\n\ntx\nb\n");
    }
  }
  EXPECT_EQ(Aspen("get", {"tx"}).out, "tx\nz\n");  // the failure branch wrote nothing
  std::filesystem::remove_all(*dir);
}

TEST_F(KvCliTest, UnknownLeaseExitsTwoWithEtcdctlsMessage) {
  AspenRun put = Aspen("put", {"k", "v", "--lease", "7eadbeef"});
  EXPECT_EQ(put.exit_code, 2);
  EXPECT_EQ(put.err, "Error: etcdserver: requested lease not found\n");
}

TEST_F(KvCliTest, BadFlagsExitOneAndNameTheFault) {
  AspenRun lease = Aspen("put", {"k", "v", "--lease", "xyz"});
  EXPECT_EQ(lease.exit_code, 1);
  EXPECT_NE(lease.err.find("--lease"), std::string::npos) << lease.err;
  AspenRun endpoint = RunAspen({"get", "k", "--endpoints", "unix:///x"});
  EXPECT_EQ(endpoint.exit_code, 1);
  EXPECT_NE(endpoint.err.find("--endpoints"), std::string::npos) << endpoint.err;
  AspenRun timeout = Aspen("get", {"k", "--command-timeout", "5"});
  EXPECT_EQ(timeout.exit_code, 1);
  EXPECT_NE(timeout.err.find("--command-timeout"), std::string::npos) << timeout.err;
  AspenRun missing = RunAspen({"get"});
  EXPECT_EQ(missing.exit_code, 1);  // a CLI11 usage error, mapped to 1
}

}  // namespace
}  // namespace aspen::testing
