// Config: everything that parameterizes one raft node. Validate() names the
// first invalid field; RawNode::Create refuses an invalid config.
#pragma once

#include <cstddef>
#include <cstdint>

#include "raft/error.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace aspen::raft {

enum class ReadOnlyOption {
  // ReadIndex confirms leadership with a heartbeat round to a quorum (Raft
  // thesis §6.4). Safe under any clock behaviour.
  kSafe,
  // ReadIndex trusts the leader's lease (check-quorum keeps it fresh): no
  // round trip, but it relies on bounded clock drift. Requires check_quorum.
  kLeaseBased,
};

// Bugs that the simulator switches on to prove its checkers catch them
// (docs/SIMULATOR.md). Never set outside tests: each breaks a Raft rule.
enum class TestingBug {
  kOff,
  // Grant votes (and pre-votes) without the §5.4.1 up-to-date log check.
  kVoteWithoutLogCheck,
};

struct Config {
  // Bound on election_tick, so tick arithmetic can never overflow.
  static constexpr int kMaxElectionTick = 1 << 20;

  // This node's id; never kNone.
  NodeId id = kNone;
  // Ticks without hearing from a leader before a follower campaigns. The
  // actual timeout is drawn uniformly from [election_tick, 2 * election_tick).
  int election_tick = 10;
  // Ticks between a leader's heartbeats. Requires heartbeat_tick < election_tick.
  int heartbeat_tick = 1;
  // Where raft reads its log; not owned, must outlive the node.
  const Storage* storage = nullptr;
  // On restart: the last index the application has applied (0 for a new node).
  std::uint64_t applied = 0;
  // Max bytes of entries per MsgApp (at least one entry is always sent).
  std::uint64_t max_size_per_msg = 1 << 20;
  // Max bytes of committed entries handed out per Ready.
  std::uint64_t max_committed_size_per_ready = 64 << 20;
  // Max payload bytes of entries the leader holds uncommitted; proposals past
  // it get ErrorCode::kLimitExceeded (back-pressure). 0: no limit.
  std::uint64_t max_uncommitted_entries_size = 64 << 20;
  // Max MsgApp messages in flight to one follower in replicate state (>= 1).
  std::size_t max_inflight_msgs = 256;
  // Max payload bytes in flight to one follower; 0: no byte bound.
  std::uint64_t max_inflight_bytes = 0;
  // Max read-index requests waiting for a quorum (or for the leader's first
  // commit); more get ErrorCode::kLimitExceeded.
  std::size_t max_pending_read_requests = 4096;
  // Leader steps down when a quorum was not heard from in an election timeout;
  // also enables the vote lease (a follower that heard from a leader within an
  // election timeout ignores vote requests).
  bool check_quorum = true;
  // Campaign with a pre-vote round first (Raft thesis §9.6), so a partitioned
  // node does not disrupt a stable leader when it rejoins.
  bool pre_vote = true;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  // Followers drop proposals instead of forwarding them to the leader.
  bool disable_proposal_forwarding = false;
  // Seed of the PRNG that randomizes election timeouts. The only source of
  // randomness in raft/; the same seed and inputs give the same outputs.
  std::uint64_t rand_seed = 1;
  // A leader that is the only voter hands out the entries of a Ready as
  // committed in that same Ready (committed_entries overlaps entries, and
  // hard_state carries the new commit), instead of one Ready later after
  // Advance() reports them persisted. The application must then persist the
  // entries, the hard state and the application of those committed entries
  // in ONE atomic write (ready.h, rule 3), so a crash keeps all or none; and
  // such a Ready's messages wait for that write (messages_may_precede_persist
  // is false), since they may tell a learner the new commit index.
  bool sole_voter_commits_in_ready = false;
  // Off by default; for the simulator's bug-injection proof only.
  TestingBug testing_bug = TestingBug::kOff;

  Error Validate() const;
};

}  // namespace aspen::raft
