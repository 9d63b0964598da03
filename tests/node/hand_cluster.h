// Test support for node/: nodes driven by hand on the test's thread, as the
// simulator drives them (Tick, RunOnce; no loop thread), on MemStores, with a
// manual clock and a wire the test delivers in order (or message by message).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/node.h"
#include "storage/mem_store.h"

namespace aspen::node::testing {

class ManualClock final : public Clock {
 public:
  std::int64_t NowMs() const override { return 1'700'000'000'000 + steady_ms; }
  std::int64_t SteadyMs() const override { return steady_ms; }
  std::int64_t steady_ms = 0;
};

class Wire final : public Transport {
 public:
  void Send(std::vector<raft::pb::Message> messages) override {
    std::lock_guard lock(mu);
    for (auto& m : messages) q.push_back(std::move(m));
  }
  // What was sent, taken under the lock: for a test that runs one node's
  // RunOnce on another thread meanwhile (everything else reads q directly).
  std::deque<raft::pb::Message> TakeAll() {
    std::lock_guard lock(mu);
    return std::exchange(q, {});
  }
  std::mutex mu;
  std::deque<raft::pb::Message> q;
};

struct HandCluster {
  ManualClock clock;
  Wire wire;
  std::map<NodeId, std::unique_ptr<storage::MemStore>> stores;
  std::map<NodeId, std::unique_ptr<Node>> nodes;
  // Applied to every node's options before Open (tick_interval_ms is 10).
  NodeOptions base;
  // Every delivered message as "from>to:type@term", in delivery order.
  std::vector<std::string> trace;

  explicit HandCluster(int n, NodeOptions options = {}) : base(std::move(options)) {
    for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id) {
      stores[id] = std::make_unique<storage::MemStore>();
      Open(id, n);
    }
  }
  void Open(NodeId id, int n) {
    NodeOptions o = base;
    o.id = id;
    for (NodeId p = 1; p <= static_cast<NodeId>(n); ++p) o.initial_cluster[p] = "";
    o.store = stores[id].get();
    o.clock = &clock;
    o.transport = &wire;
    o.tick_interval_ms = 10;
    o.log = [](std::string_view) {};
    auto opened = Node::Open(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    nodes[id] = std::move(opened).value();
  }
  // Every node runs its inbox, then the wire is delivered until empty.
  void Deliver() {
    for (auto& [id, n] : nodes) n->RunOnce();
    while (!wire.q.empty()) {
      raft::pb::Message m = std::move(wire.q.front());
      wire.q.pop_front();
      auto it = nodes.find(m.to());
      if (it == nodes.end()) continue;
      trace.push_back(std::to_string(m.from()) + ">" + std::to_string(m.to()) + ":" +
                      std::to_string(m.type()) + "@" + std::to_string(m.term()));
      const Status st = it->second->Receive(std::move(m));
      (void)st;  // a message to a restarted node may be stale
      it->second->RunOnce();
    }
  }
  // Deliver, then 10 ms pass and every node ticks.
  void Step() {
    Deliver();
    clock.steady_ms += 10;
    for (auto& [id, n] : nodes) n->Tick();
  }
  NodeId Leader() {
    for (auto& [id, n] : nodes) {
      if (n->GetStatus().role == Role::kLeader) return id;
    }
    return 0;
  }
  // After the current leader is gone: delivers one message at a time (and
  // ticks when the wire is empty) and stops as soon as a node is leader,
  // before the entry of its term commits. 0 if none within the bound.
  NodeId ElectOneMessageAtATime() {
    NodeId leader = 0;
    for (int i = 0; i < 1000 && leader == 0; ++i) {
      if (wire.q.empty()) {
        clock.steady_ms += 10;
        for (auto& [id, n] : nodes) n->Tick();
        for (auto& [id, n] : nodes) n->RunOnce();
        leader = Leader();
        continue;
      }
      raft::pb::Message m = std::move(wire.q.front());
      wire.q.pop_front();
      auto it = nodes.find(m.to());
      if (it == nodes.end()) continue;
      (void)it->second->Receive(std::move(m));
      it->second->RunOnce();
      leader = Leader();
    }
    return leader;
  }
};

inline sm::v1::Command GrantCommand(std::int64_t id, std::int64_t ttl_s) {
  sm::v1::Command c;
  c.mutable_lease_grant()->set_id(id);
  c.mutable_lease_grant()->set_ttl(ttl_s);
  return c;
}

inline sm::v1::Command RevokeCommand(std::int64_t id) {
  sm::v1::Command c;
  c.mutable_lease_revoke()->set_id(id);
  return c;
}

// Steps until a leader is elected, then grants lease `id` with `ttl_s`
// through it and steps until the grant is answered. The leader, or 0 (with a
// test failure) when either does not happen within the bound.
inline NodeId ElectAndGrant(HandCluster* c, std::int64_t id, std::int64_t ttl_s) {
  for (int i = 0; i < 300 && c->Leader() == 0; ++i) c->Step();
  const NodeId leader = c->Leader();
  EXPECT_NE(leader, 0u);
  if (leader == 0) return 0;
  std::optional<Result<sm::v1::Response>> granted;
  c->nodes.at(leader)->Propose(GrantCommand(id, ttl_s),
                               [&](Result<sm::v1::Response> r) { granted = std::move(r); });
  for (int i = 0; i < 100 && !granted.has_value(); ++i) c->Step();
  EXPECT_TRUE(granted.has_value() && granted->ok());
  if (!granted.has_value() || !granted->ok()) return 0;
  EXPECT_TRUE((*granted)->has_lease_grant()) << (*granted)->DebugString();
  return leader;
}

}  // namespace aspen::node::testing
