// PeerTransport: node::Transport over gRPC, the sending half of the peer port
// (proto/aspen/peer/v1/peer.proto). peer_service.h is the receiving half.
//
// One sender thread per peer owns one stream to it (the peer port's framed TCP
// stream, peer_wire.h, or gRPC's Peer.Stream: PeerStreamKind) and a bounded
// queue (messages and bytes). Send() only enqueues: it never blocks
// on the network. A message is dropped, and the peer reported unreachable
// through PeerEvents, when
//   - the peer's queue is full (a slow or dead peer cannot grow memory),
//   - the peer's address is unknown (PeerEvents::ResolvePeer answers ""),
//   - the message alone is larger than kMaxPeerBatchBytes,
//   - the stream breaks: every message queued for the peer at that moment is
//     dropped too (raft retransmits), and the sender reconnects after a
//     back-off that doubles from backoff_min to backoff_max and resets after
//     the first successful write.
// Messages to one peer leave in Send order. While they wait in the queue, a
// message may be folded into the one queued before it when the pair is
// equivalent to one raft message (consecutive appends, superseded append
// acknowledgements, forwarded proposals: peer_coalesce.h), so one Batch
// carries fewer, larger messages when the peer's stream is busy or a Ready
// holds several messages to it. Nothing is retried by the transport itself.
// A MsgSnap goes on a snapshot stream of its own with the state it describes
// (peer_snapshot.h), not on the message stream.
//
// Thread safety: Send from one thread at a time (the node's Ready loop), as
// node::Transport says; Attach before the first Send; Stats and SetPeerTarget
// from any thread; Stop from any thread except a PeerEvents callback.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/env.h"
#include "raft/types.h"
#include "storage/store.h"

namespace aspen::server {

// Largest Batch the peer port accepts (its gRPC max receive size). A raft
// message holds at most max_size_per_msg (1 MiB) of entries or one entry of at
// most limits::kMaxRequestBytes, so one message always fits with room to spare.
inline constexpr std::size_t kMaxPeerBatchBytes = 16u << 20;

// What the transport tells its node. Called from sender threads.
class PeerEvents {
 public:
  virtual ~PeerEvents() = default;
  // A message to `peer` was dropped (queue full, stream broken, no address).
  virtual void ReportUnreachable(raft::NodeId peer) = 0;
  // The gRPC target ("host:port") of a peer the transport has no address
  // for, e.g. one added since start; "" when unknown. Called from the peer's
  // sender thread with no transport lock held.
  virtual std::string ResolvePeer(raft::NodeId peer) = 0;
  // The store view a MsgSnap at `index` describes (node::Node::
  // OutgoingSnapshot); nullptr when gone.
  virtual std::shared_ptr<storage::Snapshot> SnapshotView(std::uint64_t index) {
    (void)index;
    return nullptr;
  }
  // A snapshot stream to `peer` ended (ok: the peer has the state).
  virtual void ReportSnapshot(raft::NodeId peer, bool ok) {
    (void)peer;
    (void)ok;
  }
};

// How raft messages travel to a peer: over the peer port's own framed TCP
// stream (peer_wire.h; about one context switch per message on each side),
// or over a gRPC client stream (Peer.Stream). Both are served on the same
// peer port, so members with different settings talk to each other.
enum class PeerStreamKind { kTcp, kGrpc };

struct PeerTransportOptions {
  raft::NodeId self = 0;
  std::uint64_t cluster_id = 0;
  // Known peers: id -> gRPC target "host:port". Others are resolved on demand.
  std::map<raft::NodeId, std::string> peers;
  std::size_t queue_messages = 4096;    // per peer
  std::size_t queue_bytes = 64u << 20;  // per peer
  std::size_t batch_bytes = 4u << 20;   // target size of one Batch on the wire
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
  std::chrono::milliseconds dial_timeout{1000};
  PeerStreamKind stream = PeerStreamKind::kTcp;
};

// Counts of queued messages: a message folded into another counts once in
// coalesced_messages and is then carried (sent or dropped) by that one.
struct PeerTransportStats {
  std::uint64_t sent_messages = 0;
  std::uint64_t dropped_messages = 0;
  std::uint64_t broken_streams = 0;  // streams that failed to open or broke
  // Messages folded into the one queued before them (peer_coalesce.h).
  std::uint64_t coalesced_messages = 0;
};

class SnapshotSender;

class PeerTransport final : public node::Transport {
 public:
  explicit PeerTransport(PeerTransportOptions options);
  // Stops and joins every sender thread.
  ~PeerTransport() override;
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // `events` is not owned and must outlive the transport (or Stop()).
  void Attach(PeerEvents* events);

  // node::Transport. Messages to self or after Stop() are dropped silently.
  void Send(std::vector<raft::pb::Message> messages) override;

  // Sets or changes a peer's target; a live stream to it is reopened.
  void SetPeerTarget(raft::NodeId peer, std::string target);

  // Cancels every stream, drops what is queued, joins the threads. Idempotent.
  void Stop();

  // Totals over the current peers (reset by Stop).
  PeerTransportStats Stats() const;

 private:
  class Peer;
  Peer* GetOrCreatePeer(raft::NodeId id);  // guarded by mu_

  const PeerTransportOptions options_;
  PeerEvents* events_ = nullptr;
  std::unique_ptr<SnapshotSender> snapshots_;  // set by Attach
  mutable std::mutex mu_;
  bool stopped_ = false;                                 // guarded by mu_
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers_;  // guarded by mu_
};

}  // namespace aspen::server
