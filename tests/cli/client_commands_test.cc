// `aspen txn|cas|lease|member|endpoint` end to end: the real binary against a
// real `aspen serve` on loopback (and the real etcdctl as a cross-check).
// Exit codes as documented in docs/API.md: 0 ok, 1 error, 2 not found or
// compare failed, 3 unavailable.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server/serve_process.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ClientCommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::string> dir = MakeTempDir("aspen-cli-cmds");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = new std::string(*dir);
    // A port that was free a moment ago and that nothing listens on.
    Result<int> dead = PickFreeLoopbackPort();
    ASSERT_TRUE(dead.ok());
    dead_endpoint_ = new std::string("127.0.0.1:" + std::to_string(*dead));
    Result<std::unique_ptr<AspenMember>> member =
        AspenMember::Start("cli", *dir_ + "/data", PickMemberPorts(), {});
    ASSERT_TRUE(member.ok()) << member.status().ToString();
    member_ = std::move(member).value().release();
  }
  static void TearDownTestSuite() {
    delete member_;
    member_ = nullptr;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
    delete dead_endpoint_;
  }
  void SetUp() override { ASSERT_NE(member_, nullptr); }

  // `aspen args... --endpoints <member>` with input on stdin (a pipe).
  static ProgramRun Aspen(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), ASPEN_BINARY);
    args.insert(args.end(), {"--endpoints", member_->endpoint()});
    return RunProgram(args, input, 30s);
  }
  static ProgramRun AspenAt(const std::string& endpoints, std::vector<std::string> args) {
    args.insert(args.begin(), ASPEN_BINARY);
    args.insert(args.end(), {"--endpoints", endpoints, "--dial-timeout", "300ms"});
    return RunProgram(args, "", 30s);
  }
  static Json ParseJson(const ProgramRun& run) {
    Json j = Json::parse(run.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not one JSON document: " << run.out;
    return j;
  }
  static std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = *dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Grants a lease with -o json and returns its hex ID.
  static std::string Grant(int ttl) {
    ProgramRun run = Aspen({"lease", "grant", std::to_string(ttl), "-o", "json"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    Json j = ParseJson(run);
    EXPECT_EQ(j["ttl"], ttl);
    EXPECT_GT(j["id"].get<std::int64_t>(), 0);
    return j.value("id_hex", "");
  }

  static AspenMember* member_;
  static std::string* dir_;
  static std::string* dead_endpoint_;
};

AspenMember* ClientCommandsTest::member_ = nullptr;
std::string* ClientCommandsTest::dir_ = nullptr;
std::string* ClientCommandsTest::dead_endpoint_ = nullptr;

constexpr const char* kSwapTxn =
    "value(\"t/k\") = \"old\"\n"
    "\n"
    "put t/k \"new\"\n"
    "get t/k\n"
    "\n"
    "get t/k\n"
    "\n";

TEST_F(ClientCommandsTest, TxnFromFileRunsSuccessBranchAndExitsZero) {
  ASSERT_EQ(Aspen({"put", "t/k", "old"}).exit_code, 0);
  ProgramRun run = Aspen({"txn", "-f", WriteFile("swap.txn", kSwapTxn)});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SUCCESS\n\nOK\n\nt/k\nnew\n");
}

TEST_F(ClientCommandsTest, TxnFromFileRunsFailureBranchAndExitsTwo) {
  ASSERT_EQ(Aspen({"put", "t/k", "other"}).exit_code, 0);
  ProgramRun run = Aspen({"txn", "-f", WriteFile("swap.txn", kSwapTxn)});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.out, "FAILURE\n\nt/k\nother\n");
}

TEST_F(ClientCommandsTest, InteractiveTxnOverStdinPipeMatchesEtcdctl) {
  const std::string txn =
      "mod(\"t/i\") = \"0\"\n\nput t/i \"first\" --prev-kv\n\nget t/i\ndel t/i --prev-kv\n\n";
  ProgramRun ours = Aspen({"txn", "-i"}, txn);
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(ours.out,
            "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n"
            "SUCCESS\n\nOK\n");
  // The same input through etcdctl now takes the failure branch (t/i exists).
  ProgramRun theirs = Etcdctl(member_->endpoint(), {"txn", "-i"}, txn);
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  ASSERT_EQ(Aspen({"put", "t/i", "first"}).exit_code, 0);
  ProgramRun again = Aspen({"txn", "-i"}, txn);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(theirs.out,
            "compares:\nsuccess requests (get, put, del):\n"
            "failure requests (get, put, del):\nFAILURE\n\nt/i\nfirst\n\n1\nt/i\nfirst\n");
  EXPECT_EQ(again.out, theirs.out);
}

TEST_F(ClientCommandsTest, TxnJsonCarriesSucceededAndEachResponse) {
  ASSERT_EQ(Aspen({"put", "t/j", "a"}).exit_code, 0);
  ProgramRun run =
      Aspen({"txn", "-o", "json"}, "version(\"t/j\") = \"1\"\n\nput t/j b\nget t/j\n\n\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json j = ParseJson(run);
  EXPECT_EQ(j["succeeded"], true);
  ASSERT_EQ(j["responses"].size(), 2u);
  const std::int64_t revision = j["header"]["revision"].get<std::int64_t>();
  const Json& kv = j["responses"][1]["response_range"]["kvs"][0];
  EXPECT_EQ(kv["key"], "dC9q");    // base64("t/j")
  EXPECT_EQ(kv["value"], "Yg==");  // base64("b")
  EXPECT_EQ(kv["mod_revision"].get<std::int64_t>(), revision);
  EXPECT_EQ(kv["version"], 2);
  EXPECT_TRUE(j["responses"][0].contains("response_put"));
}

TEST_F(ClientCommandsTest, TxnBadInputExitsOneNamesTheLineAndWritesNothing) {
  ProgramRun run = Aspen({"txn"}, "\nput t/bad v\nput t/bad\n\n");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("line 3 (success request): put expects KEY VALUE"), std::string::npos)
      << run.err;
  EXPECT_EQ(Aspen({"get", "t/bad"}).exit_code, 2);
  ProgramRun missing = Aspen({"txn", "-f", *dir_ + "/no-such-file"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
}

TEST_F(ClientCommandsTest, TxnRefusedByServerExitsOneWithEtcdctlsMessage) {
  ProgramRun run = Aspen({"txn"}, "\nput t/d 1\nput t/d 2\n\n");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "Error: etcdserver: duplicate key given in txn request\n");
}

TEST_F(ClientCommandsTest, CasSwapsOnlyWhenTheValueMatches) {
  ASSERT_EQ(Aspen({"put", "c/k", "v1"}).exit_code, 0);
  ProgramRun swapped = Aspen({"cas", "c/k", "v1", "v2"});
  ASSERT_EQ(swapped.exit_code, 0) << swapped.err;
  EXPECT_EQ(swapped.out, "OK\n");
  ProgramRun stale = Aspen({"cas", "c/k", "v1", "v3"});
  EXPECT_EQ(stale.exit_code, 2) << stale.err;
  EXPECT_EQ(stale.out.rfind("FAILED\nc/k\nv2\nmod_revision ", 0), 0u) << stale.out;
  ProgramRun json = Aspen({"cas", "c/k", "v1", "v3", "-o", "json"});
  EXPECT_EQ(json.exit_code, 2);
  Json j = ParseJson(json);
  EXPECT_EQ(j["swapped"], false);
  EXPECT_EQ(j["current"]["value"], "djI=");  // base64("v2")
  EXPECT_EQ(Aspen({"get", "c/k"}).out, "c/k\nv2\n");
}

TEST_F(ClientCommandsTest, CasOnModRevisionAndCreateIfAbsent) {
  ProgramRun created = Aspen({"cas", "c/new", "first", "--create", "-o", "json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  Json c = ParseJson(created);
  EXPECT_EQ(c["swapped"], true);
  const std::int64_t rev = c["header"]["revision"].get<std::int64_t>();
  ProgramRun again = Aspen({"cas", "c/new", "second", "--create", "-o", "json"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(ParseJson(again)["current"]["mod_revision"].get<std::int64_t>(), rev);
  EXPECT_EQ(Aspen({"cas", "c/new", "x", "--mod-rev", std::to_string(rev + 1000)}).exit_code, 2);
  ProgramRun by_rev = Aspen({"cas", "c/new", "third", "--mod-rev", std::to_string(rev)});
  EXPECT_EQ(by_rev.exit_code, 0) << by_rev.err;
  EXPECT_EQ(Aspen({"get", "c/new"}).out, "c/new\nthird\n");
  // Absent key: JSON "current" is null.
  ProgramRun absent = Aspen({"cas", "c/none", "x", "y", "-o", "json"});
  EXPECT_EQ(absent.exit_code, 2);
  EXPECT_TRUE(ParseJson(absent)["current"].is_null());
}

TEST_F(ClientCommandsTest, CasUsageErrorsExitOne) {
  ProgramRun two = Aspen({"cas", "c/k", "v"});
  EXPECT_EQ(two.exit_code, 1);
  EXPECT_NE(two.err.find("expects KEY EXPECTED NEW"), std::string::npos) << two.err;
  ProgramRun both = Aspen({"cas", "c/k", "v", "--create", "--mod-rev", "3"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("exclude each other"), std::string::npos) << both.err;
  EXPECT_EQ(Aspen({"cas", "c/k", "a", "b", "--output", "yaml"}).exit_code, 1);
}

TEST_F(ClientCommandsTest, LeaseLifecycleGrantAttachTimeToLiveListRevoke) {
  const std::string id = Grant(60);
  ASSERT_EQ(id.size(), 16u);
  ASSERT_EQ(Aspen({"put", "l/k", "v", "--lease", id}).exit_code, 0);

  ProgramRun ttl = Aspen({"lease", "timetolive", id, "--keys"});
  ASSERT_EQ(ttl.exit_code, 0) << ttl.err;
  EXPECT_EQ(ttl.out.rfind("lease " + id + " granted with TTL(60s), remaining(", 0), 0u) << ttl.out;
  EXPECT_NE(ttl.out.find(", attached keys([l/k])\n"), std::string::npos) << ttl.out;
  Json tj = ParseJson(Aspen({"lease", "timetolive", id, "--keys", "-o", "json"}));
  EXPECT_EQ(tj["granted_ttl"], 60);
  EXPECT_LE(tj["ttl"].get<std::int64_t>(), 60);
  EXPECT_EQ(tj["keys"], Json::array({"bC9r"}));  // base64("l/k")

  ProgramRun list = Aspen({"lease", "list"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("\n" + id + "\n"), std::string::npos) << list.out;
  Json lj = ParseJson(Aspen({"lease", "list", "-o", "json"}));
  bool listed = false;
  for (const Json& l : lj["leases"]) listed = listed || l["id_hex"] == id;
  EXPECT_TRUE(listed) << lj.dump();

  ProgramRun once = Aspen({"lease", "keep-alive", id, "--once"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(once.out, "lease " + id + " keepalived with TTL(60)\n");

  ProgramRun revoke = Aspen({"lease", "revoke", id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(revoke.out, "lease " + id + " revoked\n");
  EXPECT_EQ(Aspen({"get", "l/k"}).exit_code, 2);  // its key went with it

  ProgramRun gone = Aspen({"lease", "timetolive", id});
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_EQ(gone.out, "lease " + id + " already expired\n");
  ProgramRun revoke_again = Aspen({"lease", "revoke", id});
  EXPECT_EQ(revoke_again.exit_code, 2);
  EXPECT_EQ(revoke_again.err,
            "Error: failed to revoke lease (etcdserver: requested lease not found)\n");
  ProgramRun keep_once = Aspen({"lease", "keep-alive", id, "--once"});
  EXPECT_EQ(keep_once.exit_code, 2);
  EXPECT_EQ(keep_once.err, "Error: etcdserver: requested lease not found\n");
  ProgramRun keep_gone = Aspen({"lease", "keep-alive", id});
  EXPECT_EQ(keep_gone.exit_code, 2);
  EXPECT_EQ(keep_gone.out, "lease " + id + " expired or revoked.\n");
}

TEST_F(ClientCommandsTest, LeaseOutputMatchesEtcdctl) {
  const std::string id = Grant(30);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"lease", "timetolive", id},
        std::vector<std::string>{"lease", "keep-alive", "--once", id}}) {
    ProgramRun ours = Aspen(args);
    ProgramRun theirs = Etcdctl(member_->endpoint(), args);
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    // The remaining TTL may tick between the two calls; compare the shape.
    EXPECT_EQ(ours.out.substr(0, 28), theirs.out.substr(0, 28)) << ours.out << theirs.out;
  }
  EXPECT_EQ(Aspen({"lease", "revoke", id}).out, "lease " + id + " revoked\n");
}

TEST_F(ClientCommandsTest, LeaseKeepAliveStreamsUntilSigint) {
  const std::string id = Grant(2);  // renewed every 666 ms
  const std::string out = *dir_ + "/keepalive.out";
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(
      {ASPEN_BINARY, "lease", "keep-alive", id, "--endpoints", member_->endpoint()}, out,
      *dir_ + "/keepalive.err");
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  const std::string line = "lease " + id + " keepalived with TTL(2)\n";
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::size_t lines = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = ReadAll(out);
    lines = 0;
    for (std::size_t at = text.find(line); at != std::string::npos; at = text.find(line, at + 1)) {
      ++lines;
    }
    if (lines >= 4) break;
    std::this_thread::sleep_for(100ms);
  }
  // Four renewals span more than the 2 s TTL: the lease lives only because of them.
  ASSERT_GE(lines, 4u) << ReadAll(out) << ReadAll(*dir_ + "/keepalive.err");
  EXPECT_EQ(Aspen({"lease", "timetolive", id}).exit_code, 0);
  (*child)->Stop(SIGINT, 5000ms);
  EXPECT_EQ((*child)->Wait(0ms), std::optional<int>(0));
  EXPECT_EQ(Aspen({"lease", "revoke", id}).exit_code, 0);
}

TEST_F(ClientCommandsTest, MemberListAndEndpointStatusAgreeInJson) {
  ProgramRun members = Aspen({"member", "list", "-o", "json"});
  ASSERT_EQ(members.exit_code, 0) << members.err;
  Json m = ParseJson(members);
  ASSERT_EQ(m["members"].size(), 1u);
  EXPECT_EQ(m["members"][0]["name"], "cli");
  EXPECT_EQ(m["members"][0]["client_urls"], Json::array({"http://" + member_->endpoint()}));
  ProgramRun status = Aspen({"endpoint", "status", "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  Json s = ParseJson(status);
  ASSERT_EQ(s["endpoints"].size(), 1u);
  const Json& row = s["endpoints"][0];
  EXPECT_EQ(row["endpoint"], member_->endpoint());
  EXPECT_EQ(row["is_leader"], true);
  EXPECT_EQ(row["member_id_hex"], m["members"][0]["id_hex"]);
  EXPECT_EQ(row["header"]["member_id"], m["members"][0]["id"]);
  EXPECT_GE(row["raft_applied_index"].get<std::uint64_t>(), 1u);
  // Table form: etcdctl's simple rows.
  ProgramRun table = Aspen({"member", "list"});
  EXPECT_EQ(table.out, Etcdctl(member_->endpoint(), {"member", "list"}).out);
  ProgramRun status_table = Aspen({"endpoint", "status"});
  EXPECT_EQ(
      status_table.out.rfind(
          member_->endpoint() + ", " + m["members"][0]["id_hex"].get<std::string>() + ", ", 0),
      0u)
      << status_table.out;
}

TEST_F(ClientCommandsTest, EndpointHealthWithOneDeadEndpointExitsThree) {
  const std::string live = member_->endpoint();
  ProgramRun healthy = AspenAt(live, {"endpoint", "health"});
  EXPECT_EQ(healthy.exit_code, 0) << healthy.err;
  EXPECT_EQ(healthy.out.rfind(live + " is healthy: successfully committed proposal: took = ", 0),
            0u)
      << healthy.out;

  ProgramRun mixed = AspenAt(live + "," + *dead_endpoint_, {"endpoint", "health", "-o", "json"});
  EXPECT_EQ(mixed.exit_code, 3) << mixed.err;
  Json j = ParseJson(mixed);
  ASSERT_EQ(j["endpoints"].size(), 2u);
  EXPECT_EQ(j["endpoints"][0]["endpoint"], live);
  EXPECT_EQ(j["endpoints"][0]["health"], true);
  EXPECT_EQ(j["endpoints"][1]["endpoint"], *dead_endpoint_);
  EXPECT_EQ(j["endpoints"][1]["health"], false);
  EXPECT_TRUE(j["endpoints"][1]["error"].is_string());

  ProgramRun table = AspenAt(*dead_endpoint_ + "," + live, {"endpoint", "status"});
  EXPECT_EQ(table.exit_code, 3);
  EXPECT_EQ(table.out.rfind(live + ", ", 0), 0u) << table.out;  // the live row still printed
  EXPECT_NE(table.err.find(*dead_endpoint_), std::string::npos) << table.err;
}

TEST_F(ClientCommandsTest, EveryCommandExitsThreeWhenNoEndpointAnswers) {
  const std::vector<std::vector<std::string>> commands = {
      {"get", "k"},      {"put", "k", "v"},  {"cas", "k", "a", "b"}, {"lease", "grant", "5"},
      {"lease", "list"}, {"member", "list"}, {"endpoint", "status"}, {"endpoint", "health"}};
  for (const std::vector<std::string>& args : commands) {
    ProgramRun run = AspenAt(*dead_endpoint_, args);
    EXPECT_EQ(run.exit_code, 3) << args[0] << " " << args[1] << ": " << run.err;
    if (args[1] == "health") {
      EXPECT_NE(run.out.find(" is unhealthy: "), std::string::npos) << run.out;  // its row
    } else {
      EXPECT_EQ(run.out, "") << args[0];
    }
  }
}

TEST_F(ClientCommandsTest, FailoverSkipsADeadEndpointForReads) {
  ASSERT_EQ(Aspen({"put", "f/k", "v"}).exit_code, 0);
  ProgramRun run = AspenAt(*dead_endpoint_ + "," + member_->endpoint(), {"get", "f/k"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "f/k\nv\n");
}

TEST_F(ClientCommandsTest, EndpointsComeFromTheEnvironmentWhenNotGiven) {
  ASSERT_EQ(Aspen({"put", "env/k", "v"}).exit_code, 0);
  ProgramRun run = RunProgram({ASPEN_BINARY, "get", "env/k"}, "", 30s,
                              {"ASPEN_ENDPOINTS=" + member_->endpoint()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "env/k\nv\n");
  // The flag wins over the environment.
  ProgramRun flag = RunProgram({ASPEN_BINARY, "get", "env/k", "--endpoints", member_->endpoint()},
                               "", 30s, {"ASPEN_ENDPOINTS=" + *dead_endpoint_});
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
}

TEST_F(ClientCommandsTest, BadCommonFlagsExitOne) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"lease", "list", "--command-timeout", "5"},
        std::vector<std::string>{"member", "list", "--dial-timeout", "1h"},
        std::vector<std::string>{"lease", "revoke", "xyz"},
        std::vector<std::string>{"lease", "grant", "0"},
        std::vector<std::string>{"endpoint", "bogus"}}) {
    ProgramRun run = Aspen(args);
    EXPECT_EQ(run.exit_code, 1) << args[0] << " " << args[1] << ": " << run.out << run.err;
  }
}

// `aspen <flags> cmd...` and `aspen cmd... <flags>`: etcdctl's global flags in
// both places, for every client command (the same answer both ways).
class GlobalFlagsCliTest : public ClientCommandsTest {
 protected:
  // The client flags before the command words, then after them.
  static std::pair<ProgramRun, ProgramRun> BothWays(const std::vector<std::string>& command,
                                                    const std::vector<std::string>& flags,
                                                    std::chrono::milliseconds timeout = 30s) {
    std::vector<std::string> before = {ASPEN_BINARY};
    before.insert(before.end(), flags.begin(), flags.end());
    before.insert(before.end(), command.begin(), command.end());
    std::vector<std::string> after = {ASPEN_BINARY};
    after.insert(after.end(), command.begin(), command.end());
    after.insert(after.end(), flags.begin(), flags.end());
    return {RunProgram(before, "", timeout), RunProgram(after, "", timeout)};
  }
  std::vector<std::string> JsonAt() const {
    return {"--endpoints", member_->endpoint(), "--dial-timeout", "2s", "-o", "json"};
  }
};

TEST_F(GlobalFlagsCliTest, KvLeaseMemberAndMaintenanceCommandsAnswerTheSameBothWays) {
  ASSERT_EQ(Aspen({"put", "g/k", "v"}).exit_code, 0);
  const std::vector<std::vector<std::string>> commands = {
      {"get", "g/k"},
      {"member", "list"},
      {"endpoint", "health"},
      {"alarm", "list"},
      {"sql", "SELECT key, value FROM kv WHERE key = 'g/k'"},
      {"verify", "--attempts", "3"},                // HashKV of the one member
      {"lease", "timetolive", "7fffffffffffffff"},  // unknown lease: exit 2 both ways
      {"member", "remove", "7fffffffffffffff"},     // unknown member: refused both ways
  };
  for (const std::vector<std::string>& command : commands) {
    auto [before, after] = BothWays(command, JsonAt());
    const std::string what = command[0] + " " + command[1];
    EXPECT_EQ(before.exit_code, after.exit_code) << what << ": " << before.err << after.err;
    EXPECT_NE(before.exit_code, 1) << what << ": " << before.err;  // not a usage error
    if (command[0] == "endpoint") {  // took_ms differs from run to run
      EXPECT_EQ(ParseJson(before)["endpoints"][0]["health"], true) << before.out;
      EXPECT_EQ(ParseJson(after)["endpoints"][0]["health"], true) << after.out;
    } else {
      EXPECT_EQ(before.out, after.out) << what;
    }
    if (before.exit_code == 0) {
      EXPECT_TRUE(ParseJson(before).is_object()) << what << before.out;
    }
  }
  // The first: a JSON get that found the key, so the flags reached the command.
  auto [get, unused] = BothWays({"get", "g/k"}, JsonAt());
  EXPECT_EQ(ParseJson(get)["count"], 1) << get.out;
  auto [defrag_before, defrag_after] = BothWays({"defrag"}, JsonAt());
  for (const ProgramRun* run : {&defrag_before, &defrag_after}) {
    ASSERT_EQ(run->exit_code, 0) << run->err;
    EXPECT_EQ(ParseJson(*run), Json::parse(R"({"endpoints": [{"endpoint": ")" +
                                           member_->endpoint() + R"(", "ok": true}]})"));
  }
}

TEST_F(GlobalFlagsCliTest, WritesAndTransactionsTakeFlagsBeforeTheCommand) {
  ProgramRun put = RunProgram(
      {ASPEN_BINARY, "--endpoints", member_->endpoint(), "-w", "json", "put", "g/w", "1"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_TRUE(ParseJson(put)["header"]["revision"].is_number()) << put.out;
  ProgramRun cas = RunProgram({ASPEN_BINARY, "--endpoints", member_->endpoint(),
                               "--command-timeout", "3s", "cas", "g/w", "1", "2"});
  EXPECT_EQ(cas.exit_code, 0) << cas.err;
  ProgramRun txn = RunProgram({ASPEN_BINARY, "--endpoints", member_->endpoint(), "txn"},
                              "value(\"g/w\") = \"2\"\n\nget g/w\n\n\n");
  EXPECT_EQ(txn.exit_code, 0) << txn.err;
  EXPECT_EQ(txn.out, "SUCCESS\n\ng/w\n2\n");
  ProgramRun lease = RunProgram({ASPEN_BINARY, "--endpoints", member_->endpoint(), "lease",
                                 "--write-out", "json", "grant", "30"});
  ASSERT_EQ(lease.exit_code, 0) << lease.err;
  EXPECT_EQ(ParseJson(lease)["ttl"], 30);
}

TEST_F(GlobalFlagsCliTest, WatchTakesFlagsBothWays) {
  ProgramRun put = Aspen({"put", "g/watch", "w1", "-o", "json"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  const std::int64_t rev = ParseJson(put)["header"]["revision"].get<std::int64_t>();
  // From the put's revision on, until the deadline ends it.
  auto [before, after] =
      BothWays({"watch", "g/watch", "--rev", std::to_string(rev)}, JsonAt(), 1500ms);
  for (const ProgramRun* run : {&before, &after}) {
    Json j = Json::parse(run->out.substr(0, run->out.find('\n')), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << run->out << run->err;
    ASSERT_EQ(j["events"].size(), 1u) << run->out;
    EXPECT_EQ(j["events"][0]["kv"]["value"], "dzE=");  // "w1"
  }
}

TEST_F(GlobalFlagsCliTest, BenchTakesFlagsBothWays) {
  auto [before, after] =
      BothWays({"bench", "--workload", "get", "--total", "20", "--keys", "10"}, JsonAt());
  for (const ProgramRun* run : {&before, &after}) {
    ASSERT_EQ(run->exit_code, 0) << run->err;
    Json j = ParseJson(*run);
    EXPECT_EQ(j["endpoints"], Json::array({member_->endpoint()})) << run->out;
  }
  ProgramRun bad = RunProgram({ASPEN_BINARY, "--command-timeout", "7", "bench"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("aspen bench: --command-timeout: "), std::string::npos) << bad.err;
}

TEST_F(GlobalFlagsCliTest, SnapshotSaveAndStatusTakeFlagsBothWays) {
  const std::string file = *dir_ + "/global-flags.snap";
  ProgramRun save =
      RunProgram({ASPEN_BINARY, "--endpoints", member_->endpoint(), "snapshot", "save", file});
  ASSERT_EQ(save.exit_code, 0) << save.err;
  auto [before, after] = BothWays({"snapshot", "status", file}, {"-o", "json"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.out, after.out);
  EXPECT_TRUE(ParseJson(before).contains("revision")) << before.out;
  // status is offline: it takes -o but not --endpoints, before or after.
  auto [bad_before, bad_after] =
      BothWays({"snapshot", "status", file}, {"--endpoints", member_->endpoint()});
  EXPECT_EQ(bad_before.exit_code, 1);
  EXPECT_EQ(bad_before.err.rfind("aspen snapshot status: unknown flag --endpoints", 0), 0u)
      << bad_before.err;
  EXPECT_EQ(bad_after.exit_code, 1);
  EXPECT_EQ(bad_after.err.rfind("aspen snapshot status: unknown flag --endpoints", 0), 0u)
      << bad_after.err;
}

TEST_F(GlobalFlagsCliTest, UsageErrorsNameTheFlagAndTheCommandAndExitOne) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"get", "k", "--bogus"}, "aspen get: unknown flag --bogus\n"},
      {{"--bogus=1", "member", "list"}, "aspen member list: unknown flag --bogus\n"},
      {{"--endpoints", "127.0.0.1:1", "serve"},
       "aspen serve: unknown flag --endpoints (aspen serve does not take it)\n"},
      {{"-o", "csv", "get", "k"}, "aspen get: --output: csv not in {table,json}\n"},
      {{"lease", "nope"}, "aspen lease: unknown command 'nope'\n"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {ASPEN_BINARY};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ProgramRun run = RunProgram(argv);
    EXPECT_EQ(run.exit_code, 1) << c.err;
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(run.err.rfind(c.err, 0), 0u) << run.err;
  }
}

TEST_F(GlobalFlagsCliTest, HelpNamesTheGlobalFlagsAndEachCommandsOwn) {
  ProgramRun root = RunProgram({ASPEN_BINARY, "help"});
  ASSERT_EQ(root.exit_code, 0) << root.err;
  for (const char* flag : {"--endpoints", "--dial-timeout", "--command-timeout", "--write-out"}) {
    EXPECT_NE(root.out.find(flag), std::string::npos) << flag;
  }
  ProgramRun sub = RunProgram({ASPEN_BINARY, "help", "member", "add"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_NE(sub.out.find("Usage: aspen member add"), std::string::npos) << sub.out;
  EXPECT_NE(sub.out.find("--peer-urls"), std::string::npos) << sub.out;
  ProgramRun flag = RunProgram({ASPEN_BINARY, "member", "add", "--help"});
  EXPECT_EQ(flag.exit_code, 0);
  EXPECT_NE(flag.out.find("--peer-urls"), std::string::npos) << flag.out;
}

// A refusal from the server prints exactly what etcdctl prints for it (both
// against the same member); the exit code follows docs/API.md's scheme
// (2 for "not found", where etcdctl exits 1).
TEST_F(ClientCommandsTest, ServerRefusalsPrintEtcdctlsErrorLine) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {{"put", "e/k", "v", "--lease=7eadbeef"}, 2},
      {{"lease", "revoke", "7eadbeef"}, 2},
      {{"lease", "keep-alive", "--once", "7eadbeef"}, 2},
      {{"get", "e/k", "--rev=99999999"}, 1},
      {{"put", "", "v"}, 1},
      {{"member", "remove", "1234"}, 2},
      {{"member", "promote", "1234"}, 2},
  };
  for (const Case& c : cases) {
    ProgramRun ours = Aspen(c.args);
    ProgramRun theirs = Etcdctl(member_->endpoint(), c.args);
    std::string want;  // etcdctl's stderr without its client library's log lines
    std::istringstream lines(theirs.err);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("{\"level\"")) want += line + "\n";
    }
    EXPECT_EQ(ours.err, want) << c.args[0] << " " << c.args[1];
    EXPECT_TRUE(want.starts_with("Error: ")) << want;
    EXPECT_EQ(ours.exit_code, c.exit_code) << c.args[0] << " " << c.args[1];
    EXPECT_EQ(ours.out, "");
  }
}

}  // namespace
}  // namespace aspen::testing
