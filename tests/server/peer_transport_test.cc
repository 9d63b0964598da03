// The peer port end to end on loopback: PeerTransport (sender) against
// PeerService (receiver) with fake nodes on both sides.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/assert.h"
#include "server/peer_port.h"
#include "server/peer_service.h"
#include "server/peer_transport.h"
#include "server/peer_wire.h"

namespace aspen::server {
namespace {

using namespace std::chrono_literals;
namespace ppb = ::aspen::peer::v1;

constexpr std::uint64_t kCluster = 0xc1;

class FakeNode : public PeerHandler, public PeerEvents {
 public:
  Status Receive(raft::pb::Message m) override {
    std::lock_guard lock(mu);
    received.push_back(std::move(m));
    return Status::Ok();
  }
  Result<std::int64_t> KeepAlive(std::int64_t id) override {
    if (id == 7) return std::int64_t{30};
    return Status::NotFound("lease not found");
  }
  Result<node::LeaseStatus> LeaseTimeToLive(std::int64_t id) override {
    if (id == 7) return node::LeaseStatus{7, 30, 12};
    return Status::NotFound("lease not found");
  }
  void ReportUnreachable(raft::NodeId peer) override {
    std::lock_guard lock(mu);
    unreachable.insert(peer);
  }
  std::string ResolvePeer(raft::NodeId peer) override {
    std::lock_guard lock(mu);
    auto it = resolvable.find(peer);
    return it == resolvable.end() ? "" : it->second;
  }

  std::size_t ReceivedCount() {
    std::lock_guard lock(mu);
    return received.size();
  }
  bool Unreachable(raft::NodeId id) {
    std::lock_guard lock(mu);
    return unreachable.contains(id);
  }

  std::mutex mu;
  std::vector<raft::pb::Message> received;
  std::set<raft::NodeId> unreachable;
  std::map<raft::NodeId, std::string> resolvable;
};

// The production peer port: a gRPC server without ports of its own behind a
// PeerPort that sniffs each connection (raft stream or gRPC).
struct PeerServer {
  explicit PeerServer(PeerService* service, int want_port = 0) {
    grpc::ServerBuilder b;
    b.SetMaxReceiveMessageSize(static_cast<int>(kMaxPeerBatchBytes));
    b.RegisterService(service);
    grpc = b.BuildAndStart();
    ASPEN_ASSERT(grpc != nullptr);
    PeerPortOptions o;
    o.listen = {{"127.0.0.1", want_port}};
    Result<std::unique_ptr<PeerPort>> started = PeerPort::Start(std::move(o), service, grpc.get());
    ASPEN_ASSERT_MSG(started.ok(), started.status().ToString().c_str());
    listener = std::move(*started);
    port = listener->port();
  }
  ~PeerServer() {
    listener->Stop();
    grpc->Shutdown(std::chrono::system_clock::now() + 2s);
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(port); }

  std::unique_ptr<grpc::Server> grpc;
  std::unique_ptr<PeerPort> listener;
  int port = 0;
};

struct Receiver {
  Receiver(raft::NodeId self, std::uint64_t cluster)
      : service(cluster, self, &node), server(&service) {}
  std::string target() const { return server.target(); }

  FakeNode node;
  PeerService service;
  PeerServer server;
  int port = server.port;
};

// Every transport test runs over both stream kinds.
class PeerTransportTest : public ::testing::TestWithParam<PeerStreamKind> {};

INSTANTIATE_TEST_SUITE_P(Streams, PeerTransportTest,
                         ::testing::Values(PeerStreamKind::kTcp, PeerStreamKind::kGrpc),
                         [](const ::testing::TestParamInfo<PeerStreamKind>& p) {
                           return p.param == PeerStreamKind::kTcp ? "Tcp" : "Grpc";
                         });

raft::pb::Message Msg(raft::NodeId from, raft::NodeId to, std::uint64_t index) {
  raft::pb::Message m;
  m.set_type(raft::pb::MSG_APP);
  m.set_from(from);
  m.set_to(to);
  m.set_term(1);
  m.set_index(index);
  return m;
}

template <typename F>
bool WaitFor(F pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST_P(PeerTransportTest, DeliversMessagesInOrder) {
  Receiver r(2, kCluster);
  FakeNode sender_node;
  PeerTransport t(
      {.self = 1, .cluster_id = kCluster, .peers = {{2, r.target()}}, .stream = GetParam()});
  t.Attach(&sender_node);
  for (std::uint64_t i = 0; i < 500; ++i) t.Send({Msg(1, 2, i)});
  ASSERT_TRUE(WaitFor([&] { return r.node.ReceivedCount() == 500; }));
  {
    std::lock_guard lock(r.node.mu);
    for (std::uint64_t i = 0; i < 500; ++i) EXPECT_EQ(r.node.received[i].index(), i);
  }
  // The sender counts a batch once its stream write returns, which can be
  // after the receiver has already handled it.
  EXPECT_TRUE(WaitFor([&] { return t.Stats().sent_messages == 500u; })) << t.Stats().sent_messages;
}

// Appends of single entries, handed over faster than one stream write, reach
// the peer as fewer messages whose entries are every entry once, in order;
// heartbeats between them are neither merged nor reordered.
TEST_P(PeerTransportTest, ConsecutiveAppendsArriveCoalescedAndInOrder) {
  Receiver r(2, kCluster);
  FakeNode sender_node;
  PeerTransport t(
      {.self = 1, .cluster_id = kCluster, .peers = {{2, r.target()}}, .stream = GetParam()});
  t.Attach(&sender_node);
  // Once the stream is open and idle (the TCP stream then writes each Send
  // from the caller's thread), a Ready's appends are still folded.
  raft::pb::Message warm = Msg(1, 2, 0);
  warm.set_type(raft::pb::MSG_HEARTBEAT_RESP);
  t.Send({warm});
  ASSERT_TRUE(WaitFor([&] { return r.node.ReceivedCount() == 1; }));
  constexpr std::uint64_t kEntries = 2000;
  std::vector<raft::pb::Message> ready;
  for (std::uint64_t i = 1; i <= kEntries; ++i) {
    raft::pb::Message m = Msg(1, 2, i - 1);
    m.set_log_term(i == 1 ? 0 : 1);
    m.set_commit(i / 2);
    raft::pb::Entry* e = m.add_entries();
    e->set_index(i);
    e->set_term(1);
    e->set_data("v" + std::to_string(i));
    ready.push_back(std::move(m));
    if (i % 500 == 0) {
      raft::pb::Message hb = Msg(1, 2, 0);
      hb.set_type(raft::pb::MSG_HEARTBEAT);
      ready.push_back(std::move(hb));
    }
    if (i % 100 == 0) {  // one Ready per 100 entries
      t.Send(std::move(ready));
      ready.clear();
    }
  }
  std::uint64_t next = 1;
  int heartbeats = 0;
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(r.node.mu);
    next = 1;
    heartbeats = 0;
    for (const raft::pb::Message& m : r.node.received) {
      if (m.type() == raft::pb::MSG_HEARTBEAT) {
        ++heartbeats;
        EXPECT_EQ(next - 1, 500u * static_cast<std::uint64_t>(heartbeats));  // where it was sent
        continue;
      }
      EXPECT_EQ(m.index(), next - 1);
      for (const raft::pb::Entry& e : m.entries()) {
        EXPECT_EQ(e.index(), next);
        EXPECT_EQ(e.data(), "v" + std::to_string(next));
        ++next;
      }
    }
    return next == kEntries + 1;
  }));
  EXPECT_EQ(heartbeats, 4);
  EXPECT_LE(r.node.ReceivedCount(), kEntries / 100 + 5);
  EXPECT_TRUE(WaitFor([&] {
    const PeerTransportStats st = t.Stats();
    return st.sent_messages + st.coalesced_messages == kEntries + 5;
  }));
  const PeerTransportStats st = t.Stats();
  EXPECT_EQ(st.dropped_messages, 0u);
}

TEST_P(PeerTransportTest, DeadPeerIsReportedUnreachableAndMessagesDropped) {
  FakeNode sender_node;
  // A port nobody listens on: bind, read back, close.
  PeerTransport t({.self = 1,
                   .cluster_id = kCluster,
                   .peers = {{3, "127.0.0.1:1"}},
                   .backoff_min = 10ms,
                   .backoff_max = 50ms,
                   .dial_timeout = 200ms,
                   .stream = GetParam()});
  t.Attach(&sender_node);
  t.Send({Msg(1, 3, 1)});
  ASSERT_TRUE(WaitFor([&] { return sender_node.Unreachable(3); }));
  EXPECT_TRUE(WaitFor([&] { return t.Stats().dropped_messages >= 1; }));
  EXPECT_EQ(t.Stats().sent_messages, 0u);
}

TEST_P(PeerTransportTest, FullQueueDropsAndReportsAtOnce) {
  FakeNode sender_node;
  PeerTransport t({.self = 1,
                   .cluster_id = kCluster,
                   .peers = {{3, "127.0.0.1:1"}},
                   .queue_messages = 4,
                   .dial_timeout = 2000ms,
                   .stream = GetParam()});
  t.Attach(&sender_node);
  std::vector<raft::pb::Message> many;
  for (int i = 0; i < 100; ++i) many.push_back(Msg(1, 3, i));
  t.Send(std::move(many));  // returns at once: nothing waits for the network
  EXPECT_TRUE(sender_node.Unreachable(3));
  EXPECT_GE(t.Stats().dropped_messages, 96u);
}

TEST_P(PeerTransportTest, UnknownPeerIsResolvedThroughEvents) {
  Receiver r(4, kCluster);
  FakeNode sender_node;
  sender_node.resolvable[4] = r.target();
  PeerTransport t({.self = 1, .cluster_id = kCluster, .peers = {}, .stream = GetParam()});
  t.Attach(&sender_node);
  t.Send({Msg(1, 4, 9)});
  EXPECT_TRUE(WaitFor([&] { return r.node.ReceivedCount() == 1; }));
}

TEST_P(PeerTransportTest, ReconnectsAfterThePeerRestarts) {
  FakeNode sender_node;
  auto r = std::make_unique<Receiver>(2, kCluster);
  const std::string target = r->target();
  const int port = r->port;
  PeerTransport t({.self = 1,
                   .cluster_id = kCluster,
                   .peers = {{2, target}},
                   .backoff_min = 10ms,
                   .backoff_max = 100ms,
                   .dial_timeout = 300ms,
                   .stream = GetParam()});
  t.Attach(&sender_node);
  t.Send({Msg(1, 2, 1)});
  ASSERT_TRUE(WaitFor([&] { return r->node.ReceivedCount() == 1; }));
  r.reset();
  // Keep sending until the break is noticed, then restart on the same port.
  ASSERT_TRUE(WaitFor([&] {
    t.Send({Msg(1, 2, 2)});
    return sender_node.Unreachable(2);
  }));
  FakeNode node2;
  PeerService service(kCluster, 2, &node2);
  PeerServer server(&service, port);
  EXPECT_TRUE(WaitFor([&] {
    t.Send({Msg(1, 2, 3)});
    std::lock_guard lock(node2.mu);
    return !node2.received.empty();
  }));
}

ppb::Batch GoodBatch() {
  ppb::Batch b;
  b.set_cluster_id(kCluster);
  b.set_from(1);
  b.set_to(2);
  *b.add_messages() = Msg(1, 2, 1);
  return b;
}

TEST(PeerServiceTest, BatchFromAnotherClusterIsRejected) {
  FakeNode node;
  PeerService s(kCluster, 2, &node);
  ppb::Batch b = GoodBatch();
  EXPECT_TRUE(s.CheckBatch(b).ok());
  b.set_cluster_id(0xbad);
  grpc::Status st = s.CheckBatch(b);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("cluster ID mismatch"), std::string::npos);
}

TEST(PeerServiceTest, BatchForAnotherMemberIsRejected) {
  FakeNode node;
  PeerService s(kCluster, 2, &node);
  ppb::Batch b = GoodBatch();
  b.set_to(3);
  EXPECT_EQ(s.CheckBatch(b).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(PeerServiceTest, LocalOrMisaddressedMessagesAreRejected) {
  FakeNode node;
  PeerService s(kCluster, 2, &node);
  ppb::Batch local = GoodBatch();
  local.mutable_messages(0)->set_type(raft::pb::MSG_HUP);
  EXPECT_EQ(s.CheckBatch(local).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ppb::Batch unknown = GoodBatch();
  unknown.mutable_messages(0)->set_type(static_cast<raft::pb::MessageType>(999));
  EXPECT_EQ(s.CheckBatch(unknown).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ppb::Batch spoofed = GoodBatch();
  spoofed.mutable_messages(0)->set_from(5);
  EXPECT_EQ(s.CheckBatch(spoofed).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(PeerTransportTest, WrongClusterStreamEndsAndNothingIsDelivered) {
  Receiver r(2, kCluster);
  FakeNode sender_node;
  PeerTransport t(
      {.self = 1, .cluster_id = 0xbad, .peers = {{2, r.target()}}, .stream = GetParam()});
  t.Attach(&sender_node);
  t.Send({Msg(1, 2, 1)});
  EXPECT_TRUE(WaitFor([&] { return r.service.Stats().rejected_batches >= 1; }));
  EXPECT_EQ(r.node.ReceivedCount(), 0u);
}

TEST(PeerServiceTest, LeaseCallsAnswerFromTheNode) {
  Receiver r(2, kCluster);
  auto stub =
      ppb::Peer::NewStub(grpc::CreateChannel(r.target(), grpc::InsecureChannelCredentials()));
  ppb::LeaseRequest req;
  req.set_cluster_id(kCluster);
  req.set_id(7);
  ppb::LeaseReply reply;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub->LeaseTimeToLive(&c1, req, &reply).ok());
  EXPECT_EQ(reply.granted_ttl(), 30);
  EXPECT_EQ(reply.remaining_ttl(), 12);
  req.set_id(8);
  grpc::ClientContext c2;
  grpc::Status st = stub->LeaseKeepAlive(&c2, req, &reply);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "etcdserver: requested lease not found");
}

std::string Frame(const std::string& payload) {
  char header[kFrameHeaderBytes];
  EncodeFrameHeader(payload.size(), header);
  return std::string(header, sizeof header) + payload;
}

// Raw bytes that are not HTTP/2 (and an HTTP/2 preface followed by junk), and
// raft streams with a bad hello, an oversized frame or a frame that is not a
// Batch, on the peer port: the connection is closed, the server keeps serving
// both kinds of stream.
TEST(PeerServiceTest, GarbageBytesOnThePortLeaveTheServerServing) {
  Receiver r(2, kCluster);
  ppb::Batch hello;
  hello.set_cluster_id(kCluster);
  hello.set_from(1);
  hello.set_to(2);
  const std::string preface(kRaftStreamPreface);
  for (const std::string& junk :
       {std::string(4096, '\xff'), std::string("ASPN"),
        std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(1000, '\x07'), preface,
        preface + std::string("\xff\xff\xff\xff", 4) + std::string(100, 'x'),
        preface + Frame(std::string(50, '\xff')),
        preface + Frame(hello.SerializeAsString()) + std::string("\xff\xff\xff\x7f", 4),
        preface + Frame(hello.SerializeAsString()) + Frame(std::string(64, '\xff'))}) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(r.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    (void)!write(fd, junk.data(), junk.size());
    ::shutdown(fd, SHUT_WR);  // the server sees the end of the bytes at once
    char buf[256];
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
  }
  EXPECT_EQ(r.node.ReceivedCount(), 0u);
  for (PeerStreamKind kind : {PeerStreamKind::kTcp, PeerStreamKind::kGrpc}) {
    FakeNode sender_node;
    PeerTransport t(
        {.self = 1, .cluster_id = kCluster, .peers = {{2, r.target()}}, .stream = kind});
    t.Attach(&sender_node);
    const std::size_t before = r.node.ReceivedCount();
    t.Send({Msg(1, 2, 1)});
    EXPECT_TRUE(WaitFor([&] { return r.node.ReceivedCount() == before + 1; }));
  }
  const PeerPortStats st = r.server.listener->Stats();
  EXPECT_GE(st.refused_connections, 4u);  // short, preface only, bad hellos
  EXPECT_GE(st.raft_streams, 3u);
  EXPECT_GE(st.grpc_connections, 3u);
}

TEST(PeerServiceTest, OversizedBatchIsRefusedByTheServer) {
  Receiver r(2, kCluster);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  auto stub = ppb::Peer::NewStub(
      grpc::CreateCustomChannel(r.target(), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ppb::StreamSummary summary;
  auto writer = stub->Stream(&ctx, &summary);
  ppb::Batch b = GoodBatch();
  b.mutable_messages(0)->set_context(std::string(kMaxPeerBatchBytes + 1, 'x'));
  (void)writer->Write(b);
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_EQ(r.node.ReceivedCount(), 0u);
}

// A node whose inbox takes only `room` more messages, and which records the
// size of every hand-off it gets.
class BoundedNode : public FakeNode {
 public:
  std::size_t ReceiveBatch(std::vector<raft::pb::Message> messages) override {
    std::lock_guard lock(mu);
    handoffs.push_back(messages.size());
    std::size_t n = 0;
    for (raft::pb::Message& m : messages) {
      if (room == 0) break;
      --room;
      received.push_back(std::move(m));
      ++n;
    }
    return n;
  }
  std::size_t room = 2;
  std::vector<std::size_t> handoffs;
};

TEST(PeerServiceTest, EachBatchReachesTheNodeInOneHandoffAndRefusalsAreCounted) {
  BoundedNode node;
  PeerService service(kCluster, 2, &node);
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = b.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = ppb::Peer::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ppb::StreamSummary summary;
  auto writer = stub->Stream(&ctx, &summary);
  ppb::Batch batch = GoodBatch();
  *batch.add_messages() = Msg(1, 2, 2);
  *batch.add_messages() = Msg(1, 2, 3);
  ASSERT_TRUE(writer->Write(batch));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.batches(), 1u);
  EXPECT_EQ(summary.messages(), 2u);  // the inbox had room for two
  {
    std::lock_guard lock(node.mu);
    EXPECT_EQ(node.handoffs, std::vector<std::size_t>{3});
    ASSERT_EQ(node.received.size(), 2u);
    EXPECT_EQ(node.received[0].index(), 1u);
    EXPECT_EQ(node.received[1].index(), 2u);
  }
  const PeerServiceStats st = service.Stats();
  EXPECT_EQ(st.received_messages, 2u);
  EXPECT_EQ(st.refused_messages, 1u);
  server->Shutdown(std::chrono::system_clock::now() + 1s);
}

TEST_P(PeerTransportTest, OversizedMessageIsDroppedAndReportedWithoutTouchingTheStream) {
  Receiver r(2, kCluster);
  FakeNode sender_node;
  PeerTransport t(
      {.self = 1, .cluster_id = kCluster, .peers = {{2, r.target()}}, .stream = GetParam()});
  t.Attach(&sender_node);
  raft::pb::Message big = Msg(1, 2, 1);
  big.set_context(std::string(kMaxPeerBatchBytes / 2 + 1, 'x'));
  t.Send({std::move(big)});
  EXPECT_TRUE(sender_node.Unreachable(2));
  EXPECT_EQ(t.Stats().dropped_messages, 1u);
  // The peer's stream still carries the next message.
  t.Send({Msg(1, 2, 2)});
  ASSERT_TRUE(WaitFor([&] { return r.node.ReceivedCount() == 1; }));
  EXPECT_EQ(t.Stats().broken_streams, 0u);
}

TEST_P(PeerTransportTest, PeerKilledMidStreamIsReportedAndLaterMessagesAreDropped) {
  auto r = std::make_unique<Receiver>(2, kCluster);
  FakeNode sender_node;
  PeerTransport t({.self = 1,
                   .cluster_id = kCluster,
                   .peers = {{2, r->target()}},
                   .backoff_min = 10ms,
                   .backoff_max = 50ms,
                   .dial_timeout = 100ms,
                   .stream = GetParam()});
  t.Attach(&sender_node);
  std::vector<raft::pb::Message> first;
  for (int i = 1; i <= 100; ++i) first.push_back(Msg(1, 2, i));
  t.Send(std::move(first));
  ASSERT_TRUE(WaitFor([&] { return r->node.ReceivedCount() == 100; }));
  {
    std::lock_guard lock(r->node.mu);
    for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(r->node.received[i].index(), i + 1);
  }
  r.reset();  // the receiving member dies with the stream open
  ASSERT_TRUE(WaitFor([&] {
    t.Send({Msg(1, 2, 101)});
    return sender_node.Unreachable(2);
  }));
  EXPECT_GE(t.Stats().broken_streams, 1u);
  EXPECT_GE(t.Stats().dropped_messages, 1u);
}

// A node that stalls the first batch until released: its peer stops reading.
class StalledNode : public FakeNode {
 public:
  std::size_t ReceiveBatch(std::vector<raft::pb::Message> messages) override {
    std::unique_lock lock(mu);
    released_cv.wait(lock, [&] { return released; });
    for (raft::pb::Message& m : messages) received.push_back(std::move(m));
    return messages.size();
  }
  void Release() {
    {
      std::lock_guard lock(mu);
      released = true;
    }
    released_cv.notify_all();
  }
  std::condition_variable released_cv;
  bool released = false;
};

TEST_P(PeerTransportTest, SlowPeerFillsItsBoundThenMessagesAreDroppedWithoutBlockingSend) {
  StalledNode node;
  PeerService service(kCluster, 2, &node);
  PeerServer server(&service);
  FakeNode sender_node;
  PeerTransport t({.self = 1,
                   .cluster_id = kCluster,
                   .peers = {{2, server.target()}},
                   .queue_bytes = 1u << 20,
                   .batch_bytes = 256u << 10,
                   .stream = GetParam()});
  t.Attach(&sender_node);
  const std::string payload(64u << 10, 'v');
  auto longest = std::chrono::steady_clock::duration::zero();
  bool dropped = false;
  for (int i = 1; i <= 4000 && !dropped; ++i) {  // at most 256 MiB offered
    raft::pb::Message m = Msg(1, 2, static_cast<std::uint64_t>(i));
    m.set_context(payload);
    const auto start = std::chrono::steady_clock::now();
    t.Send({std::move(m)});
    longest = std::max(longest, std::chrono::steady_clock::now() - start);
    dropped = sender_node.Unreachable(2);
    if (i % 64 == 0) std::this_thread::sleep_for(1ms);  // let the stream fill up
  }
  EXPECT_TRUE(dropped);
  EXPECT_GE(t.Stats().dropped_messages, 1u);
  EXPECT_LT(longest, 500ms);  // Send never waited for the stalled peer
  node.Release();
  t.Stop();
}

}  // namespace
}  // namespace aspen::server
