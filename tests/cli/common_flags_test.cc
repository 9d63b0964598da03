// cli/common.h's global flags: the client flags accepted before the command,
// between a group and its command, or after it (as etcdctl's global flags),
// which value wins, $ASPEN_ENDPOINTS, and the usage errors that name the flag
// and the command. A small CLI11 tree shaped like `aspen`'s, parsed in process.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "cli/common.h"

namespace aspen::cli {
namespace {

// aspen get KEY | lease grant TTL | sql [STATEMENT] (-o table|json|csv) |
// serve [--name N] (no client flags) | help.
struct Tree {
  CLI::App app{"test"};
  ClientFlags get, grant, sql;
  std::string key, name, statement;
  int ttl = 0;
  std::string ran;  // the command whose callback ran

  Tree() {
    app.require_subcommand(1);
    CLI::App* get_cmd = app.add_subcommand("get", "get");
    get_cmd->add_option("key", key)->required();
    AddClientFlags(get_cmd, get);
    get_cmd->callback([this] { ran = "get"; });
    CLI::App* lease = app.add_subcommand("lease", "lease");
    lease->require_subcommand(1);
    CLI::App* grant_cmd = lease->add_subcommand("grant", "grant");
    grant_cmd->add_option("ttl", ttl)->required();
    AddClientFlags(grant_cmd, grant);
    grant_cmd->callback([this] { ran = "lease grant"; });
    CLI::App* sql_cmd = app.add_subcommand("sql", "sql");
    sql_cmd->add_option("statement", statement);
    AddClientFlags(sql_cmd, sql, {"table", "json", "csv"});
    sql_cmd->callback(
        [this, sql_cmd] { ran = CommandTimeoutGiven(*sql_cmd) ? "sql with timeout" : "sql"; });
    CLI::App* serve = app.add_subcommand("serve", "serve");
    serve->add_option("--name", name);
    serve->callback([this] { ran = "serve"; });
    AddHelpCommand(app);
    AddGlobalFlags(app);
  }

  // Parses argv (without the program name); returns the exit code main()
  // would return on a usage error, 0 otherwise. *err: what it printed.
  int Run(std::vector<std::string> args, std::string* err = nullptr, std::string* out = nullptr) {
    args.insert(args.begin(), "aspen");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    int code = 0;
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      code = ReportParseError(app, e);
    }
    const std::string printed_err = ::testing::internal::GetCapturedStderr();
    const std::string printed_out = ::testing::internal::GetCapturedStdout();
    if (err != nullptr) *err = printed_err;
    if (out != nullptr) *out = printed_out;
    return code;
  }
};

// Unsets $ASPEN_ENDPOINTS for one test and restores it.
class CommonFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = ::getenv("ASPEN_ENDPOINTS"); v != nullptr) saved_ = v;
    ::unsetenv("ASPEN_ENDPOINTS");
  }
  void TearDown() override {
    if (saved_.empty()) {
      ::unsetenv("ASPEN_ENDPOINTS");
    } else {
      ::setenv("ASPEN_ENDPOINTS", saved_.c_str(), 1);
    }
  }
  std::string saved_;
};

TEST_F(CommonFlagsTest, FlagsBeforeTheCommandReachIt) {
  Tree t;
  ASSERT_EQ(t.Run({"--endpoints", "a:1", "--dial-timeout=1s", "--command-timeout", "3s", "-o",
                   "json", "get", "k"}),
            0);
  EXPECT_EQ(t.ran, "get");
  EXPECT_EQ(t.key, "k");
  EXPECT_EQ(t.get.endpoints, "a:1");
  EXPECT_EQ(t.get.dial_timeout, "1s");
  EXPECT_EQ(t.get.command_timeout, "3s");
  EXPECT_TRUE(t.get.json());
}

TEST_F(CommonFlagsTest, FlagsAfterTheCommandAndItsArgumentsStillWork) {
  Tree t;
  ASSERT_EQ(t.Run({"get", "--endpoints", "a:1", "k", "-w", "json", "--dial-timeout", "1s"}), 0);
  EXPECT_EQ(t.key, "k");
  EXPECT_EQ(t.get.endpoints, "a:1");
  EXPECT_EQ(t.get.dial_timeout, "1s");
  EXPECT_EQ(t.get.command_timeout, "5s");  // the default
  EXPECT_TRUE(t.get.json());
}

TEST_F(CommonFlagsTest, FlagsBetweenAGroupAndItsCommandWork) {
  Tree t;
  ASSERT_EQ(t.Run({"lease", "--endpoints", "g:1", "--write-out", "json", "grant", "10"}), 0);
  EXPECT_EQ(t.ran, "lease grant");
  EXPECT_EQ(t.ttl, 10);
  EXPECT_EQ(t.grant.endpoints, "g:1");
  EXPECT_TRUE(t.grant.json());
}

TEST_F(CommonFlagsTest, TheValueTypedNearestTheCommandWins) {
  {
    Tree t;
    ASSERT_EQ(t.Run({"--endpoints", "r:1", "lease", "--endpoints", "g:1", "grant", "10",
                     "--endpoints", "c:1"}),
              0);
    EXPECT_EQ(t.grant.endpoints, "c:1");
  }
  {
    Tree t;
    ASSERT_EQ(t.Run({"--endpoints", "r:1", "lease", "--endpoints", "g:1", "grant", "10"}), 0);
    EXPECT_EQ(t.grant.endpoints, "g:1");
  }
  {
    Tree t;  // repeated before the command: the last one, as etcdctl
    ASSERT_EQ(t.Run({"--endpoints", "r:1", "--endpoints", "r:2", "get", "k"}), 0);
    EXPECT_EQ(t.get.endpoints, "r:2");
  }
}

TEST_F(CommonFlagsTest, EnvironmentFillsEndpointsOnlyWhenNoFlagIsGiven) {
  ::setenv("ASPEN_ENDPOINTS", "env:1", 1);
  {
    Tree t;
    ASSERT_EQ(t.Run({"get", "k"}), 0);
    EXPECT_EQ(t.get.endpoints, "env:1");
  }
  {
    Tree t;
    ASSERT_EQ(t.Run({"--endpoints", "r:1", "get", "k"}), 0);
    EXPECT_EQ(t.get.endpoints, "r:1");
  }
  {
    Tree t;
    ASSERT_EQ(t.Run({"get", "k", "--endpoints", "c:1"}), 0);
    EXPECT_EQ(t.get.endpoints, "c:1");
  }
  {
    Tree t;  // a command without --endpoints ignores the variable
    ASSERT_EQ(t.Run({"serve", "--name", "n"}), 0);
    EXPECT_EQ(t.ran, "serve");
  }
  ::setenv("ASPEN_ENDPOINTS", "", 1);  // set but empty: as if unset
  {
    Tree t;
    ASSERT_EQ(t.Run({"get", "k"}), 0);
    EXPECT_EQ(t.get.endpoints, "127.0.0.1:2379");
  }
  ::unsetenv("ASPEN_ENDPOINTS");
  Tree t;
  ASSERT_EQ(t.Run({"get", "k"}), 0);
  EXPECT_EQ(t.get.endpoints, "127.0.0.1:2379");
}

TEST_F(CommonFlagsTest, CommandTimeoutBeforeTheCommandCountsAsGiven) {
  Tree t;
  ASSERT_EQ(t.Run({"--command-timeout", "2s", "sql", "SELECT 1"}), 0);
  EXPECT_EQ(t.ran, "sql with timeout");
  Tree u;
  ASSERT_EQ(u.Run({"sql", "SELECT 1"}), 0);
  EXPECT_EQ(u.ran, "sql");
}

TEST_F(CommonFlagsTest, OutputBeforeTheCommandIsCheckedAgainstItsChoices) {
  Tree t;
  std::string err;
  EXPECT_EQ(t.Run({"-o", "csv", "get", "k"}, &err), 1);
  EXPECT_EQ(t.ran, "");  // the command did not run
  EXPECT_EQ(err.rfind("aspen get: --output: csv not in {table,json}", 0), 0u) << err;
  Tree u;
  ASSERT_EQ(u.Run({"-o", "csv", "sql", "SELECT 1"}), 0);
  EXPECT_EQ(u.sql.output, "csv");
}

TEST_F(CommonFlagsTest, AGlobalFlagBeforeACommandThatDoesNotTakeItNamesBoth) {
  Tree t;
  std::string err;
  EXPECT_EQ(t.Run({"--endpoints", "a:1", "serve"}, &err), 1);
  EXPECT_EQ(t.ran, "");
  EXPECT_EQ(err,
            "aspen serve: unknown flag --endpoints (aspen serve does not take it)\n"
            "Run 'aspen serve --help' for usage.\n");
  Tree u;
  EXPECT_EQ(u.Run({"serve", "--endpoints", "a:1"}, &err), 1);
  EXPECT_EQ(err.rfind("aspen serve: unknown flag --endpoints\n", 0), 0u) << err;
}

TEST_F(CommonFlagsTest, UnknownFlagsAndWordsNameThemAndTheCommand) {
  std::string err;
  Tree a;
  EXPECT_EQ(a.Run({"get", "k", "--bogus=1"}, &err), 1);
  EXPECT_EQ(err.rfind("aspen get: unknown flag --bogus\n", 0), 0u) << err;
  Tree b;
  EXPECT_EQ(b.Run({"lease", "grant", "5", "--nope"}, &err), 1);
  EXPECT_EQ(err.rfind("aspen lease grant: unknown flag --nope\n", 0), 0u) << err;
  Tree c;
  EXPECT_EQ(c.Run({"--nope", "get", "k"}, &err), 1);
  EXPECT_EQ(err.rfind("aspen get: unknown flag --nope\n", 0), 0u) << err;
  Tree d;
  EXPECT_EQ(d.Run({"lease", "bogus"}, &err), 1);
  EXPECT_EQ(err.rfind("aspen lease: unknown command 'bogus'\n", 0), 0u) << err;
  Tree e;
  EXPECT_EQ(e.Run({"get", "k", "extra"}, &err), 1);
  EXPECT_EQ(err.rfind("aspen get: unexpected argument 'extra'\n", 0), 0u) << err;
  EXPECT_EQ(a.ran + b.ran + c.ran + d.ran + e.ran, "");
}

TEST_F(CommonFlagsTest, HelpCommandPrintsTheHelpOfTheCommandNamed) {
  std::string out;
  std::string err;
  Tree t;
  EXPECT_EQ(t.Run({"help", "lease", "grant"}, &err, &out), 0);
  EXPECT_NE(out.find("Usage: aspen lease grant [OPTIONS] ttl"), std::string::npos) << out;
  EXPECT_NE(out.find("--endpoints"), std::string::npos) << out;
  EXPECT_NE(out.find("may also stand before"), std::string::npos) << out;  // the footer
  Tree u;
  EXPECT_EQ(u.Run({"help"}, &err, &out), 0);
  EXPECT_NE(out.find("Usage: aspen [OPTIONS] SUBCOMMAND"), std::string::npos) << out;
  EXPECT_NE(out.find("--write-out"), std::string::npos) << out;  // the global flags
  Tree v;
  EXPECT_EQ(v.Run({"help", "nope"}, &err, &out), 1);
  EXPECT_NE(err.find("unknown command \"nope\""), std::string::npos) << err;
}

TEST(CliCommonTest, MemberIdsAreUnpaddedHexAndParseBack) {
  EXPECT_EQ(Hex(0x8e9e05c52164694d), "8e9e05c52164694d");
  EXPECT_EQ(Hex(0xabc), "abc");
  EXPECT_EQ(Hex(0xabc, 8), "00000abc");
  EXPECT_EQ(*ParseMemberHex("8e9e05c52164694d"), 0x8e9e05c52164694du);
  for (const char* bad : {"", "0", "xyz", "1 ", "10000000000000000"}) {
    EXPECT_FALSE(ParseMemberHex(bad).ok()) << bad;
  }
}

TEST(CliCommonTest, KvJsonLeavesOutZeroFieldsAsEtcdctlDoes) {
  mvccpb::KeyValue deleted;  // a watch's DELETE event: key and mod_revision only
  deleted.set_key("k");
  deleted.set_mod_revision(7);
  EXPECT_EQ(KvJson(deleted).dump(), R"({"key":"aw==","mod_revision":7})");
  mvccpb::KeyValue live = deleted;
  live.set_create_revision(5);
  live.set_version(2);
  live.set_value("v");
  live.set_lease(9);
  EXPECT_EQ(KvJson(live).dump(),
            R"({"create_revision":5,"key":"aw==","lease":9,"mod_revision":7,"value":"dg==",)"
            R"("version":2})");
}

}  // namespace
}  // namespace aspen::cli
