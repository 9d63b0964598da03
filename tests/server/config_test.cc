// ServeConfig validation, URL parsing, member identity and member.json.
#include "server/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "proc/etcd_fixture.h"

namespace aspen::server {
namespace {

TEST(ConfigTest, ListenUrlsMustBeHttpWithNumericHostAndPort) {
  Result<HostPort> ok = ParseListenUrl("http://127.0.0.1:2379/", "--x");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->target(), "127.0.0.1:2379");
  EXPECT_EQ(ParseListenUrl("http://localhost:1", "--x")->host, "127.0.0.1");
  for (const char* bad : {"https://127.0.0.1:1", "127.0.0.1:1", "http://127.0.0.1", "http://h:1",
                          "http://127.0.0.1:0", "http://127.0.0.1:70000", "http://127.0.0.1:1/p",
                          "http://127.0.0.1:x"}) {
    Result<HostPort> r = ParseListenUrl(bad, "--listen-peer-urls");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind("--listen-peer-urls: \"", 0), 0u) << r.status().message();
  }
  EXPECT_NE(ParseListenUrl("https://127.0.0.1:1", "--x").status().message().find("TLS"),
            std::string::npos);
}

TEST(ConfigTest, DefaultsAreValidAndTimingsAreChecked) {
  ServeConfig c;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.election_timeout_ms = 4 * c.heartbeat_interval_ms;
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = ServeConfig{};
  c.initial_cluster_state = "old";
  EXPECT_NE(ValidateConfig(c).message().find("--initial-cluster-state"), std::string::npos);
}

TEST(ConfigTest, SplitListTrimsAndDropsEmptyItems) {
  EXPECT_EQ(SplitList(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitList("").empty());
}

TEST(ConfigTest, DefaultIdentityIsASingleMemberCluster) {
  ServeConfig c;
  Result<Identity> id = NewIdentity(c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_EQ(id->members.size(), 1u);
  EXPECT_EQ(id->members[0].name, "default");
  EXPECT_EQ(id->members[0].peer_url, "http://127.0.0.1:2380");
  EXPECT_EQ(id->member_id, MemberIdFor("default", "http://127.0.0.1:2380", "aspen-cluster"));
  EXPECT_NE(id->cluster_id, 0u);
}

TEST(ConfigTest, IdsDependOnNameUrlAndTokenOnly) {
  const auto a = MemberIdFor("n1", "http://127.0.0.1:1", "t");
  EXPECT_EQ(a, MemberIdFor("n1", "http://127.0.0.1:1", "t"));
  EXPECT_NE(a, MemberIdFor("n2", "http://127.0.0.1:1", "t"));
  EXPECT_NE(a, MemberIdFor("n1", "http://127.0.0.1:2", "t"));
  EXPECT_NE(a, MemberIdFor("n1", "http://127.0.0.1:1", "u"));
  std::vector<MemberEntry> m = {{1, "a", "x"}, {2, "b", "y"}};
  std::vector<MemberEntry> reversed = {m[1], m[0]};
  EXPECT_EQ(ClusterIdFor(m, "t"), ClusterIdFor(reversed, "t"));
  EXPECT_NE(ClusterIdFor(m, "t"), ClusterIdFor(m, "u"));
}

TEST(ConfigTest, InitialClusterErrorsNameTheFault) {
  ServeConfig c;
  c.name = "n1";
  c.listen_peer_urls = {"http://127.0.0.1:1"};
  struct Case {
    const char* cluster;
    const char* message;
  };
  const Case cases[] = {
      {"n1", "is not NAME=URL"},
      {"n2=http://127.0.0.1:1", "has no member named \"n1\""},
      {"n1=http://127.0.0.1:1,n1=http://127.0.0.1:2", "appears twice"},
      {"n1=http://127.0.0.1:1,n2=http://127.0.0.1:1", "appears twice"},
      {"n1=http://127.0.0.1:9", "not among --initial-advertise-peer-urls"},
      {"n1=https://127.0.0.1:1", "TLS"},
  };
  for (const Case& k : cases) {
    c.initial_cluster = k.cluster;
    Result<Identity> id = NewIdentity(c);
    ASSERT_FALSE(id.ok()) << k.cluster;
    EXPECT_NE(id.status().message().find(k.message), std::string::npos) << id.status().message();
  }
  c.initial_cluster = "n1=http://127.0.0.1:1, n2=http://127.0.0.1:2 ,n3=http://127.0.0.1:3";
  Result<Identity> id = NewIdentity(c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->members.size(), 3u);
  EXPECT_EQ(id->member_id, id->members[0].id);
}

TEST(ConfigTest, IdentityRoundTripsThroughMemberJson) {
  Result<std::string> dir = testing::MakeTempDir("aspen-config");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(ReadIdentity(*dir).status().code(), Code::kNotFound);
  ServeConfig c;
  c.initial_cluster = "default=http://127.0.0.1:2380,b=http://127.0.0.1:3";
  Identity id = NewIdentity(c).value();
  ASSERT_TRUE(WriteIdentity(*dir, id).ok());
  Result<Identity> back = ReadIdentity(*dir);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->name, id.name);
  EXPECT_EQ(back->member_id, id.member_id);
  EXPECT_EQ(back->cluster_id, id.cluster_id);
  ASSERT_EQ(back->members.size(), 2u);
  EXPECT_EQ(back->members[1].peer_url, "http://127.0.0.1:3");
  for (const char* junk : {"not json", "{}", "{\"name\":\"a\",\"member_id\":\"zz\"}"}) {
    std::ofstream(*dir + "/member.json") << junk;
    EXPECT_EQ(ReadIdentity(*dir).status().code(), Code::kCorruption) << junk;
  }
}

TEST(ConfigTest, TomlFileOverridesAndRejectsUnknownKeysAndTypes) {
  Result<std::string> dir = testing::MakeTempDir("aspen-toml");
  ASSERT_TRUE(dir.ok());
  const std::string good = *dir + "/good.toml";
  std::ofstream(good) << "name = \"n9\"\nlisten-client-urls = [\"http://127.0.0.1:5\", "
                         "\"http://127.0.0.1:6\"]\nelection-timeout = 2000\n";
  ServeConfig c;
  ASSERT_TRUE(LoadConfigFile(good, &c).ok());
  EXPECT_EQ(c.name, "n9");
  EXPECT_EQ(c.listen_client_urls.size(), 2u);
  EXPECT_EQ(c.election_timeout_ms, 2000);
  EXPECT_EQ(c.data_dir, "aspen-data");  // untouched

  const std::string typed = *dir + "/typed.toml";
  std::ofstream(typed) << "\n\nelection-timeout = \"long\"\n";
  Status s = LoadConfigFile(typed, &c);
  EXPECT_NE(s.message().find("typed.toml:3: election-timeout: expected an integer"),
            std::string::npos)
      << s.message();
  const std::string syntax = *dir + "/syntax.toml";
  std::ofstream(syntax) << "name = \n";
  EXPECT_EQ(LoadConfigFile(syntax, &c).code(), Code::kInvalidArgument);
  EXPECT_EQ(LoadConfigFile(*dir + "/missing.toml", &c).code(), Code::kIOError);
}

}  // namespace
}  // namespace aspen::server
