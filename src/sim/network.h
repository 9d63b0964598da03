// Network: the simulated network between nodes and clients.
//
// Fault model (drawn per seed, see options.h): every message gets a latency
// drawn uniformly from [latency_min_ms, latency_max_ms]; it may be lost
// (probability `loss`), duplicated (`duplicate`: a second copy with its own
// latency; raft messages other than forwarded proposals only, client traffic
// and the peer transport's streams model TCP) or held back by an extra delay
// (`reorder`), so messages overtake each other. Links can be cut one way (Cut) or both ways; a cut
// is checked when the message is delivered, so a partition also drops what was already in flight on
// that link. Messages to a node that is down are dropped on arrival.
//
// Deterministic: packets are delivered in (delivery time, send sequence)
// order, and every random choice comes from the run's Rng.
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raft/types.h"
#include "sim/history.h"
#include "sim/options.h"
#include "sim/rng.h"
#include "storage/store.h"

namespace aspen::sim {

// Endpoints: nodes have ids 1..kMaxNodes; client c has id kClientBase + c.
using Endpoint = std::uint64_t;
inline constexpr Endpoint kClientBase = 1000;

struct ClientRequest {
  std::uint64_t request_id = 0;  // unique in the run
  Operation op;                  // kind, key, value, expected
};

enum class ReplyStatus {
  kOk,       // done; the result fields are set
  kRefused,  // certainly not executed (not the leader, proposal dropped)
  kUnknown,  // may or may not have been executed (leadership lost)
};

struct ClientReply {
  std::uint64_t request_id = 0;
  ReplyStatus status = ReplyStatus::kRefused;
  raft::NodeId leader_hint = raft::kNone;
  KeyState read;
  bool flag = false;
  std::vector<std::pair<std::string, KeyState>> range;  // kRange
};

struct Packet {
  Endpoint from = 0;
  Endpoint to = 0;
  enum class Kind { kRaft, kRequest, kReply } kind = Kind::kRaft;
  raft::pb::Message raft;
  // Node runtime, MSG_SNAP: the sender's store view at the snapshot index
  // (the state the peer port would stream) and the simulated transfer time
  // added to the latency.
  std::shared_ptr<const storage::Snapshot> snap_state;
  std::int64_t transfer_ms = 0;
  std::uint64_t sender_incarnation = 0;  // Replica::incarnation() at send
  ClientRequest request;
  ClientReply reply;
};

class Network {
 public:
  Network(const SimOptions& options, Rng* rng) : options_(options), rng_(rng) {}

  // Queues `p` sent at now_ms, applying loss, duplication and delay.
  void Send(Packet p, std::int64_t now_ms);
  // Removes and answers every packet due at or before now_ms whose link is
  // up, in delivery order (packets on a cut link are dropped).
  std::vector<Packet> DeliverDue(std::int64_t now_ms);

  // Cuts / restores the one-way link from -> to.
  void Cut(Endpoint from, Endpoint to) { cut_.insert({from, to}); }
  void HealAll() { cut_.clear(); }
  bool LinkUp(Endpoint from, Endpoint to) const { return cut_.count({from, to}) == 0; }
  const std::set<std::pair<Endpoint, Endpoint>>& cuts() const { return cut_; }

  // (from, to) of every MSG_SNAP lost since the last call: the sender learns
  // of the failure (raft's ReportSnapshot), as a real transport reports a
  // failed snapshot stream.
  std::vector<std::pair<Endpoint, Endpoint>> TakeLostSnapshots() {
    return std::exchange(lost_snapshots_, {});
  }
  // Records a lost packet (and a lost snapshot for its sender).
  void RecordLoss(const Packet& p) {
    ++dropped_;
    if (p.kind == Packet::Kind::kRaft && p.raft.type() == raft::pb::MSG_SNAP) {
      lost_snapshots_.emplace_back(p.from, p.to);
    }
  }

  // Faults off (liveness phase): no loss, duplication or reordering.
  void SetCalm() { calm_ = true; }

  std::size_t in_flight() const { return queue_.size(); }
  // Packets in flight counted by kind and raft message type, most first
  // (for diagnosing a message storm).
  std::string DescribeInFlight() const;
  std::uint64_t sent() const { return sent_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void Enqueue(Packet p, std::int64_t now_ms);

  const SimOptions& options_;
  Rng* rng_;
  bool calm_ = false;
  std::uint64_t seq_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, Packet> queue_;
  std::set<std::pair<Endpoint, Endpoint>> cut_;
  std::vector<std::pair<Endpoint, Endpoint>> lost_snapshots_;
};

}  // namespace aspen::sim
