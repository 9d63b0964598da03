// PeerClient's asynchronous lease calls (a follower forwarding keep-alives
// and time-to-lives to the leader) against a real PeerService on loopback
// whose lease answers are held back: the calls hold no caller thread while
// the leader waits, each callback runs exactly once, the in-flight bound
// refuses with etcd's "too many requests", and Stop cancels what is in
// flight with "server stopped".
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/assert.h"
#include "server/peer_client.h"
#include "server/peer_service.h"

namespace aspen::server {
namespace {

using namespace std::chrono_literals;
namespace ppb = ::aspen::peer::v1;

constexpr std::uint64_t kCluster = 0xc1;
constexpr std::int64_t kUnknownLease = 404;

// A leader whose lease answers wait until Release (or for ever, until the
// server shuts down); counts the calls it is holding.
class HeldLeader : public PeerHandler {
 public:
  Status Receive(raft::pb::Message /*m*/) override { return Status::Ok(); }
  Result<std::int64_t> KeepAlive(std::int64_t id) override {
    Hold();
    if (id == kUnknownLease) return Status::NotFound("lease not found");
    return id * 10;
  }
  Result<node::LeaseStatus> LeaseTimeToLive(std::int64_t id) override {
    Hold();
    if (id == kUnknownLease) return Status::NotFound("lease not found");
    return node::LeaseStatus{id, 60, 42};
  }

  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Waits until `n` calls are held at once.
  bool WaitHeld(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return held_ >= n; });
  }

 private:
  void Hold() {
    std::unique_lock lock(mu_);
    ++held_;
    cv_.notify_all();
    cv_.wait_for(lock, 20s, [&] { return released_; });
    --held_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0;
  bool released_ = false;
};

struct Leader {
  Leader() : service(kCluster, /*self=*/1, &handler) {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    server = b.BuildAndStart();
    ASPEN_ASSERT(server != nullptr && port > 0);
    target = "127.0.0.1:" + std::to_string(port);
  }
  ~Leader() {
    handler.Release();
    server->Shutdown(std::chrono::system_clock::now() + 2s);
  }

  HeldLeader handler;
  PeerService service;
  std::unique_ptr<grpc::Server> server;
  std::string target;
};

// What one asynchronous call answered.
struct Answers {
  void Record(const grpc::Status& s, const ppb::LeaseReply& r) {
    std::lock_guard lock(mu);
    statuses.push_back(s);
    replies.push_back(r);
    cv.notify_all();
  }
  bool WaitFor(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return statuses.size() >= n; });
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return statuses.size();
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<grpc::Status> statuses;
  std::vector<ppb::LeaseReply> replies;
};

TEST(PeerClientAsync, ForwardedLeaseCallsHoldNoCallerThreadWhileTheLeaderWaits) {
  Leader leader;
  PeerClient client(kCluster, 10s);
  Answers answers;
  constexpr int kCalls = 16;  // far more than a follower's 4 workers
  for (int i = 1; i <= kCalls; ++i) {
    auto record = [&answers](const grpc::Status& s, const ppb::LeaseReply& r) {
      answers.Record(s, r);
    };
    // Each call returns at once although the leader holds every answer.
    if (i % 2 == 0) {
      client.LeaseKeepAliveAsync(leader.target, i, record);
    } else {
      client.LeaseTimeToLiveAsync(leader.target, i, record);
    }
  }
  ASSERT_TRUE(leader.handler.WaitHeld(kCalls, 10s)) << "the calls were not all in flight at once";
  EXPECT_EQ(answers.size(), 0u);
  leader.handler.Release();
  ASSERT_TRUE(answers.WaitFor(kCalls, 10s));
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(answers.mu);
  ASSERT_EQ(answers.statuses.size(), static_cast<std::size_t>(kCalls));  // once each
  for (std::size_t i = 0; i < answers.statuses.size(); ++i) {
    EXPECT_TRUE(answers.statuses[i].ok()) << answers.statuses[i].error_message();
    const std::int64_t id = answers.replies[i].id();
    EXPECT_EQ(answers.replies[i].remaining_ttl(), id % 2 == 0 ? id * 10 : 42) << id;
  }
}

TEST(PeerClientAsync, AnUnknownLeaseIsNotFoundAndAnUnreachableLeaderTimesOut) {
  Leader leader;
  leader.handler.Release();
  PeerClient client(kCluster, 2s);
  Answers answers;
  auto record = [&answers](const grpc::Status& s, const ppb::LeaseReply& r) {
    answers.Record(s, r);
  };
  client.LeaseKeepAliveAsync(leader.target, kUnknownLease, record);
  ASSERT_TRUE(answers.WaitFor(1, 10s));
  // Nothing listens on port 1 of loopback.
  client.LeaseTimeToLiveAsync("127.0.0.1:1", 7, record);
  ASSERT_TRUE(answers.WaitFor(2, 10s));
  std::lock_guard lock(answers.mu);
  EXPECT_EQ(answers.statuses[0].error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(answers.statuses[1].error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(answers.statuses[1].error_message().find("etcdserver: request timed out"),
            std::string::npos)
      << answers.statuses[1].error_message();
}

TEST(PeerClientAsync, CallsBeyondTheBoundAreRefusedWithTooManyRequests) {
  Leader leader;
  PeerClient client(kCluster, 10s, /*max_async_calls=*/3);
  Answers answers;
  auto record = [&answers](const grpc::Status& s, const ppb::LeaseReply& r) {
    answers.Record(s, r);
  };
  for (int i = 1; i <= 3; ++i) client.LeaseKeepAliveAsync(leader.target, i, record);
  ASSERT_TRUE(leader.handler.WaitHeld(3, 10s));
  client.LeaseKeepAliveAsync(leader.target, 4, record);  // answered inline
  {
    std::lock_guard lock(answers.mu);
    ASSERT_EQ(answers.statuses.size(), 1u);
    EXPECT_EQ(answers.statuses[0].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(answers.statuses[0].error_message(), "etcdserver: too many requests");
  }
  leader.handler.Release();
  ASSERT_TRUE(answers.WaitFor(4, 10s));
  // Room again once the leader answered.
  client.LeaseKeepAliveAsync(leader.target, 5, record);
  ASSERT_TRUE(answers.WaitFor(5, 10s));
  std::lock_guard lock(answers.mu);
  EXPECT_TRUE(answers.statuses[4].ok()) << answers.statuses[4].error_message();
  EXPECT_EQ(answers.replies[4].remaining_ttl(), 50);
}

TEST(PeerClientAsync, StopCancelsCallsInFlightWithServerStoppedAndRefusesLaterOnes) {
  Leader leader;
  PeerClient client(kCluster, 30s);
  Answers answers;
  auto record = [&answers](const grpc::Status& s, const ppb::LeaseReply& r) {
    answers.Record(s, r);
  };
  for (int i = 1; i <= 4; ++i) client.LeaseKeepAliveAsync(leader.target, i, record);
  ASSERT_TRUE(leader.handler.WaitHeld(4, 10s));
  const auto start = std::chrono::steady_clock::now();
  client.Stop();  // returns once every callback has run
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(answers.size(), 4u);
  client.LeaseTimeToLiveAsync(leader.target, 9, record);  // answered inline
  std::lock_guard lock(answers.mu);
  ASSERT_EQ(answers.statuses.size(), 5u);
  for (const grpc::Status& s : answers.statuses) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(), "etcdserver: server stopped");
  }
}

}  // namespace
}  // namespace aspen::server
