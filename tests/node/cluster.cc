#include "node/cluster.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "sm/reads.h"
#include "storage/snapshot.h"

namespace aspen::node::testing {

void Network::Attach(NodeId id, Node* node) {
  std::lock_guard lock(mu_);
  nodes_[id] = node;
}

void Network::Detach(NodeId id) {
  std::lock_guard lock(mu_);
  nodes_.erase(id);
}

void Network::Isolate(NodeId id) {
  std::lock_guard lock(mu_);
  isolated_.insert(id);
}

void Network::Heal() {
  std::lock_guard lock(mu_);
  isolated_.clear();
}

void Network::SetDropFilter(std::function<bool(const raft::pb::Message&)> drop) {
  std::lock_guard lock(mu_);
  drop_ = std::move(drop);
}

void Network::SetSnapshotDelivery(SnapshotDelivery deliver) {
  std::lock_guard lock(mu_);
  deliver_snapshot_ = std::move(deliver);
}

void Network::Deliver(NodeId from, std::vector<raft::pb::Message> msgs) {
  std::vector<NodeId> unreachable;
  {
    std::lock_guard lock(mu_);
    for (raft::pb::Message& m : msgs) {
      const NodeId to = m.to();
      auto it = nodes_.find(to);
      if (it == nodes_.end() || isolated_.count(to) != 0 || isolated_.count(from) != 0) {
        unreachable.push_back(to);
        continue;
      }
      if (drop_ && drop_(m)) continue;
      if (m.type() == raft::pb::MSG_SNAP) {
        // The state travels beside the message, as over the peer port: the
        // loader copies the sender's state rows at the snapshot index.
        auto sender = nodes_.find(from);
        std::shared_ptr<storage::Snapshot> view =
            sender == nodes_.end()
                ? nullptr
                : sender->second->OutgoingSnapshot(m.snapshot().metadata().index());
        if (deliver_snapshot_) {
          const bool ok = view != nullptr && deliver_snapshot_(it->second, std::move(m), view);
          if (sender != nodes_.end()) sender->second->ReportSnapshot(to, ok);
          continue;
        }
        const bool ok =
            view != nullptr &&
            it->second
                ->ReceiveSnapshot(std::move(m),
                                  [view](storage::WriteBatch* batch) -> Status {
                                    for (storage::Cf cf : storage::StateCfs()) {
                                      auto rows = view->NewIterator(cf);
                                      for (rows->SeekToFirst(); rows->Valid(); rows->Next()) {
                                        batch->Put(cf, rows->key(), rows->value());
                                      }
                                      ASPEN_RETURN_IF_ERROR(rows->status());
                                    }
                                    return Status::Ok();
                                  })
                .ok();
        if (sender != nodes_.end()) sender->second->ReportSnapshot(to, ok);
        continue;
      }
      // A full inbox drops the message, as a real transport would.
      (void)it->second->Receive(std::move(m));
    }
    auto self = nodes_.find(from);
    if (self != nodes_.end()) {
      for (NodeId id : unreachable) self->second->ReportUnreachable(id);
    }
  }
}

Result<sm::v1::Response> ProposeSync(Node* node, sm::v1::Command cmd,
                                     std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Result<sm::v1::Response>>>();
  auto future = promise->get_future();
  node->Propose(std::move(cmd),
                [promise](Result<sm::v1::Response> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Status::Internal("test: no answer to the proposal in time");
  }
  return future.get();
}

Status ReadBarrierSync(Node* node, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  node->ReadBarrier([promise](Status s) { promise->set_value(std::move(s)); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Status::Internal("test: no answer to the read barrier in time");
  }
  return future.get();
}

sm::v1::Command PutCmd(const std::string& key, const std::string& value, std::int64_t lease,
                       std::int64_t ttl_ms) {
  sm::v1::Command cmd;
  sm::v1::PutRequest* put = cmd.mutable_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  put->set_ttl_ms(ttl_ms);
  return cmd;
}

std::optional<std::string> GetValue(Node* node, const std::string& key, std::int64_t now_ms) {
  auto snap = node->GetSnapshot();
  sm::v1::RangeRequest req;
  req.set_key(key);
  auto got = sm::Range(*snap, req, now_ms);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (!got.ok() || got->kvs_size() == 0) return std::nullopt;
  return got->kvs(0).value();
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

Cluster::Cluster(ClusterOptions options) : options_(options) {
  for (int i = 1; i <= options_.size; ++i) {
    const auto id = static_cast<NodeId>(i);
    if (options_.rocks_dir.empty()) {
      stores_[id] = std::make_unique<storage::MemStore>();
    } else {
      stores_[id] = nullptr;
      ReopenStore(id);
    }
    transports_[id] = std::make_unique<LocalTransport>(&net_, id);
  }
  if (!options_.rocks_dir.empty()) {
    net_.SetSnapshotDelivery(
        [this](Node* to, raft::pb::Message m, std::shared_ptr<storage::Snapshot> view) {
          return DeliverSnapshotFile(to, std::move(m), std::move(view));
        });
  }
}

void Cluster::ReopenStore(NodeId id) {
  ASSERT_FALSE(running(id));
  stores_[id].reset();
  const std::string dir = options_.rocks_dir + "/node-" + std::to_string(id);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto opened = storage::RocksStore::Open(dir + "/db");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  stores_[id] = std::move(opened).value();
}

void Cluster::SetIngestOptions(NodeId id, storage::SstIngestOptions o) {
  std::lock_guard lock(ingest_mu_);
  ingest_options_[id] = std::move(o);
}

bool Cluster::DeliverSnapshotFile(Node* to, raft::pb::Message m,
                                  std::shared_ptr<storage::Snapshot> view) {
  const NodeId id = m.to();
  storage::RocksStore* store = rocks(id);
  if (store == nullptr) return false;
  auto applied = sm::ReadAppliedState(*view);
  if (!applied.ok()) return false;
  storage::SnapshotHeader h;
  h.applied_index = m.snapshot().metadata().index();
  h.applied_term = m.snapshot().metadata().term();
  h.revision = applied->revision;
  h.conf_state = m.snapshot().metadata().conf_state().SerializeAsString();
  // The file goes away with the last copy of the ingester, as in the server.
  auto path = std::shared_ptr<std::string>(
      new std::string(options_.rocks_dir + "/incoming-" + std::to_string(id) + "-" +
                      std::to_string(next_snapshot_file_++) + ".snap"),
      [](std::string* p) {
        std::error_code ec;
        std::filesystem::remove(*p, ec);
        delete p;
      });
  {
    auto sink = storage::FileSink::Create(*path);
    if (!sink.ok()) return false;
    if (!storage::WriteStateSnapshot(*view, h, sink->get()).ok()) return false;
    if (!(*sink)->Finish().ok()) return false;
  }
  return to
      ->ReceiveSnapshotIngest(std::move(m),
                              [this, path, store, id](const std::string& marker) -> Status {
                                storage::SstIngestOptions o;
                                {
                                  std::lock_guard lock(ingest_mu_);
                                  o = ingest_options_[id];
                                }
                                o.replace_existing = true;
                                o.marker = marker;
                                o.keep_marker = true;
                                auto source = storage::FileSource::Open(*path);
                                if (!source.ok()) return source.status();
                                auto done = store->IngestStateSnapshotSst(source->get(), o);
                                return done.ok() ? Status::Ok() : done.status();
                              })
      .ok();
}

Cluster::~Cluster() {
  for (auto& [id, node] : nodes_) {
    if (node != nullptr) Stop(id);
  }
}

NodeOptions Cluster::OptionsFor(NodeId id) {
  NodeOptions o;
  o.id = id;
  for (int i = 1; i <= options_.size; ++i) {
    o.initial_cluster[static_cast<NodeId>(i)] = "node-" + std::to_string(i);
  }
  o.store = stores_.at(id).get();
  o.transport = transports_.at(id).get();
  o.tick_interval_ms = options_.tick_interval_ms;
  o.request_timeout_ms = options_.request_timeout_ms;
  o.expiry_interval_ms = options_.expiry_interval_ms;
  o.max_pending_proposals = options_.max_pending_proposals;
  o.snapshot_count = options_.snapshot_count;
  o.snapshot_catchup_entries = options_.snapshot_catchup_entries;
  o.log = [this](std::string_view line) {
    std::lock_guard lock(log_mu_);
    log_lines_.emplace_back(line);
  };
  return o;
}

void Cluster::Start(NodeId id) {
  auto opened = Node::Open(OptionsFor(id));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  nodes_[id] = std::move(opened).value();
  net_.Attach(id, nodes_[id].get());
  ASSERT_TRUE(nodes_[id]->Start().ok());
}

void Cluster::StartAll() {
  for (int i = 1; i <= options_.size; ++i) Start(static_cast<NodeId>(i));
}

void Cluster::Stop(NodeId id) {
  net_.Detach(id);
  nodes_.at(id)->Stop();
  nodes_[id].reset();
}

NodeId Cluster::WaitLeader(std::chrono::milliseconds timeout) {
  NodeId leader = 0;
  WaitFor(
      [&] {
        leader = 0;
        for (auto& [id, node] : nodes_) {
          if (node == nullptr) continue;
          NodeStatus s = node->GetStatus();
          if (s.leader == 0) return false;
          if (leader != 0 && s.leader != leader) return false;
          leader = s.leader;
        }
        return leader != 0 && running(leader) && node(leader)->GetStatus().role == Role::kLeader;
      },
      timeout);
  return running(leader) && node(leader)->GetStatus().role == Role::kLeader ? leader : 0;
}

bool Cluster::WaitApplied(std::uint64_t index, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        for (auto& [id, node] : nodes_) {
          if (node != nullptr && node->GetStatus().applied_index < index) return false;
        }
        return true;
      },
      timeout);
}

std::vector<std::string> Cluster::log_lines() {
  std::lock_guard lock(log_mu_);
  return log_lines_;
}

}  // namespace aspen::node::testing
