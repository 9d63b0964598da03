// MemberUpkeep: a member's own membership chores, on one thread.
//   - Publishes this member's name and client URLs through raft once it runs
//     and the cluster has a leader, when the replicated members record lacks
//     them or holds stale ones (etcd's "attributes" update), so MemberList
//     shows them on every member, restarted ones and ones whose peers are down.
//   - Notices that this member was removed from the cluster: it applied its
//     own removal, or (having lost its leader for two election timeouts) a
//     majority of the other members answer a Cluster call with a member list
//     that no longer holds it. Then removed() turns true, the log says "the
//     member has been permanently removed from the cluster", and `aspen
//     serve` exits non-zero (etcd's member exits the same way).
//
// Thread safety: Start/Stop from one thread; removed() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "node/node.h"
#include "server/peer_client.h"

namespace aspen::server {

class MemberUpkeep {
 public:
  struct Options {
    node::NodeId self = 0;
    std::uint64_t cluster_id = 0;
    std::string name;
    std::string client_urls;  // comma-separated
    std::chrono::milliseconds election_timeout{1000};
    std::chrono::milliseconds interval{100};
    std::function<void(std::string_view)> log;
  };
  MemberUpkeep(node::Node* node, Options options) : node_(node), opts_(std::move(options)) {}
  ~MemberUpkeep() { Stop(); }
  MemberUpkeep(const MemberUpkeep&) = delete;
  MemberUpkeep& operator=(const MemberUpkeep&) = delete;

  void Start();
  void Stop();
  bool removed() const { return removed_.load(); }

 private:
  void Run();
  void MaybePublish();
  void CheckRemoved();
  bool AskPeersWhetherRemoved();
  void MarkRemoved(std::string_view how);

  node::Node* node_;
  Options opts_;
  std::atomic<bool> removed_{false};
  // Shared with the publish callback, which may run after Stop().
  std::shared_ptr<std::atomic<bool>> publishing_ = std::make_shared<std::atomic<bool>>(false);
  std::chrono::steady_clock::time_point next_publish_{};
  std::chrono::steady_clock::time_point leaderless_since_{};
  std::chrono::steady_clock::time_point next_ask_{};
  bool had_leader_ = true;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace aspen::server
