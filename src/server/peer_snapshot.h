// Raft snapshots over the peer port (Peer.Snapshot in peer.proto): the
// sending half. A MsgSnap the node hands to PeerTransport::Send does not go
// on the message stream: SnapshotSender writes the state the MsgSnap
// describes (the node's store view at the snapshot index, PeerEvents::
// SnapshotView) in storage/snapshot.h's format, in messages of
// limits::kSnapshotSendBytes, on a client stream of its own, and reports the
// outcome (PeerEvents::ReportSnapshot) so raft probes again or resumes. The
// receiving half is PeerService::Snapshot (peer_snapshot.cc).
//
// Bounds: one snapshot in flight per peer (another MsgSnap for the same peer
// meanwhile is dropped and reported failed; raft retries), a stream deadline
// of `timeout`.
//
// Thread safety: Start and Stop from any thread; one thread per snapshot in
// flight, joined by the next Start for that peer or by Stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "raft/types.h"
#include "server/peer_transport.h"

namespace grpc {
class ClientContext;
}

namespace aspen::server {

class SnapshotSender {
 public:
  SnapshotSender(const PeerTransportOptions& options, PeerEvents* events,
                 std::chrono::milliseconds timeout = std::chrono::minutes(10));
  ~SnapshotSender();
  SnapshotSender(const SnapshotSender&) = delete;
  SnapshotSender& operator=(const SnapshotSender&) = delete;

  // Starts sending `message` (a MsgSnap). False when one is already in
  // flight to that peer or after Stop (the caller reports the failure).
  bool Start(raft::pb::Message message);
  // Cancels every stream and joins the threads. Idempotent.
  void Stop();

  std::uint64_t sent() const;

 private:
  void Run(raft::pb::Message message);
  // OK or why the stream failed.
  Status Send(const raft::pb::Message& message, const std::string& target);

  const PeerTransportOptions& options_;
  PeerEvents* const events_;
  const std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  bool stopped_ = false;                                   // guarded by mu_
  std::map<raft::NodeId, std::thread> threads_;            // guarded by mu_
  std::set<raft::NodeId> active_;                          // guarded by mu_
  std::map<raft::NodeId, grpc::ClientContext*> contexts_;  // guarded by mu_
  std::uint64_t sent_ = 0;                                 // guarded by mu_
};

}  // namespace aspen::server
