// `aspen serve` as a process: clean shutdown, restart, clear errors for bad
// flags, busy ports, locked and foreign data dirs; bad input on the client
// and peer ports leaves it serving.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "aspen/peer/v1/peer.grpc.pb.h"
#include "base/limits.h"
#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

ProgramRun Serve(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {ASPEN_BINARY, "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, "", 20s);
}

std::vector<std::string> PortFlags(const MemberPorts& p) {
  return {"--listen-client-urls=http://" + p.client_endpoint(),
          "--listen-peer-urls=" + p.peer_url(),
          "--listen-metrics-urls=http://127.0.0.1:" + std::to_string(p.metrics)};
}

void SendGarbage(int port, const std::string& junk) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    (void)!write(fd, junk.data(), junk.size());
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0) {
    }
  }
  close(fd);
}

TEST(ServeTest, SigtermStopsCleanlyAndRestartKeepsDataIgnoringInitialCluster) {
  Result<std::string> dir = MakeTempDir("aspen-serve");
  ASSERT_TRUE(dir.ok());
  const MemberPorts ports = PickMemberPorts();
  {
    auto m = AspenMember::Start("default", *dir + "/d", ports, {});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_TRUE(ClientFor({(*m)->endpoint()}, 5s)->Put("kept", "yes").ok());
    ::kill((*m)->process().pid(), SIGTERM);
    EXPECT_EQ((*m)->process().Wait(10s), 0) << (*m)->Log();
    EXPECT_NE((*m)->Log().find("shutting down"), std::string::npos);
  }
  // A restarted member ignores --initial-cluster (here naming other members).
  auto m =
      AspenMember::Start("default", *dir + "/d", ports,
                         {"--initial-cluster=default=http://127.0.0.1:1,x=http://127.0.0.1:2"});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto got = ClientFor({(*m)->endpoint()}, 5s)->Get("kept");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->kvs_size(), 1);
  EXPECT_EQ(got->kvs(0).value(), "yes");
  EXPECT_NE((*m)->Log().find("ignoring --initial-cluster"), std::string::npos) << (*m)->Log();
}

TEST(ServeTest, BadFlagsExitOneNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"--listen-client-urls=https://127.0.0.1:1"}, "TLS is not supported"},
      {{"--listen-peer-urls=127.0.0.1:2380"}, "--listen-peer-urls"},
      {{"--initial-cluster-state=maybe"}, "--initial-cluster-state"},
      {{"--election-timeout=100", "--heartbeat-interval=100"}, "--election-timeout"},
      {{"--config-file=/nonexistent/aspen.toml"}, "cannot read"},
  };
  for (const Case& c : cases) {
    ProgramRun r = Serve(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0] << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

TEST(ServeTest, StartupFailuresAreClear) {
  Result<std::string> dir = MakeTempDir("aspen-serve-err");
  ASSERT_TRUE(dir.ok());
  const MemberPorts ports = PickMemberPorts();
  auto m = AspenMember::Start("default", *dir + "/d", ports, {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();

  // Busy client port.
  MemberPorts other = PickMemberPorts();
  other.client = ports.client;
  std::vector<std::string> args = PortFlags(other);
  args.push_back("--data-dir=" + *dir + "/other");
  ProgramRun busy = Serve(args);
  EXPECT_EQ(busy.exit_code, 2);
  EXPECT_NE(busy.err.find("address already in use"), std::string::npos) << busy.err;

  // The same data dir while the first member runs.
  args = PortFlags(PickMemberPorts());
  args.push_back("--data-dir=" + *dir + "/d");
  ProgramRun locked = Serve(args);
  EXPECT_EQ(locked.exit_code, 2);
  EXPECT_NE(locked.err.find("locked"), std::string::npos) << locked.err;

  // A data dir of another member.
  m->reset();
  args.push_back("--name=someone-else");
  ProgramRun foreign = Serve(args);
  EXPECT_EQ(foreign.exit_code, 2);
  EXPECT_NE(foreign.err.find("belongs to member \"default\""), std::string::npos) << foreign.err;
}

TEST(ServeTest, ConfigFileSetsFlagsAndFlagsOverrideIt) {
  Result<std::string> dir = MakeTempDir("aspen-serve-toml");
  ASSERT_TRUE(dir.ok());
  const MemberPorts ports = PickMemberPorts();
  {
    std::ofstream f(*dir + "/aspen.toml");
    f << "name = \"from-file\"\n"
      << "data-dir = \"" << *dir << "/d\"\n"
      << "listen-client-urls = [\"http://" << ports.client_endpoint() << "\"]\n"
      << "listen-peer-urls = \"" << ports.peer_url() << "\"\n"
      << "listen-metrics-urls = \"http://127.0.0.1:" << ports.metrics << "\"\n";
  }
  {
    std::ofstream f(*dir + "/bad.toml");
    f << "name = \"x\"\nlisten-client-url = \"typo\"\n";
  }
  ProgramRun bad = Serve({"--config-file=" + *dir + "/bad.toml"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.toml:2: unknown key \"listen-client-url\""), std::string::npos)
      << bad.err;

  auto m = AspenMember::Start("overridden", *dir + "/d", ports,
                              {"--config-file=" + *dir + "/aspen.toml"});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto list = ClientFor({(*m)->endpoint()}, 5s)->MemberList();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->members_size(), 1);
  EXPECT_EQ(list->members(0).name(), "overridden");
}

TEST(ServeTest, BadInputGetsClearErrorsAndTheServerKeepsServing) {
  Result<std::string> dir = MakeTempDir("aspen-serve-bad");
  ASSERT_TRUE(dir.ok());
  auto m = AspenMember::Start("default", *dir + "/d", PickMemberPorts(), {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto c = ClientFor({(*m)->endpoint()}, 5s);

  Status big_value = c->Put("k", std::string(limits::kMaxValueBytes + 1, 'v')).status();
  EXPECT_EQ(big_value.code(), Code::kResourceExhausted);
  EXPECT_NE(big_value.message().find("kMaxValueBytes"), std::string::npos) << big_value.message();

  Status huge = c->Put("k", std::string(3 << 20, 'v')).status();
  EXPECT_EQ(huge.code(), Code::kResourceExhausted) << huge.ToString();

  Status big_key = c->Put(std::string(limits::kMaxKeyBytes + 1, 'k'), "v").status();
  EXPECT_EQ(big_key.code(), Code::kResourceExhausted) << big_key.ToString();

  etcdserverpb::TxnRequest txn;
  for (std::size_t i = 0; i <= limits::kMaxTxnOps; ++i) {
    txn.add_success()->mutable_request_put()->set_key("t" + std::to_string(i));
  }
  Status ops = c->Txn(txn).status();
  EXPECT_NE(ops.message().find("etcdserver: too many operations in txn request"), std::string::npos)
      << ops.ToString();

  client::PutOptions lease;
  lease.lease = 0x1234;
  Status unknown = c->Put("k", "v", lease).status();
  EXPECT_EQ(unknown.message(), "NOT_FOUND: etcdserver: requested lease not found");

  client::GetOptions at_future;
  at_future.revision = 1'000'000;
  Status future = c->Get("k", at_future).status();
  EXPECT_EQ(future.message(),
            "OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision");

  // Garbage on both ports, then a batch from another cluster on the peer port.
  SendGarbage((*m)->ports().client, std::string(10000, '\xee'));
  SendGarbage((*m)->ports().peer, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + std::string(500, '\x01'));
  auto stub = peer::v1::Peer::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*m)->ports().peer), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  peer::v1::StreamSummary summary;
  auto writer = stub->Stream(&ctx, &summary);
  peer::v1::Batch batch;
  batch.set_cluster_id(42);
  (void)writer->Write(batch);
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("cluster ID mismatch"), std::string::npos);

  ASSERT_TRUE(c->Put("still", "serving").ok());
  EXPECT_TRUE((*m)->process().Running());
}

}  // namespace
}  // namespace aspen::testing
