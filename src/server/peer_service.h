// PeerService: the receiving half of the peer port (proto/aspen/peer/v1/peer.proto).
//
// Every Batch is checked before anything reaches the node: the cluster id
// must be this cluster's and `to` this member (FAILED_PRECONDITION naming both
// ids otherwise, which ends the stream: a member of another cluster or with
// a stale configuration never feeds our raft), every message must name the
// batch's sender and this member and be a network message type
// (INVALID_ARGUMENT otherwise). gRPC itself rejects bytes that are not a
// Batch, and batches over kMaxPeerBatchBytes (the server's max receive size).
// A message the node refuses (its inbox is full) is dropped: raft retransmits.
//
// Stream uses gRPC's callback API (a ServerReadReactor): each Batch is
// checked and handed to the node with one PeerHandler::ReceiveBatch (one inbox
// push and one wake-up of the Ready loop) on the gRPC thread that read it,
// with no synchronous-server thread in between. The other methods are
// synchronous.
//
// The lease calls answer from the local node, which keeps leases alive only
// while it leads (node::Node::KeepAlive).
//
// Thread safety: gRPC calls the methods from its threads concurrently; the
// PeerHandler must be thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aspen/peer/v1/peer.grpc.pb.h"
#include "base/status.h"
#include "node/node.h"
#include "raft/types.h"

namespace aspen::server {

// What the peer port delivers to; node::Node in production (NodePeerAdapter).
class PeerHandler {
 public:
  virtual ~PeerHandler() = default;
  virtual Status Receive(raft::pb::Message message) = 0;
  // Every message of one checked Batch, in order; how many were accepted.
  // The default hands them to Receive one by one.
  virtual std::size_t ReceiveBatch(std::vector<raft::pb::Message> messages) {
    std::size_t accepted = 0;
    for (raft::pb::Message& m : messages) accepted += Receive(std::move(m)).ok() ? 1 : 0;
    return accepted;
  }
  virtual Result<std::int64_t> KeepAlive(std::int64_t lease_id) = 0;
  virtual Result<node::LeaseStatus> LeaseTimeToLive(std::int64_t lease_id) = 0;
  // A MsgSnap whose state file (storage/snapshot.h, verified) is at `path`;
  // the handler owns the file from now on.
  virtual Status ReceiveSnapshot(raft::pb::Message message, const std::string& path) {
    (void)message;
    (void)path;
    return Status::Unimplemented("snapshots are not supported here");
  }
  // The address book, for a joining member (Cluster).
  virtual std::vector<node::Member> Members() { return {}; }
  // Promotes a learner (this member must lead); blocks until applied or
  // refused.
  virtual Status PromoteMember(raft::NodeId id) {
    (void)id;
    return Status::Unimplemented("member promotion is not supported here");
  }
};

struct PeerServiceStats {
  std::uint64_t received_messages = 0;  // handed to the node and accepted
  std::uint64_t refused_messages = 0;   // refused by the node (inbox full, stopped)
  std::uint64_t rejected_batches = 0;   // wrong cluster/member or malformed
};

class PeerService final
    : public peer::v1::Peer::WithCallbackMethod_Stream<peer::v1::Peer::Service> {
 public:
  // `handler` is not owned and must outlive the service's gRPC server.
  // `self_info` is what Member answers (its id is `self`).
  PeerService(std::uint64_t cluster_id, raft::NodeId self, PeerHandler* handler,
              peer::v1::MemberInfo self_info = {});

  grpc::ServerReadReactor<peer::v1::Batch>* Stream(grpc::CallbackServerContext* context,
                                                   peer::v1::StreamSummary* summary) override;
  grpc::Status LeaseKeepAlive(grpc::ServerContext* context, const peer::v1::LeaseRequest* request,
                              peer::v1::LeaseReply* reply) override;
  grpc::Status LeaseTimeToLive(grpc::ServerContext* context, const peer::v1::LeaseRequest* request,
                               peer::v1::LeaseReply* reply) override;
  grpc::Status Member(grpc::ServerContext* context, const peer::v1::MemberRequest* request,
                      peer::v1::MemberInfo* reply) override;
  grpc::Status Cluster(grpc::ServerContext* context, const peer::v1::MemberRequest* request,
                       peer::v1::ClusterInfo* reply) override;
  // peer_snapshot.cc
  grpc::Status Snapshot(grpc::ServerContext* context,
                        grpc::ServerReader<peer::v1::SnapshotChunk>* reader,
                        peer::v1::SnapshotReply* reply) override;
  grpc::Status MemberPromote(grpc::ServerContext* context, const peer::v1::PromoteRequest* request,
                             peer::v1::PromoteReply* reply) override;

  // Where received snapshot files are staged, and the largest accepted.
  // Must be called before the server starts; without it Snapshot answers
  // UNIMPLEMENTED.
  void SetSnapshotStaging(std::string dir, std::uint64_t max_bytes);

  PeerServiceStats Stats() const;

  // OK, or the status that ends the stream for this batch (see above).
  grpc::Status CheckBatch(const peer::v1::Batch& batch) const;

  // The hello of a raft stream (peer_wire.h): a Batch with no messages that
  // passes CheckBatch; a refusal is counted as a rejected batch.
  grpc::Status CheckHello(const peer::v1::Batch& hello);

  // Checks `batch` and hands its messages to the handler (moved out of it);
  // the check's status otherwise (counted as a rejected batch). Used by the
  // gRPC Stream and by the peer port's own raft streams (peer_port.h).
  // `accepted` (optional) gets how many messages the handler took.
  grpc::Status Deliver(peer::v1::Batch* batch, std::size_t* accepted = nullptr);

 private:
  class StreamReader;
  grpc::Status CheckCluster(std::uint64_t cluster_id) const;

  const std::uint64_t cluster_id_;
  const raft::NodeId self_;
  PeerHandler* const handler_;
  const peer::v1::MemberInfo self_info_;
  std::string staging_dir_;
  std::uint64_t max_snapshot_bytes_ = 0;
  std::atomic<std::uint64_t> next_staged_{1};
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace aspen::server
