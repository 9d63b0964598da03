// RawNode: the application's handle on one Raft node (etcd-io/raft rawnode.go).
// It validates input from the network, exposes the requests of the Raft paper
// as methods, and hands out the node's work as a Ready (see ready.h for the
// ordering rules the application must follow).
//
// Thread safety: none. One thread drives a RawNode; it never blocks, reads no
// clock and starts no threads. Time passes only through Tick().
//
// Every method that returns Error answers kOk when the request was accepted
// (which does not mean committed: proposals are committed when they appear in
// Ready::committed_entries).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "raft/config.h"
#include "raft/error.h"
#include "raft/raft.h"
#include "raft/ready.h"

namespace aspen::raft {

struct Status {
  NodeId id = kNone;
  SoftState soft_state;
  pb::HardState hard_state;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
  NodeId lead_transferee = kNone;
};

class RawNode {
 public:
  // Validates the config and the storage's initial state. kInvalidArgument
  // names the bad field (or an inconsistent stored hard state).
  static Result<std::unique_ptr<RawNode>> Create(const Config& config);

  // One logical clock tick: election timeouts and heartbeats are counted in ticks.
  void Tick();
  // Starts an election now (pre-vote first when enabled). No-op for a leader,
  // a learner or a node outside the configuration.
  void Campaign();
  // Proposes `data` as a normal entry. kProposalDropped: no leader known,
  // leadership transfer in progress, or this node left the configuration.
  // kLimitExceeded: the leader's uncommitted bytes are at their limit.
  // A follower forwards the proposal; it may still be lost (retry on timeout).
  Error Propose(std::string data);
  // Proposes a membership change. Besides Propose's errors: kProposalDropped
  // while an earlier conf change is not yet applied (one at a time);
  // kInvalidArgument for a change that would leave no voter.
  Error ProposeConfChange(const pb::ConfChange& cc);
  // Applies a committed conf change (from Ready::committed_entries) and
  // answers the new configuration. kInvalidArgument leaves it unchanged.
  Result<pb::ConfState> ApplyConfChange(const pb::ConfChange& cc);
  // Requests a linearizable read; `ctx` identifies it (unique per request)
  // and comes back in a Ready's read_states. kNoLeader when none is known.
  // kLimitExceeded when too many reads are pending.
  Error ReadIndex(std::string ctx);
  // Asks the leader to hand leadership to `transferee`. The leader stops
  // accepting proposals until the transfer finishes or an election timeout
  // passes. kInvalidArgument: transferee is not a voter.
  Error TransferLeadership(NodeId transferee);
  // Feeds a message received from a peer. kStepLocalMsg for a local-only
  // type; kStepPeerNotFound for a response from a non-member;
  // kInvalidArgument for a malformed message (never a crash).
  Error Step(const pb::Message& m);
  // The transport could not deliver to `id`.
  void ReportUnreachable(NodeId id);
  // The snapshot sent to `id` arrived (failed == false) or not.
  void ReportSnapshot(NodeId id, bool failed);

  // Whether GetReady() has work to hand out. False while a Ready is
  // outstanding (handed out and not yet advanced).
  bool HasReady() const;
  // Requires that the previous Ready was advanced (asserted). May return an
  // empty Ready when HasReady() is false.
  Ready GetReady();
  // The application finished the last Ready (ready.h, rule 5).
  void Advance();

  Status GetStatus() const;
  const Raft& raft() const { return *raft_; }

 private:
  explicit RawNode(const Config& config);
  Error ValidatePeerMessage(const pb::Message& m) const;
  // Sets *hs when the hard state differs from the last one handed out.
  bool HardStateChanged(pb::HardState* hs) const;

  // What Advance() must acknowledge of the Ready handed out.
  struct Outstanding {
    std::uint64_t last_entry_index = 0;  // 0: no entries
    std::uint64_t last_entry_term = 0;
    std::uint64_t snapshot_index = 0;        // 0: no snapshot
    std::uint64_t last_committed_index = 0;  // 0: no committed entries
    std::uint64_t committed_payload_bytes = 0;
  };

  std::unique_ptr<Raft> raft_;
  bool sole_voter_commits_in_ready_ = false;
  SoftState prev_soft_;
  pb::HardState prev_hard_;
  // Set between GetReady() and Advance().
  std::optional<Outstanding> outstanding_;
};

}  // namespace aspen::raft
