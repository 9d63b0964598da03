// Nodes driven by hand on one thread (no Start(), a manual clock and a queued
// network), as the simulator drives them: the same inputs give the same run.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>

#include "node/node.h"
#include "sm/reads.h"
#include "storage/mem_store.h"

namespace aspen::node {
namespace {

class ManualClock final : public Clock {
 public:
  std::int64_t NowMs() const override { return 1'700'000'000'000 + steady_ms; }
  std::int64_t SteadyMs() const override { return steady_ms; }
  std::int64_t steady_ms = 0;
};

// Queues every message; the test delivers them in order.
class QueueTransport final : public Transport {
 public:
  explicit QueueTransport(std::deque<raft::pb::Message>* q) : q_(q) {}
  void Send(std::vector<raft::pb::Message> messages) override {
    for (auto& m : messages) q_->push_back(std::move(m));
  }

 private:
  std::deque<raft::pb::Message>* q_;
};

struct HandCluster {
  ManualClock clock;
  std::deque<raft::pb::Message> wire;
  std::map<NodeId, std::unique_ptr<storage::MemStore>> stores;
  std::map<NodeId, std::unique_ptr<QueueTransport>> transports;
  std::map<NodeId, std::unique_ptr<Node>> nodes;
  std::vector<std::string> trace;

  explicit HandCluster(int n) {
    for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id) {
      stores[id] = std::make_unique<storage::MemStore>();
      transports[id] = std::make_unique<QueueTransport>(&wire);
      NodeOptions o;
      o.id = id;
      for (NodeId p = 1; p <= static_cast<NodeId>(n); ++p) o.initial_cluster[p] = "";
      o.store = stores[id].get();
      o.clock = &clock;
      o.transport = transports[id].get();
      o.tick_interval_ms = 10;
      o.log = [](std::string_view) {};
      auto opened = Node::Open(o);
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      nodes[id] = std::move(opened).value();
    }
  }

  // One step: run every node, deliver the wire, advance the clock, tick.
  void Step() {
    for (auto& [id, n] : nodes) n->RunOnce();
    while (!wire.empty()) {
      raft::pb::Message m = std::move(wire.front());
      wire.pop_front();
      const NodeId to = m.to();
      trace.push_back(std::to_string(m.from()) + ">" + std::to_string(to) + ":" +
                      std::to_string(m.type()) + "@" + std::to_string(m.term()));
      EXPECT_TRUE(nodes.at(to)->Receive(std::move(m)).ok());
      nodes.at(to)->RunOnce();
    }
    clock.steady_ms += 10;
    for (auto& [id, n] : nodes) n->Tick();
  }

  NodeId Leader() {
    for (auto& [id, n] : nodes) {
      if (n->GetStatus().role == Role::kLeader) return id;
    }
    return 0;
  }
};

std::vector<std::string> RunScenario() {
  HandCluster c(3);
  for (int i = 0; i < 200 && c.Leader() == 0; ++i) c.Step();
  const NodeId leader = c.Leader();
  EXPECT_NE(leader, 0u);
  if (leader == 0) return c.trace;
  int answered = 0;
  for (int i = 0; i < 5; ++i) {
    sm::v1::Command cmd;
    cmd.mutable_put()->set_key("k" + std::to_string(i));
    cmd.mutable_put()->set_value("v");
    c.nodes.at(leader)->Propose(std::move(cmd), [&](Result<sm::v1::Response> r) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      ++answered;
    });
  }
  for (int i = 0; i < 50 && answered < 5; ++i) c.Step();
  EXPECT_EQ(answered, 5);
  for (int i = 0; i < 5; ++i) c.Step();  // followers learn the commit index
  for (auto& [id, n] : c.nodes) {
    sm::v1::RangeRequest req;
    req.set_key("k4");
    auto got = sm::Range(*n->GetSnapshot(), req, 0);
    EXPECT_TRUE(got.ok());
    EXPECT_EQ(got->kvs_size(), 1) << "node " << id;
  }
  return c.trace;
}

TEST(ManualDrive, HandDrivenClusterElectsReplicatesAndRepeatsExactly) {
  const std::vector<std::string> first = RunScenario();
  const std::vector<std::string> second = RunScenario();
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace aspen::node
