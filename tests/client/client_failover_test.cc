// Client failover over an endpoint list, with real etcd processes.
#include <gtest/gtest.h>

#include <chrono>

#include "client/client.h"
#include "proc/etcd_fixture.h"

namespace aspen::client {
namespace {

using aspen::testing::EtcdProcess;
using std::chrono::milliseconds;

// An endpoint nobody listens on: a port that was just free.
std::string DeadEndpoint() {
  Result<int> port = aspen::testing::PickFreeLoopbackPort();
  EXPECT_TRUE(port.ok());
  return "127.0.0.1:" + std::to_string(port.ok() ? *port : 1);
}

std::unique_ptr<Client> MakeClient(std::vector<std::string> endpoints) {
  ClientOptions options;
  options.endpoints = std::move(endpoints);
  options.dial_timeout = milliseconds(500);
  options.call_timeout = milliseconds(3000);
  Result<std::unique_ptr<Client>> client = Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

TEST(ClientFailoverTest, UnreachableFirstEndpointIsSkippedAndSecondBecomesCurrent) {
  Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  std::unique_ptr<Client> client = MakeClient({DeadEndpoint(), (*etcd)->endpoint()});
  ASSERT_NE(client, nullptr);
  Result<etcdserverpb::PutResponse> put = client->Put("failover/k", "v");  // a write, too
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(client->current_endpoint(), (*etcd)->endpoint());
  // The next call starts at the live endpoint: no dial timeout spent.
  const auto start = std::chrono::steady_clock::now();
  Result<etcdserverpb::RangeResponse> got = client->Get("failover/k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(400));
  EXPECT_EQ(got->kvs(0).value(), "v");
}

TEST(ClientFailoverTest, KilledEndpointFailsOverToTheNextOne) {
  Result<std::unique_ptr<EtcdProcess>> first = EtcdProcess::Start();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<std::unique_ptr<EtcdProcess>> second = EtcdProcess::Start();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::unique_ptr<Client> client = MakeClient({(*first)->endpoint(), (*second)->endpoint()});
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Put("k", "on-first").ok());
  EXPECT_EQ(client->current_endpoint(), (*first)->endpoint());

  (*first)->Kill();
  Result<etcdserverpb::RangeResponse> got = client->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(client->current_endpoint(), (*second)->endpoint());
  EXPECT_EQ(got->kvs_size(), 0);  // a separate etcd: the key was written on the first one
  ASSERT_TRUE(client->Put("k", "on-second").ok());
}

TEST(ClientFailoverTest, AllEndpointsDeadIsUnavailableWithinTheBound) {
  std::unique_ptr<Client> client = MakeClient({DeadEndpoint(), DeadEndpoint()});
  ASSERT_NE(client, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Result<etcdserverpb::RangeResponse> got = client->Get("k");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kUnavailable);
  EXPECT_NE(got.status().message().find("all 2 endpoints failed"), std::string::npos)
      << got.status().message();
  // Bound: endpoints * (dial_timeout + call_timeout) = 7 s; dials fail in 2 * 0.5 s.
  EXPECT_LT(elapsed, milliseconds(3000));
}

}  // namespace
}  // namespace aspen::client
