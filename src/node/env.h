// The node's view of the outside world: time and the network. The Ready loop
// (node.h) reaches the clock and the peers only through these interfaces, so
// the simulator (sim/) can supply deterministic ones and tests can supply an
// in-memory network. The disk is storage::Store (RocksStore or MemStore).
#pragma once

#include <cstdint>
#include <vector>

#include "raft/types.h"

namespace aspen::node {

// Time sources.
//
// NowMs is wall time (ms since the Unix epoch). It is read by the node that
// proposes a command and stored in Command.now_ms, so the state machine never
// reads a clock: TTL keys compare expires_at_ms against it.
//
// SteadyMs is monotonic time with an arbitrary origin. It drives the tick
// timer, proposal and read deadlines, and lease deadlines on the leader
// (a wall-clock jump never expires or extends a lease).
//
// Thread safety: both methods may be called from any thread at any time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t NowMs() const = 0;
  virtual std::int64_t SteadyMs() const = 0;
};

// The process clock (std::chrono::system_clock and steady_clock). Lives for
// the whole process; thread-safe.
Clock* RealClock();

// Sends raft messages to peers (each to Message::to()).
//
// Contract:
//   - Send never blocks: it copies or moves the messages into bounded
//     per-peer queues and returns. When a peer's queue is full, or the peer is
//     unknown or unreachable, the message is dropped (raft retransmits) and
//     the transport reports the peer with Node::ReportUnreachable(id).
//   - Messages to one peer are delivered in the order given (or dropped); no
//     ordering is promised across peers.
//   - On the receiving side the transport hands each message to that node's
//     Node::Receive().
//
// Thread safety: the node calls Send from its Ready loop thread only (one
// caller at a time); an implementation may deliver from its own threads.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Send(std::vector<raft::pb::Message> messages) = 0;
};

}  // namespace aspen::node
