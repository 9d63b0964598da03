// Test support for node/: an in-memory Transport and an in-process cluster of
// real Nodes (own loop threads, real clock, short ticks), each on a MemStore
// that survives restarts. Every wait is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "node/node.h"
#include "storage/mem_store.h"
#include "storage/rocks_store.h"

namespace aspen::node::testing {

// Delivers each message synchronously into the target's inbox (ordered per
// sender and receiver). Nodes can be detached (down) or isolated (cut).
class Network {
 public:
  void Attach(NodeId id, Node* node);
  void Detach(NodeId id);
  // Drops every message to or from `id` until Heal().
  void Isolate(NodeId id);
  void Heal();
  // Drops each message for which `drop` returns true (a lossy link); an empty
  // function drops nothing. Called under the network lock.
  void SetDropFilter(std::function<bool(const raft::pb::Message&)> drop);
  // Hands a MsgSnap and the sender's state view to `deliver` instead of the
  // in-memory loader; true when the receiver queued it. Called under the
  // network lock.
  using SnapshotDelivery =
      std::function<bool(Node* to, raft::pb::Message m, std::shared_ptr<storage::Snapshot> view)>;
  void SetSnapshotDelivery(SnapshotDelivery deliver);
  void Deliver(NodeId from, std::vector<raft::pb::Message> msgs);

 private:
  std::mutex mu_;
  std::map<NodeId, Node*> nodes_;
  std::set<NodeId> isolated_;
  std::function<bool(const raft::pb::Message&)> drop_;
  SnapshotDelivery deliver_snapshot_;
};

class LocalTransport final : public Transport {
 public:
  LocalTransport(Network* net, NodeId self) : net_(net), self_(self) {}
  void Send(std::vector<raft::pb::Message> messages) override {
    net_->Deliver(self_, std::move(messages));
  }

 private:
  Network* net_;
  NodeId self_;
};

// Runs `f` with a completion callback and waits (bounded) for its result.
Result<sm::v1::Response> ProposeSync(Node* node, sm::v1::Command cmd,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
Status ReadBarrierSync(Node* node, std::chrono::milliseconds timeout = std::chrono::seconds(5));

sm::v1::Command PutCmd(const std::string& key, const std::string& value, std::int64_t lease = 0,
                       std::int64_t ttl_ms = 0);
// The key's value on `node` (its applied state), or nullopt if absent.
// now_ms 0 shows rows even if their TTL passed (they are physically there).
std::optional<std::string> GetValue(Node* node, const std::string& key, std::int64_t now_ms);

// Polls `pred` every few ms until it is true or `timeout` passes.
bool WaitFor(const std::function<bool()>& pred,
             std::chrono::milliseconds timeout = std::chrono::seconds(5));

struct ClusterOptions {
  int size = 3;
  std::int64_t tick_interval_ms = 10;
  std::int64_t request_timeout_ms = 2000;
  std::int64_t expiry_interval_ms = 50;
  std::size_t max_pending_proposals = 4096;
  std::uint64_t snapshot_count = 0;  // 0: no log compaction
  std::uint64_t snapshot_catchup_entries = 0;
  // Non-empty: each node's store is a RocksStore in rocks_dir/node-<id>/db,
  // and a received snapshot travels as a snapshot file and is installed
  // through RocksStore::IngestStateSnapshotSst (as `aspen serve` does).
  std::string rocks_dir = {};
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {});
  ~Cluster();

  // Opens and starts node i (ids are 1..size). Restarting keeps its store.
  void Start(NodeId id);
  void StartAll();
  void Stop(NodeId id);
  Node* node(NodeId id) { return nodes_.at(id).get(); }
  bool running(NodeId id) const { return nodes_.count(id) != 0 && nodes_.at(id) != nullptr; }
  // The MemStore of node `id` (nullptr in rocks_dir mode).
  storage::MemStore* store(NodeId id) {
    return dynamic_cast<storage::MemStore*>(stores_.at(id).get());
  }
  // rocks_dir mode: the RocksStore of node `id`; Reopen closes and reopens it
  // (the node must be stopped), as a process restart would.
  storage::RocksStore* rocks(NodeId id) {
    return dynamic_cast<storage::RocksStore*>(stores_.at(id).get());
  }
  void ReopenStore(NodeId id);
  // rocks_dir mode: the options the next snapshot install into `id` uses
  // (replace_existing, marker and keep_marker are set by the install).
  void SetIngestOptions(NodeId id, storage::SstIngestOptions o);
  Network& net() { return net_; }
  // The leader all running nodes agree on (waits, bounded); 0 if none.
  NodeId WaitLeader(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits until every running node applied at least `index`.
  bool WaitApplied(std::uint64_t index,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
  NodeOptions OptionsFor(NodeId id);
  // rocks_dir mode: the MsgSnap delivery (Network::SetSnapshotDelivery).
  bool DeliverSnapshotFile(Node* to, raft::pb::Message m, std::shared_ptr<storage::Snapshot> view);
  std::vector<std::string> log_lines();

 private:
  ClusterOptions options_;
  Network net_;
  std::map<NodeId, std::unique_ptr<storage::Store>> stores_;
  std::mutex ingest_mu_;
  std::map<NodeId, storage::SstIngestOptions> ingest_options_;
  std::uint64_t next_snapshot_file_ = 0;  // under the network lock
  std::map<NodeId, std::unique_ptr<LocalTransport>> transports_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::mutex log_mu_;
  std::vector<std::string> log_lines_;
};

}  // namespace aspen::node::testing
