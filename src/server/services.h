// The etcd v3 gRPC services Aspen serves on the client port: KV, Lease,
// Cluster (MemberList) and Maintenance (Status, HashKV), on gRPC's callback
// API so that no thread waits for raft.
//
// Writes (Put, DeleteRange, Txn, LeaseGrant, LeaseRevoke) are validated
// (sm::Validate: etcd's checks and Aspen's limits), proposed through
// node::Node::Propose and answered when the node has applied them. Reads are
// linearizable (node::Node::ReadBarrier, then a snapshot) unless the request
// is serializable; they run on the WorkerPool. Lease keep-alives and
// time-to-live are answered by the leader: a follower forwards them over the
// peer port (PeerClient). Every response header carries cluster_id,
// member_id, the revision the answer reflects and the raft term; every error
// is etcd's (etcd_errors.h).
//
// Thread safety: the services are called by gRPC concurrently; ServiceEnv's
// pointees are thread-safe and must outlive the gRPC server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "etcdserverpb/cluster.grpc.pb.h"
#include "etcdserverpb/kv.grpc.pb.h"
#include "etcdserverpb/lease.grpc.pb.h"
#include "etcdserverpb/maintenance.grpc.pb.h"
#include "etcdserverpb/watch.grpc.pb.h"
#include "node/node.h"
#include "node/watch_hub.h"
#include "server/metrics.h"
#include "server/open_streams.h"
#include "server/peer_client.h"
#include "server/quota_gauge.h"
#include "server/stream_threads.h"
#include "server/worker_pool.h"

namespace aspen::server {

// The version Maintenance.Status reports: the etcd API level Aspen serves.
inline constexpr const char* kEtcdApiVersion = "3.4.0";

struct ServiceEnv {
  node::Node* node = nullptr;
  RequestMetrics* metrics = nullptr;
  WorkerPool* pool = nullptr;
  PeerClient* peers = nullptr;
  node::WatchHub* watch_hub = nullptr;
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;
  // This member's name and client URLs (MemberList, the peer Member call).
  std::string name;
  std::vector<std::string> client_urls;
  // etcd's minimum lease TTL (1.5 election timeouts, in seconds, rounded up):
  // shorter grants are raised to it, as etcd does.
  std::int64_t min_lease_ttl_s = 2;
  // Bytes the database takes on disk (Maintenance.Status dbSize).
  std::function<std::int64_t()> db_size_bytes;
  // ----- Maintenance (maintenance_*.cc) -----
  // Bytes the state takes (Status dbSizeInUse; what the quota counts).
  std::function<Result<std::uint64_t>()> state_bytes;
  // Maintenance.Defragment: compacts the state column families.
  std::function<aspen::Status()> defragment;
  // The NOSPACE quota on state_bytes (etcd's --quota-backend-bytes); 0 = none.
  std::int64_t quota_backend_bytes = 0;
  // The quota check's reading of state_bytes (quota_gauge.h).
  QuotaGauge quota_gauge;
  // Where Maintenance.Snapshot writes the stream before sending it.
  std::string snapshot_tmp_dir;
  // Snapshot streams in progress (bounded by kMaxSnapshotStreams).
  std::atomic<int> snapshot_streams{0};
  // Their writer threads: stopped and joined before the node stops.
  StreamThreads stream_threads;
  // Watch and keep-alive streams, ended when the server stops.
  OpenStreams open_streams;

  // Why the worker pool refused a task: etcd's "server stopped" once the
  // server is stopping, else "too many requests" (its queue is full).
  grpc::Status PoolRefused() const;
  // Fills cluster_id, member_id, raft_term (now) and `revision`.
  void FillHeader(etcdserverpb::ResponseHeader* header, std::int64_t revision) const;
  // The peer target ("host:port") of member `id`, "" when unknown.
  std::string PeerTarget(node::NodeId id) const;
};

class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  explicit KvService(ServiceEnv* env) : env_(env) {}
  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::RangeRequest* req,
                                  etcdserverpb::RangeResponse* resp) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::PutRequest* req,
                                etcdserverpb::PutResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::DeleteRangeRequest* req,
                                        etcdserverpb::DeleteRangeResponse* resp) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::TxnRequest* req,
                                etcdserverpb::TxnResponse* resp) override;
  // Proposes etcd's compaction through raft (docs/WATCH.md); with physical,
  // answers once this member's history rows below it are gone.
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* ctx,
                                    const etcdserverpb::CompactionRequest* req,
                                    etcdserverpb::CompactionResponse* resp) override;

 private:
  ServiceEnv* env_;
};

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  explicit LeaseService(ServiceEnv* env) : env_(env) {}
  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::LeaseGrantRequest* req,
                                       etcdserverpb::LeaseGrantResponse* resp) override;
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseRevokeRequest* req,
                                        etcdserverpb::LeaseRevokeResponse* resp) override;
  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* ctx) override;
  // An unknown lease answers TTL -1 (etcd), not an error.
  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* ctx,
                                            const etcdserverpb::LeaseTimeToLiveRequest* req,
                                            etcdserverpb::LeaseTimeToLiveResponse* resp) override;
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseLeasesRequest* req,
                                        etcdserverpb::LeaseLeasesResponse* resp) override;

  // One keep-alive of a follower: forwarded to the leader over the peer port
  // (the leader renews with node::Node::KeepAlive, which may wait there). TTL
  // 0 for an unknown lease, as etcd answers. Holds no thread while the leader
  // answers: `done` runs once, on a gRPC thread or inline.
  using KeepAliveDone =
      std::function<void(const grpc::Status&, etcdserverpb::LeaseKeepAliveResponse)>;
  void ForwardKeepAlive(std::int64_t id, KeepAliveDone done);

 private:
  ServiceEnv* env_;
};

// etcd's Watch: one bidirectional stream, many watchers (watch_service.cc).
class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  explicit WatchService(ServiceEnv* env) : env_(env) {}
  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* ctx) override;

 private:
  ServiceEnv* env_;
};

namespace internal {
struct Call;
}

// Membership (docs/OPERATIONS.md): MemberList, and MemberAdd / MemberRemove /
// MemberUpdate / MemberPromote through raft conf changes (node::Node), one at
// a time, with etcd's checks and errors: invalid or already used peer URLs,
// at most kMaxLearners learners, the strict reconfiguration check on the
// leader (the voters heard from recently stay a quorum), promotion only of a
// learner in sync with the leader (a follower forwards the promotion to the
// leader over the peer port). Removing the leader from the leader hands
// leadership to the most caught-up voter first.
class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  // etcd 3.4's limit on learners in a cluster.
  static constexpr int kMaxLearners = 1;
  static constexpr std::chrono::milliseconds kLeaderTransferTimeout{5000};

  explicit ClusterService(ServiceEnv* env) : env_(env) {}
  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::MemberListRequest* req,
                                       etcdserverpb::MemberListResponse* resp) override;
  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* ctx,
                                      const etcdserverpb::MemberAddRequest* req,
                                      etcdserverpb::MemberAddResponse* resp) override;
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::MemberRemoveRequest* req,
                                         etcdserverpb::MemberRemoveResponse* resp) override;
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::MemberUpdateRequest* req,
                                         etcdserverpb::MemberUpdateResponse* resp) override;
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* ctx,
                                          const etcdserverpb::MemberPromoteRequest* req,
                                          etcdserverpb::MemberPromoteResponse* resp) override;

 private:
  // Blocking (asks peers for names): call on the worker pool.
  void FillMembers(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* out);
  void FillMember(const node::Member& m, etcdserverpb::Member* out);
  void FinishChange(const internal::Call& call, Status s, std::function<void()> fill);
  // Hands leadership from `leader` to another voter (on the leader: its most
  // caught-up one; on a follower: itself, asked through the leader); false
  // when no other member led within kLeaderTransferTimeout. Blocking.
  bool HandOffLeadership(node::NodeId leader);
  // Asks for `target` to lead until a member other than `old_leader` leads
  // (kLeaderTransferTimeout). Blocking.
  bool WaitForLeader(node::NodeId target, node::NodeId old_leader);

  ServiceEnv* env_;
  std::mutex mu_;
  // Names and client URLs learned from other members' peer ports.
  std::map<node::NodeId, peer::v1::MemberInfo> known_;  // guarded by mu_
};

// Maintenance: Status, Hash, HashKV, Alarm, Defragment and the Snapshot
// stream (maintenance_service.cc, maintenance_snapshot.cc) and MoveLeader
// (move_leader.cc). docs/OPERATIONS.md describes what each one does.
class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  // Concurrent Snapshot streams per member; more get "too many requests".
  static constexpr int kMaxSnapshotStreams = 2;

  explicit MaintenanceService(ServiceEnv* env) : env_(env) {}
  // move_leader.cc: leadership transfer, answered once `targetID` leads.
  // etcd's errors: "not leader" on another member, "bad leader transferee"
  // for an unknown member or a learner, the leader-transfer timeout.
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::MoveLeaderRequest* req,
                                       etcdserverpb::MoveLeaderResponse* resp) override;
  // errors: "etcdserver: no leader" without a leader, then every alarm as
  // etcd prints it ("memberID:N alarm:NOSPACE ").
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const etcdserverpb::StatusRequest* req,
                                   etcdserverpb::StatusResponse* resp) override;
  // SHA-256 over every state column family's rows, first 4 bytes: equal on
  // replicas at the same applied index.
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* ctx,
                                 const etcdserverpb::HashRequest* req,
                                 etcdserverpb::HashResponse* resp) override;
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* ctx,
                                   const etcdserverpb::HashKVRequest* req,
                                   etcdserverpb::HashKVResponse* resp) override;
  // GET reads the replicated alarms (linearizable); ACTIVATE and DEACTIVATE
  // go through raft.
  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::AlarmRequest* req,
                                  etcdserverpb::AlarmResponse* resp) override;
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::DefragmentRequest* req,
                                       etcdserverpb::DefragmentResponse* resp) override;
  // A consistent backup in storage/snapshot.h's format, whose last 32 bytes
  // are the SHA-256 etcdctl checks. remaining_bytes counts down to 0.
  grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* Snapshot(
      grpc::CallbackServerContext* ctx, const etcdserverpb::SnapshotRequest* req) override;

 private:
  ServiceEnv* env_;
};

}  // namespace aspen::server
