// Stopping a member with open long-lived client streams (Watch,
// LeaseKeepAlive) and with its peers' raft streams open: SIGTERM ends every
// stream at once, so the member exits in a fraction of a second (it used to
// wait out the client port's 2 s and the peer port's 1 s shutdown deadlines),
// and a watcher learns of it with Unavailable, which etcd's clients retry on
// another endpoint (Canceled would end their watch for good).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "etcdserverpb/lease.grpc.pb.h"
#include "etcdserverpb/watch.grpc.pb.h"
#include "server/serve_process.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;
namespace epb = ::etcdserverpb;

long long StopMs(AspenMember& m) {
  const auto sigterm_at = std::chrono::steady_clock::now();
  EXPECT_EQ(::kill(m.process().pid(), SIGTERM), 0);
  std::optional<int> exit = m.process().Wait(30s);
  EXPECT_TRUE(exit.has_value()) << "no exit after SIGTERM\n" << m.Log();
  if (exit.has_value()) {
    EXPECT_EQ(*exit, 0) << m.Log();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               sigterm_at)
      .count();
}

TEST(StopStreamsTest, SigtermEndsOpenWatchAndKeepAliveStreamsAtOnceWithUnavailable) {
  Result<std::string> dir = MakeTempDir("aspen-stopstreams");
  ASSERT_TRUE(dir.ok());
  auto m = AspenMember::Start("n1", *dir + "/n1", PickMemberPorts(), {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto channel = grpc::CreateChannel((*m)->endpoint(), grpc::InsecureChannelCredentials());

  // A watcher, created and confirmed.
  auto watch_stub = epb::Watch::NewStub(channel);
  auto watch_ctx = std::make_unique<grpc::ClientContext>();
  watch_ctx->set_deadline(std::chrono::system_clock::now() + 60s);
  auto watch = watch_stub->Watch(watch_ctx.get());
  epb::WatchRequest create;
  create.mutable_create_request()->set_key("k");
  ASSERT_TRUE(watch->Write(create));
  epb::WatchResponse created;
  ASSERT_TRUE(watch->Read(&created));
  ASSERT_TRUE(created.created());

  // A keep-alive stream, idle between two renewals.
  auto lease_stub = epb::Lease::NewStub(channel);
  grpc::ClientContext grant_ctx;
  grant_ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  epb::LeaseGrantRequest grant;
  grant.set_ttl(60);
  epb::LeaseGrantResponse granted;
  ASSERT_TRUE(lease_stub->LeaseGrant(&grant_ctx, grant, &granted).ok());
  auto ka_ctx = std::make_unique<grpc::ClientContext>();
  ka_ctx->set_deadline(std::chrono::system_clock::now() + 60s);
  auto ka = lease_stub->LeaseKeepAlive(ka_ctx.get());
  epb::LeaseKeepAliveRequest renew;
  renew.set_id(granted.id());
  ASSERT_TRUE(ka->Write(renew));
  epb::LeaseKeepAliveResponse renewed;
  ASSERT_TRUE(ka->Read(&renewed));
  EXPECT_EQ(renewed.ttl(), 60);

  // Clients keep reading their streams and release them once ended, as
  // etcd's clients do (a call a client keeps after its end stays open on the
  // server until the client port's 2 s shutdown deadline).
  auto watch_end = std::async(std::launch::async, [&] {
    epb::WatchResponse more;
    while (watch->Read(&more)) {
    }
    grpc::Status end = watch->Finish();
    watch.reset();  // the finished call is released, as when it leaves scope
    watch_ctx.reset();
    return end;
  });
  auto ka_end = std::async(std::launch::async, [&] {
    epb::LeaseKeepAliveResponse more;
    while (ka->Read(&more)) {
    }
    grpc::Status end = ka->Finish();
    ka.reset();
    ka_ctx.reset();
    return end;
  });

  const long long stop_ms = StopMs(**m);
  std::printf("member with open streams stopped %lld ms after SIGTERM\n", stop_ms);
  EXPECT_LT(stop_ms, 1500) << "the shutdown waited for the open streams";
  const grpc::Status w = watch_end.get();
  EXPECT_EQ(w.error_code(), grpc::StatusCode::UNAVAILABLE) << w.error_message();
  const grpc::Status k = ka_end.get();
  EXPECT_EQ(k.error_code(), grpc::StatusCode::UNAVAILABLE) << k.error_message();
}

TEST(StopStreamsTest, SigtermStopsAClusterMemberWithoutWaitingForItsPeersStreams) {
  Result<std::string> dir = MakeTempDir("aspen-stoppeers");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> c = AspenCluster::Start(*dir, 3);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Every member answers a linearizable read: the peers' streams are open.
  // (Members start in parallel, a loaded machine can take a few seconds.)
  for (const std::string& ep : c->endpoints) {
    ProgramRun r;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
      r = Etcdctl(ep, {"get", "x", "--command-timeout=5s"});
    } while (r.exit_code != 0 && std::chrono::steady_clock::now() < give_up);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (int i = 2; i >= 0; --i) {
    const long long stop_ms = StopMs(*c->members[i]);
    std::printf("member n%d stopped %lld ms after SIGTERM\n", i, stop_ms);
    EXPECT_LT(stop_ms, 950) << "member n" << i << " waited for its peers' streams";
  }
}

}  // namespace
}  // namespace aspen::testing
